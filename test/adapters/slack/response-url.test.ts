import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createResponseUrlPoster } from '../../../src/adapters/slack/response-url.js';
import { slackErrorCode } from '../../../src/adapters/slack/slack-call.js';

/** A response_url endpoint: /ok takes the post, /gone answers 404 like an expired URL, /slow never answers. */
let server: http.Server;
let base: string;
const received: { contentType: string | undefined; body: unknown }[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.url === '/slow') return;
      if (req.url === '/gone') {
        res.writeHead(404).end('expired_url');
        return;
      }
      received.push({ contentType: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('posting to a response_url', () => {
  it('when the URL takes the message, then it got the JSON and the post resolves, over one kept-alive connection', async () => {
    const post = createResponseUrlPoster();
    await post(`${base}/ok`, { response_type: 'ephemeral', text: 'one' });
    await post(`${base}/ok`, { response_type: 'ephemeral', text: 'two' });
    assert.deepEqual(received, [
      { contentType: 'application/json', body: { response_type: 'ephemeral', text: 'one' } },
      { contentType: 'application/json', body: { response_type: 'ephemeral', text: 'two' } },
    ]);
    const connections = await new Promise<number>((resolve, reject) =>
      server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
    );
    assert.equal(connections, 1);
  });

  it('when the URL refuses, is not reachable in time or is not http(s), then the post fails with a label for the metrics', async () => {
    const post = createResponseUrlPoster(200);
    const labelOf = (url: string) =>
      post(url, { text: 'x' }).then(
        () => 'resolved',
        (error: unknown) => slackErrorCode(error),
      );
    assert.equal(await labelOf(`${base}/gone`), 'response_url_http_404');
    assert.equal(await labelOf(`${base}/slow`), 'response_url_unreachable');
    assert.equal(await labelOf('http://127.0.0.1:1/closed'), 'response_url_unreachable');
    assert.equal(await labelOf('file:///etc/passwd'), 'response_url_unreachable');
  });
});
