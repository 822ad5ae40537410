// The floor for ack latency: a bare node:http server that does the least any Slack endpoint must do: read the
// body, check the timestamp and the v0 HMAC signature (with the bot's own check), answer 200 `{}`. Run as a child
// process (forked with IPC and FLOOR_SIGNING_SECRET set), it sends `{ port }` once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedBySlack } from '../../src/adapters/slack/signature.js';

const secret = process.env.FLOOR_SIGNING_SECRET ?? '';
if (!secret || !process.send) {
  console.error('floor-server: fork me with IPC and FLOOR_SIGNING_SECRET set');
  process.exit(2);
}

function verified(timestamp: string | undefined, signature: string | undefined, body: Buffer): boolean {
  if (!timestamp || !signature) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  return signedBySlack(secret, timestamp, signature, body);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const ok = verified(
      req.headers['x-slack-request-timestamp'] as string | undefined,
      req.headers['x-slack-signature'] as string | undefined,
      Buffer.concat(chunks),
    );
    const body = ok ? '{}' : '{"error":"invalid signature"}';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
