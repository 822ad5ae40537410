import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { App } from '@slack/bolt';
import { SlackEventsReceiver } from '../../../src/adapters/slack/events-receiver.js';
import { signSlackRequest } from '../../fakes/slack/slack-driver.js';

// A Bolt app (no Slack behind it: a known bot identity instead of auth.test) whose listeners each do one
// thing a listener may do, served through the receiver on a node:http server.
const SECRET = 'receiver-test-signing-secret';
const FORM = 'application/x-www-form-urlencoded';
const logged: { level: string; message: string }[] = [];
const logger = {
  debug() {},
  info() {},
  warn: (_fields: object, message: string) => void logged.push({ level: 'warn', message }),
  error: (_fields: object, message: string) => void logged.push({ level: 'error', message }),
};
const ran: string[] = [];
const answered: string[] = [];
const requests = {
  observe: ({ type, status }: { type: string; status: number }, seconds: number) => {
    assert.ok(seconds >= 0 && seconds < 10, `a duration in seconds: ${seconds}`);
    answered.push(`${type} ${status}`);
  },
};
let server: http.Server;
let url: string;

before(async () => {
  const receiver = new SlackEventsReceiver({
    signingSecret: SECRET,
    logger,
    requests,
    maxBodyBytes: 64 * 1024,
    unackedAfterMs: 200,
  });
  const app = new App({
    token: 'xoxb-receiver-test',
    botId: 'B0TEST',
    botUserId: 'U0BOT',
    tokenVerificationEnabled: false,
    convoStore: false,
    receiver,
  });
  app.command('/sandbox', async ({ command, ack, context }) => {
    ran.push(`${command.text} retry=${context.retryNum ?? '-'}:${context.retryReason ?? '-'}`);
    switch (command.text) {
      case 'object':
        await ack({ response_type: 'ephemeral', text: 'café ✓' });
        return;
      case 'string':
        await ack('plain text');
        return;
      case 'silent':
        return; // never acks
      case 'throw-before-ack':
        throw new Error('listener bug');
      case 'throw-after-ack':
        await ack();
        throw new Error('listener bug after the ack');
      default:
        await ack();
    }
  });
  app.error(async (error) => {
    throw error;
  });
  server = http.createServer(receiver.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function post(body: string, contentType = FORM, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...signSlackRequest(SECRET, body), ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
const command = (text: string) =>
  new URLSearchParams({ command: '/sandbox', text, user_id: 'U0ALICE' }).toString();

describe('the Slack events receiver', () => {
  it('when a listener acks with a message, then Slack gets it as JSON with a Content-Length (not chunked)', async () => {
    const answer = await post(command('object'));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.equal(answer.headers.get('content-length'), String(Buffer.byteLength(answer.text)));
    assert.equal(answer.headers.get('transfer-encoding'), null);
    assert.deepEqual(JSON.parse(answer.text), { response_type: 'ephemeral', text: 'café ✓' });

    const text = await post(command('string'));
    assert.deepEqual([text.status, text.text], [200, 'plain text']);
    const empty = await post(command('empty'));
    assert.deepEqual([empty.status, empty.text, empty.headers.get('content-length')], [200, '', '0']);
    assert.deepEqual(answered.splice(0), ['slash_command 200', 'slash_command 200', 'slash_command 200']);
  });

  it('when Slack retries a request, then the listener sees the retry number and reason', async () => {
    await post(command('retried'), FORM, {
      'x-slack-retry-num': '2',
      'x-slack-retry-reason': 'http_timeout',
    });
    assert.ok(ran.includes('retried retry=2:http_timeout'), ran.join('\n'));
  });

  it('when Slack checks the URL (url_verification, ssl_check), then it gets its answer and no listener runs', async () => {
    const before = ran.length;
    const challenge = await post(
      JSON.stringify({ type: 'url_verification', token: 't', challenge: 'c-123' }),
      'application/json',
    );
    assert.deepEqual([challenge.status, JSON.parse(challenge.text)], [200, { challenge: 'c-123' }]);
    const ssl = await post(new URLSearchParams({ ssl_check: '1', token: 't' }).toString());
    assert.deepEqual([ssl.status, ssl.text], [200, '']);
    assert.deepEqual(answered.slice(-2), ['url_verification 200', 'ssl_check 200']);
    assert.equal(ran.length, before);
  });

  it('when Slack sends its ssl_check unsigned, as it does, then 200 with an empty body and nothing else unsigned gets through', async () => {
    const before = ran.length;
    const unsigned = (body: string, contentType = FORM) =>
      fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body }).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      }));
    const ssl = await unsigned(new URLSearchParams({ ssl_check: '1', token: 't' }).toString());
    assert.deepEqual([ssl.status, ssl.text], [200, '']);
    const smuggled = await unsigned(
      new URLSearchParams({
        ssl_check: '1',
        command: '/sandbox',
        text: 'smuggled',
        user_id: 'U0ALICE',
      }).toString(),
    );
    assert.deepEqual([smuggled.status, smuggled.text], [200, '']);
    const withPayload = await unsigned(
      new URLSearchParams({ ssl_check: '1', payload: JSON.stringify({ type: 'block_actions' }) }).toString(),
    );
    assert.deepEqual([withPayload.status, withPayload.text], [200, '']);
    assert.deepEqual(answered.splice(0).slice(-3), Array(3).fill('ssl_check 200'));

    const refused = [
      await unsigned(command('unsigned')),
      await unsigned(new URLSearchParams({ ssl_check: '0' }).toString()),
      await unsigned(JSON.stringify({ ssl_check: '1' }), 'application/json'),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      [401, 401, 401],
    );
    assert.deepEqual(answered.splice(0).slice(-3), Array(3).fill('unknown 401'));
    assert.equal(ran.length, before, 'no listener ran');
  });

  it('when the body is not what Slack sends, too large, or not a POST, then 400, 413 or 405 and no listener runs', async () => {
    const before = ran.length;
    assert.equal((await post('{"type": "event_callback"', 'application/json')).status, 400);
    assert.equal((await post('[1, 2]', 'application/json')).status, 400);
    assert.equal((await post(command('x'.repeat(70 * 1024)))).status, 413);
    const get = await fetch(url);
    assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
    assert.equal(ran.length, before);
    assert.ok(logged.some((l) => l.level === 'warn' && /413|larger than 65536 bytes/.test(l.message)));
  });

  it('when the signature is missing or wrong or the timestamp is far from now, then 401 and the log says why', async () => {
    const before = ran.length;
    const body = command('forged');
    const wrong = await post(body, FORM, { 'x-slack-signature': `v0=${'0'.repeat(64)}` });
    const signed = signSlackRequest(SECRET, body);
    const hash = signed['x-slack-signature'].slice(3);
    const forgeries = [
      { ...signed, 'x-slack-signature': `v1=${hash}` },
      { ...signed, 'x-slack-signature': hash },
      { ...signed, 'x-slack-signature': `v0=${hash.slice(0, 10)}` },
      // As long as a good signature in characters, twice as long in bytes.
      { ...signed, 'x-slack-signature': `v0=${'é'.repeat(64)}` },
    ];
    const forged = await Promise.all(forgeries.map((headers) => post(body, FORM, headers)));
    const tampered = await post(command('tampered'), FORM, { ...signed });
    const future = await post(body, FORM, {
      ...signSlackRequest(SECRET, body, Math.floor(Date.now() / 1000) + 6 * 60),
    });
    // Unsigned: read only as far as an ssl_check could go, however large it is.
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'x'.repeat(70 * 1024),
    });
    const statuses = [wrong, ...forged, tampered, future, unsigned].map((r) => r.status);
    assert.deepEqual(statuses, Array(8).fill(401));
    assert.deepEqual(answered.splice(0).slice(-8), Array(8).fill('unknown 401'));
    assert.equal(ran.length, before);
    assert.ok(logged.some((l) => /signature does not match/.test(l.message)));
    assert.ok(
      logged.some((l) =>
        /timestamp is 3[56]\d s ahead of this host's clock, more than five minutes .*check its time sync/.test(
          l.message,
        ),
      ),
    );
  });

  it('when a listener fails before its ack, then 500; after its ack, Slack still has its 200', async () => {
    assert.equal((await post(command('throw-before-ack'))).status, 500);
    assert.equal((await post(command('throw-after-ack'))).status, 200);
  });

  it('when no listener acks in time, then 404 and an error in the log', async () => {
    const answer = await post(command('silent'));
    assert.equal(answer.status, 404);
    assert.deepEqual(answered.slice(-1), ['slash_command 404']);
    assert.ok(logged.some((l) => l.level === 'error' && /not acknowledged within 200 ms/.test(l.message)));
  });
});
