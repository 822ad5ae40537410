// A second reference for ack latency: a bare Bolt app (ExpressReceiver on express, as the bot uses it) whose
// listeners only ack: what the framework alone costs per request, between the node:http floor and the bot.
// Run as a child process (forked with IPC and FLOOR_SIGNING_SECRET set), it sends `{ port }` once listening.
import type { AddressInfo } from 'node:net';
import { App, ExpressReceiver } from '@slack/bolt';
import express from 'express';

const secret = process.env.FLOOR_SIGNING_SECRET ?? '';
if (!secret || !process.send) {
  console.error('bolt-floor-server: fork me with IPC and FLOOR_SIGNING_SECRET set');
  process.exit(2);
}

const http = express();
const receiver = new ExpressReceiver({ signingSecret: secret, app: http, endpoints: '/slack/events' });
// A known bot identity instead of auth.test: this process talks to no Slack.
const app = new App({
  token: 'xoxb-bolt-floor',
  botId: 'B0FLOOR',
  botUserId: 'U0FLOOR',
  tokenVerificationEnabled: false,
  convoStore: false,
  receiver,
});
app.command('/sandbox', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'ok' });
});
app.action(/.*/, async ({ ack }) => {
  await ack();
});

const server = http.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
