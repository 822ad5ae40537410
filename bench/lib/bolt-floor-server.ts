// A second reference for ack latency: a bare Bolt app (on the bot's receiver and node:http, as the bot uses
// them) whose listeners only ack: what the framework alone costs per request, between the node:http floor and
// the bot. Run as a child process (forked with IPC and FLOOR_SIGNING_SECRET set), it sends `{ port }` once
// listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { SlackEventsReceiver } from '../../src/adapters/slack/events-receiver.js';

const secret = process.env.FLOOR_SIGNING_SECRET ?? '';
if (!secret || !process.send) {
  console.error('bolt-floor-server: fork me with IPC and FLOOR_SIGNING_SECRET set');
  process.exit(2);
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const receiver = new SlackEventsReceiver({ signingSecret: secret, logger: quiet });
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

const server = createServer(receiver.handle).listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
