// The fake Slack must behave like Slack for the real WebClient, or every Slack test built on it lies.
// These tests drive it only through @slack/web-api's WebClient (as re-exported by Bolt) and raw HTTP.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SlashCommand } from '@slack/bolt';
import { webApi } from '@slack/bolt';
import { startBoltTestApp } from './bolt-test-app.js';
import type { FakeSlack, FakeSlackOptions } from './fake-slack.js';
import { FAKE_BOT, FAKE_TEAM, startFakeSlack } from './fake-slack.js';
import { signSlackRequest } from './slack-driver.js';

const { WebClient, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } =
  webApi;
type WebClientInstance = InstanceType<typeof WebClient>;
type ClientOptions = NonNullable<ConstructorParameters<typeof WebClient>[1]>;

// The WebClient logs Slack's `[ERROR]` response metadata; the rejection tests would flood the output.
const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName() {},
};

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const APPROVALS = 'C0APPROVALS';
const RANDOM = 'C0RANDOM';

let fake: FakeSlack;
let client: WebClientInstance;

function clientFor(token: string | undefined, options: ClientOptions = {}): WebClientInstance {
  return new WebClient(token, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    timeout: 2000,
    logger: silentLogger,
    ...options,
  });
}

async function setUp(options: FakeSlackOptions = {}): Promise<void> {
  fake = await startFakeSlack(options);
  fake.addUser({ id: ALICE, name: 'alice', realName: 'Alice Example' });
  fake.addUser({ id: BOB, name: 'bob' });
  fake.addChannel({ id: APPROVALS, name: 'sandbox-approvals', members: [FAKE_BOT.userId, BOB] });
  fake.addChannel({ id: RANDOM, name: 'random', members: [ALICE] });
  client = clientFor(fake.botToken);
}

/** Asserts a Slack platform error (HTTP 200, ok:false) with this code, and returns its body. */
async function rejectsWith(call: Promise<unknown>, error: string): Promise<Record<string, unknown>> {
  let caught: unknown;
  await assert.rejects(call, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof WebAPIPlatformError, `expected WebAPIPlatformError, got ${String(caught)}`);
  assert.equal(caught.data.error, error);
  // A copy, because WebAPICallResult is an interface without an index signature.
  return { ...caught.data };
}

// Block builders are loosely typed on purpose (many tests build invalid blocks), so calls pass them
// through the WebClient's strict Block Kit types with `as never`.
const section = (text: string, blockId?: string) => ({
  type: 'section',
  ...(blockId === undefined ? {} : { block_id: blockId }),
  text: { type: 'mrkdwn', text },
});
const button = (overrides: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: 'approve_request',
  value: 'sbx-42',
  text: { type: 'plain_text', text: 'Approve' },
  ...overrides,
});
const modal = (overrides: Record<string, unknown> = {}) => ({
  type: 'modal',
  callback_id: 'sandbox_request',
  title: { type: 'plain_text', text: 'Request a sandbox' },
  submit: { type: 'plain_text', text: 'Request' },
  blocks: [section('Pick a size')],
  ...overrides,
});

describe('fake Slack: messages', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when the bot posts twice to a channel it is in, then each ts is "<unix>.<6 digits>", increasing, and the channel keeps both', async () => {
    const blocks = [section('*sbx-42* needs approval', 'req-sbx-42')];
    const first = await client.chat.postMessage({
      channel: APPROVALS,
      text: 'sbx-42 needs approval',
      blocks,
    });
    const second = await client.chat.postMessage({ channel: APPROVALS, text: 'second' });

    assert.match(first.ts ?? '', /^\d{10}\.\d{6}$/);
    assert.ok(Number(second.ts) > Number(first.ts));
    assert.equal(first.channel, APPROVALS);
    assert.equal(first.message?.user, FAKE_BOT.userId);
    assert.equal(first.message?.bot_id, FAKE_BOT.botId);
    assert.deepEqual(
      fake.messages(APPROVALS).map((m) => m.text),
      ['sbx-42 needs approval', 'second'],
    );
    const call = fake.callsTo('chat.postMessage')[0];
    assert.deepEqual(call?.args.blocks, blocks, 'blocks are JSON-decoded in the journal');
    assert.equal(call?.token, fake.botToken);
  });

  it('when a channel is addressed by #name, then Slack resolves it and answers with the id', async () => {
    const result = await client.chat.postMessage({ channel: '#sandbox-approvals', text: 'hi' });
    assert.equal(result.channel, APPROVALS);
  });

  it('when the bot is not a member of the channel, then chat.postMessage fails with not_in_channel', async () => {
    await rejectsWith(client.chat.postMessage({ channel: RANDOM, text: 'hello' }), 'not_in_channel');
    assert.deepEqual(fake.messages(RANDOM), []);
  });

  it('when the token has chat:write.public, then the bot may post in a public channel it is not in', async () => {
    await fake.stop();
    await setUp({ scopes: ['chat:write', 'chat:write.public'] });
    await client.chat.postMessage({ channel: RANDOM, text: 'hello' });
    assert.equal(fake.messages(RANDOM).length, 1);
  });

  it('when the bot is not in a private channel, then chat.postMessage gets channel_not_found, as Slack hides it', async () => {
    fake.addChannel({ id: 'G0SECRET', name: 'secret', members: [ALICE], isPrivate: true });
    await rejectsWith(client.chat.postMessage({ channel: 'G0SECRET', text: 'hello' }), 'channel_not_found');
    assert.deepEqual(fake.messages('G0SECRET'), []);
  });

  it('when the bot posts to a D… DM it never opened (e.g. one between two people), then channel_not_found', async () => {
    await rejectsWith(client.chat.postMessage({ channel: 'D0ALICE', text: 'hi' }), 'channel_not_found');
    await client.conversations.open({ users: ALICE });
    await client.chat.postMessage({ channel: 'D0ALICE', text: 'hi' });
    assert.equal(fake.messages('D0ALICE').length, 1);
  });

  it('when the channel does not exist, then channel_not_found', async () => {
    await rejectsWith(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }), 'channel_not_found');
  });

  it('when there is neither text nor blocks, then no_text', async () => {
    await rejectsWith(client.apiCall('chat.postMessage', { channel: APPROVALS }), 'no_text');
  });

  it('when the bot opens a DM twice and posts to the user id, then both land in one stable D channel', async () => {
    const first = await client.conversations.open({ users: ALICE });
    const again = await client.conversations.open({ users: ALICE });
    const posted = await client.chat.postMessage({ channel: ALICE, text: 'Your sandbox is ready' });

    assert.equal(first.channel?.id, 'D0ALICE');
    assert.equal(again.channel?.id, 'D0ALICE');
    assert.equal(again.already_open, true);
    assert.equal(posted.channel, 'D0ALICE');
    assert.equal(fake.dmChannelOf(ALICE), 'D0ALICE');
    assert.deepEqual(
      fake.messages(ALICE).map((m) => m.text),
      ['Your sandbox is ready'],
    );
  });

  it('when conversations.open names an unknown user, then user_not_found', async () => {
    await rejectsWith(client.conversations.open({ users: 'U0GHOST' }), 'user_not_found');
  });

  it('when a reply names a thread_ts that is not a parent message, then thread_not_found', async () => {
    const parent = await client.chat.postMessage({ channel: APPROVALS, text: 'parent' });
    const reply = await client.chat.postMessage({
      channel: APPROVALS,
      text: 'smoke ok',
      thread_ts: parent.ts!,
    });

    await rejectsWith(
      client.chat.postMessage({ channel: APPROVALS, text: 'x', thread_ts: '1000000000.000001' }),
      'thread_not_found',
    );
    await rejectsWith(
      client.chat.postMessage({ channel: APPROVALS, text: 'x', thread_ts: reply.ts! }),
      'thread_not_found',
    );
    assert.deepEqual(
      fake.thread(APPROVALS, parent.ts!).map((m) => m.text),
      ['parent', 'smoke ok'],
    );
    assert.deepEqual(
      fake.messages(APPROVALS).map((m) => m.text),
      ['parent'],
      'replies stay out of the channel history',
    );
    assert.equal(fake.message(APPROVALS, parent.ts!)?.reply_count, 1);
  });

  it('when the bot updates its own message with text only, then the text changes and the blocks are kept', async () => {
    const blocks = [section('pending', 'status')];
    const posted = await client.chat.postMessage({ channel: APPROVALS, text: 'pending', blocks });
    const updated = await client.chat.update({ channel: APPROVALS, ts: posted.ts!, text: 'approved' });

    assert.equal(updated.ts, posted.ts);
    const stored = fake.message(APPROVALS, posted.ts!);
    assert.equal(stored?.text, 'approved');
    assert.deepEqual(stored?.blocks, blocks);
    assert.ok(stored?.edited !== undefined);
  });

  it('when chat.update names a missing ts or a human message, then message_not_found or cant_update_message', async () => {
    const human = fake.addMessage({ channel: APPROVALS, user: BOB, text: 'mine' });
    await rejectsWith(
      client.chat.update({ channel: APPROVALS, ts: '1000000000.000001', text: 'x' }),
      'message_not_found',
    );
    await rejectsWith(
      client.chat.update({ channel: APPROVALS, ts: human.ts, text: 'x' }),
      'cant_update_message',
    );
  });

  it('when the bot posts an ephemeral message, then only that user sees it and Slack returns message_ts', async () => {
    const result = await client.chat.postEphemeral({
      channel: APPROVALS,
      user: BOB,
      text: 'already approved',
    });
    assert.match(result.message_ts ?? '', /^\d{10}\.\d{6}$/);
    assert.deepEqual(
      fake.ephemerals(BOB).map((e) => e.text),
      ['already approved'],
    );
    assert.deepEqual(fake.ephemerals(ALICE), []);
    await rejectsWith(
      client.chat.postEphemeral({ channel: APPROVALS, user: ALICE, text: 'x' }),
      'user_not_in_channel',
    );
  });
});

describe('fake Slack: authentication and unknown methods', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when auth.test is called with the bot token, then it answers with the bot and team ids', async () => {
    const result = await client.auth.test();
    assert.equal(result.user_id, FAKE_BOT.userId);
    assert.equal(result.bot_id, FAKE_BOT.botId);
    assert.equal(result.team_id, FAKE_TEAM.id);
    assert.equal(result.enterprise_id, undefined, 'a workspace outside Enterprise Grid has no org');
  });

  it('when the workspace is in an Enterprise Grid org, then auth.test names the org too', async () => {
    await fake.stop();
    await setUp({ enterprise: { id: 'E0ACME', name: 'Acme' } });
    const result = await client.auth.test();
    assert.equal(result.team_id, FAKE_TEAM.id);
    assert.equal(result.enterprise_id, 'E0ACME');
  });

  it('when the token is wrong, then invalid_auth; when there is none, then not_authed', async () => {
    await rejectsWith(
      clientFor('xoxb-wrong').chat.postMessage({ channel: APPROVALS, text: 'x' }),
      'invalid_auth',
    );
    await rejectsWith(clientFor(undefined).auth.test(), 'not_authed');
  });

  it('when the token is only in the body, then Slack accepts it like the Authorization header', async () => {
    const response = await fetch(fake.url('/api/auth.test'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${fake.botToken}`,
    });
    assert.equal(((await response.json()) as { ok: boolean }).ok, true);
  });

  it('when a JSON body carries the token and there is no Authorization header, then not_authed, as Slack reads it only from the header', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(fake.url('/api/auth.test'), {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify({ token: fake.botToken }),
      }).then((r) => r.json() as Promise<{ ok: boolean; error?: string }>);
    assert.deepEqual(await post({}), { ok: false, error: 'not_authed' });
    assert.equal((await post({ authorization: `Bearer ${fake.botToken}` })).ok, true);
  });

  it('when apps.connections.open is called, then only the app-level token gets a WebSocket URL, and other methods refuse that token', async () => {
    await rejectsWith(client.apiCall('apps.connections.open'), 'not_allowed_token_type');
    await rejectsWith(clientFor('xapp-1-wrong').apiCall('apps.connections.open'), 'invalid_auth');
    await rejectsWith(clientFor(fake.appToken).auth.test(), 'not_allowed_token_type');
    const opened = await clientFor(fake.appToken).apiCall('apps.connections.open');
    assert.match(String((opened as { url?: string }).url), /^ws:\/\/127\.0\.0\.1:\d+\/link\?ticket=\w+$/);
    assert.equal(fake.socketModeConnections(), 0);
  });

  it('when a method does not exist, then unknown_method', async () => {
    await rejectsWith(client.apiCall('sandbox.doesNotExist'), 'unknown_method');
  });

  it('when the token lacks the scope a method needs, then missing_scope names needed and provided', async () => {
    await fake.stop();
    await setUp({ scopes: ['chat:write'] });
    const data = await rejectsWith(client.users.info({ user: ALICE }), 'missing_scope');
    assert.equal(data.needed, 'users:read');
    assert.equal(data.provided, 'chat:write');
  });
});

describe('fake Slack: users and usergroups', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when users.info asks for a seeded user, then it gets the profile; for an unknown one, user_not_found', async () => {
    const result = await client.users.info({ user: ALICE });
    assert.equal(result.user?.name, 'alice');
    assert.equal(result.user?.real_name, 'Alice Example');
    assert.equal(result.user?.is_bot, false);
    await rejectsWith(client.users.info({ user: 'U0GHOST' }), 'user_not_found');
  });

  it('when usergroups.users.list asks for a seeded group, then it gets the members; otherwise no_such_subteam', async () => {
    fake.addUsergroup('S0APPROVERS', [BOB]);
    const result = await client.usergroups.users.list({ usergroup: 'S0APPROVERS' });
    assert.deepEqual(result.users, [BOB]);
    await rejectsWith(client.usergroups.users.list({ usergroup: 'S0NOPE' }), 'no_such_subteam');
  });
});

describe('fake Slack: files.uploadV2', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when the bot uploads a kubeconfig to a DM, then the bytes arrive intact and a message carries the file', async () => {
    const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters:\n- name: sbx-42 # ünïcødé\n';
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const dm = (await client.conversations.open({ users: ALICE })).channel!.id!;

    const result = await client.files.uploadV2({
      channel_id: dm,
      initial_comment: 'Your sandbox is ready',
      file_uploads: [
        { content: kubeconfig, filename: 'kubeconfig-sbx-42.yaml', title: 'kubeconfig' },
        { file: binary, filename: 'all-bytes.bin' },
      ],
    });

    // uploadV2 nests one completeUploadExternal response per channel/comment group.
    const completed = (result as unknown as { files: { files: { id: string; title: string }[] }[] }).files;
    const ids = completed[0]?.files.map((f) => f.id) ?? [];
    assert.equal(ids.length, 2);
    const [yamlFile, binFile] = ids.map((id) => fake.files().get(id));
    assert.equal(yamlFile?.text, kubeconfig);
    assert.equal(yamlFile?.title, 'kubeconfig');
    assert.equal(yamlFile?.channel_id, dm);
    assert.equal(yamlFile?.initial_comment, 'Your sandbox is ready');
    assert.ok(binFile?.bytes?.equals(binary), 'binary bytes survive the multipart upload');
    const message = fake.messages(ALICE)[0];
    assert.equal(message?.text, 'Your sandbox is ready');
    assert.deepEqual(
      ((message?.files ?? []) as { id: string }[]).map((f) => f.id),
      ids,
    );
  });

  it('when the uploaded bytes differ from the announced length, then completeUploadExternal fails', async () => {
    const announced = await client.files.getUploadURLExternal({ filename: 'x.txt', length: 10 });
    const upload = await fetch(announced.upload_url!, { method: 'POST', body: 'short' });
    assert.equal(upload.status, 200);
    assert.equal(await upload.text(), 'OK - 5');

    await rejectsWith(
      client.files.completeUploadExternal({ files: [{ id: announced.file_id! }], channel_id: APPROVALS }),
      'file_upload_size_mismatch',
    );
  });

  it('when a file was never uploaded or is unknown, then file_not_found; an unknown upload URL answers 404', async () => {
    const announced = await client.files.getUploadURLExternal({ filename: 'x.txt', length: 3 });
    await rejectsWith(
      client.files.completeUploadExternal({ files: [{ id: announced.file_id! }] }),
      'file_not_found',
    );
    await rejectsWith(client.files.completeUploadExternal({ files: [{ id: 'F0NOPE' }] }), 'file_not_found');
    assert.equal((await fetch(fake.url('/upload/v1/nope'), { method: 'POST', body: 'abc' })).status, 404);
  });
});

describe('fake Slack: fault injection through the WebClient', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when the next call gets 429 with Retry-After, then a client that rejects rate-limited calls throws WebAPIRateLimitedError', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const strict = clientFor(fake.botToken, { rejectRateLimitedCalls: true });
    await assert.rejects(
      strict.chat.postMessage({ channel: APPROVALS, text: 'x' }),
      (e: unknown) => e instanceof WebAPIRateLimitedError && e.retryAfter === 1,
    );
  });

  it('when one call gets 429 with Retry-After: 1, then the default client waits and its retry succeeds', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const patient = clientFor(fake.botToken, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    const started = Date.now();
    await patient.chat.postMessage({ channel: APPROVALS, text: 'eventually' });
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After');
    assert.equal(fake.callsTo('chat.postMessage').length, 2);
    assert.equal(fake.messages(APPROVALS).length, 1);
  });

  it('when a channel is over its post rate limit, then Slack answers 429 with Retry-After and ratelimited, other conversations still take posts, and the channel takes posts again once the window has passed', async () => {
    fake.limitPostsPerChannel({ posts: 2, windowMs: 1000 });
    const post = (channel: string) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake.botToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel, text: 'hi' }),
      });
    assert.equal((await post(APPROVALS)).status, 200);
    assert.equal((await post(APPROVALS)).status, 200);
    const limited = await post(APPROVALS);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.deepEqual(await limited.json(), { ok: false, error: 'ratelimited' });
    assert.equal(fake.messages(APPROVALS).length, 2, 'the refused post is not kept');
    assert.equal((await post(ALICE)).status, 200, "the bot's DM with alice has a limit of its own");

    const strict = clientFor(fake.botToken, { rejectRateLimitedCalls: true });
    await assert.rejects(
      strict.chat.postMessage({ channel: APPROVALS, text: 'x' }),
      (e: unknown) => e instanceof WebAPIRateLimitedError && e.retryAfter === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await strict.chat.postMessage({ channel: APPROVALS, text: 'later' });
    fake.limitPostsPerChannel(undefined);
    assert.equal((await post(APPROVALS)).status, 200);
    assert.deepEqual(
      fake.callsTo('chat.postMessage').map((c) => c.response?.error ?? 'ok'),
      ['ok', 'ok', 'ratelimited', 'ok', 'ratelimited', 'ok', 'ok'],
    );
  });

  it('when the next call gets HTTP 500, then WebAPIHTTPError with statusCode 500, and the call after that works', async () => {
    fake.failNext('chat.postMessage', { status: 500 });
    await assert.rejects(
      client.chat.postMessage({ channel: APPROVALS, text: 'x' }),
      (e: unknown) => e instanceof WebAPIHTTPError && e.statusCode === 500,
    );
    await client.chat.postMessage({ channel: APPROVALS, text: 'y' });
    assert.deepEqual(
      fake.messages(APPROVALS).map((m) => m.text),
      ['y'],
    );
  });

  it('when a platform error is injected twice, then two calls get it and the third succeeds', async () => {
    fake.failNext('users.info', { ok: false, error: 'fatal_error' }, 2);
    await rejectsWith(client.users.info({ user: ALICE }), 'fatal_error');
    await rejectsWith(client.users.info({ user: ALICE }), 'fatal_error');
    await client.users.info({ user: ALICE });
  });

  it('when the connection is dropped or answers slower than the client timeout, then WebAPIRequestError', async () => {
    fake.failNext('chat.postMessage', { drop: true });
    await assert.rejects(
      client.chat.postMessage({ channel: APPROVALS, text: 'x' }),
      (e: unknown) => e instanceof WebAPIRequestError,
    );
    fake.failNext('chat.postMessage', { delayMs: 300 });
    await assert.rejects(
      clientFor(fake.botToken, { timeout: 100 }).chat.postMessage({ channel: APPROVALS, text: 'x' }),
      (e: unknown) => e instanceof WebAPIRequestError,
    );
  });

  it('when a fault is set to always apply, then it applies until faults are cleared', async () => {
    fake.failAlways('auth.test', { ok: false, error: 'account_inactive' });
    await rejectsWith(client.auth.test(), 'account_inactive');
    await rejectsWith(client.auth.test(), 'account_inactive');
    fake.clearFaults();
    await client.auth.test();
  });

  it('when waitForCall times out, then the error lists what was called', async () => {
    await client.auth.test();
    await assert.rejects(fake.waitForCall('chat.update', undefined, 50), /chat\.update.*auth\.test → ok/);
  });
});

describe('fake Slack: Block Kit rejections', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  const tooLong = (n: number) => 'x'.repeat(n);
  const messageCases: [string, unknown[], RegExp][] = [
    ['51 blocks', Array.from({ length: 51 }, (_, i) => section(`b${i}`)), /json-pointer:\/blocks\]/],
    ['section text of 3001 characters', [section(tooLong(3001))], /\/blocks\/0\/text\/text/],
    [
      'a header of 151 characters',
      [{ type: 'header', text: { type: 'plain_text', text: tooLong(151) } }],
      /\/blocks\/0\/text\/text/,
    ],
    [
      'button text of 76 characters',
      [{ type: 'actions', elements: [button({ text: { type: 'plain_text', text: tooLong(76) } })] }],
      /elements\/0\/text\/text/,
    ],
    [
      'a button value of 2001 characters',
      [{ type: 'actions', elements: [button({ value: tooLong(2001) })] }],
      /elements\/0\/value/,
    ],
    ['a block_id of 256 characters', [section('x', tooLong(256))], /\/blocks\/0\/block_id/],
    ['duplicate block_ids', [section('a', 'same'), section('b', 'same')], /duplicate block_id/],
    [
      'a button style other than primary/danger',
      [{ type: 'actions', elements: [button({ style: 'secondary' })] }],
      /style/,
    ],
    [
      'duplicate action_ids in one block',
      [{ type: 'actions', elements: [button(), button({ value: 'other' })] }],
      /duplicate action_id/,
    ],
    ['an unknown block type', [{ type: 'banner', text: 'x' }], /unsupported block type/],
    [
      'a mrkdwn text object with emoji (a plain_text property)',
      [{ type: 'section', text: { type: 'mrkdwn', text: 'x', emoji: true } }],
      /invalid additional property: emoji \[json-pointer:\/blocks\/0\/text\]/,
    ],
    [
      'a confirm dialog whose title is 101 characters',
      [
        {
          type: 'actions',
          elements: [
            button({
              confirm: {
                title: { type: 'plain_text', text: tooLong(101) },
                text: { type: 'mrkdwn', text: 'Sure?' },
                confirm: { type: 'plain_text', text: 'Yes' },
                deny: { type: 'plain_text', text: 'No' },
              },
            }),
          ],
        },
      ],
      /elements\/0\/confirm\/title\/text/,
    ],
  ];

  for (const [name, blocks, pointer] of messageCases) {
    it(`when a message has ${name}, then invalid_blocks with a message naming the limit`, async () => {
      const data = await rejectsWith(
        client.chat.postMessage({ channel: APPROVALS, text: 'fallback', blocks: blocks as never }),
        'invalid_blocks',
      );
      const messages = (data.response_metadata as { messages: string[] }).messages;
      assert.ok(
        messages.some((m) => pointer.test(m)),
        `${JSON.stringify(messages)} should match ${pointer}`,
      );
      assert.deepEqual(fake.messages(APPROVALS), []);
    });
  }

  it('when blocks are not a JSON array, then invalid_blocks_format', async () => {
    await rejectsWith(
      client.apiCall('chat.postMessage', { channel: APPROVALS, text: 'x', blocks: '{not json' }),
      'invalid_blocks_format',
    );
    await rejectsWith(
      client.apiCall('chat.postMessage', { channel: APPROVALS, text: 'x', blocks: { type: 'section' } }),
      'invalid_blocks_format',
    );
  });

  it('when the message text is over 40000 characters, then msg_too_long', async () => {
    await rejectsWith(client.chat.postMessage({ channel: APPROVALS, text: tooLong(40001) }), 'msg_too_long');
  });

  it('when chat.update sends invalid blocks, then it is rejected and the message is unchanged', async () => {
    const posted = await client.chat.postMessage({ channel: APPROVALS, text: 'ok' });
    await rejectsWith(
      client.chat.update({
        channel: APPROVALS,
        ts: posted.ts!,
        text: 'x',
        blocks: [section(tooLong(3001))] as never,
      }),
      'invalid_blocks',
    );
    assert.equal(fake.message(APPROVALS, posted.ts!)?.text, 'ok');
  });

  it('when a realistic approval message is posted, then nothing is rejected', async () => {
    await client.chat.postMessage({
      channel: APPROVALS,
      text: 'Sandbox request sbx-42 from <@U0ALICE> needs approval',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Sandbox request' } },
        section('*sbx-42* small, 4h, requested by <@U0ALICE>', 'req-sbx-42-summary'),
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'expires in 4h' }] },
        { type: 'divider' },
        {
          type: 'actions',
          block_id: 'req-sbx-42-decision',
          elements: [
            button({ style: 'primary' }),
            button({
              action_id: 'deny_request',
              style: 'danger',
              text: { type: 'plain_text', text: 'Deny' },
            }),
          ],
        },
      ] as never,
    });
    assert.equal(fake.messages(APPROVALS).length, 1);
  });
});

describe('fake Slack: views', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when views.open gets a fresh trigger_id, then the modal opens once and a reuse is exchanged_trigger_id', async () => {
    const triggerId = fake.mintTriggerId(ALICE);
    const opened = await client.views.open({ trigger_id: triggerId, view: modal() as never });

    assert.match(opened.view?.id ?? '', /^V/);
    assert.deepEqual(
      fake.openModals(ALICE).map((v) => v.callback_id),
      ['sandbox_request'],
    );
    await rejectsWith(
      client.views.open({ trigger_id: triggerId, view: modal() as never }),
      'exchanged_trigger_id',
    );
    await rejectsWith(
      client.views.open({ trigger_id: '123.456.abc', view: modal() as never }),
      'invalid_trigger_id',
    );
  });

  it('when a trigger_id is older than its time to live, then expired_trigger_id', async () => {
    await fake.stop();
    await setUp({ triggerTtlMs: 20 });
    const triggerId = fake.mintTriggerId(ALICE);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await rejectsWith(
      client.views.open({ trigger_id: triggerId, view: modal() as never }),
      'expired_trigger_id',
    );
  });

  const viewCases: [string, Record<string, unknown>, RegExp][] = [
    [
      'a title of 25 characters',
      { title: { type: 'plain_text', text: 'x'.repeat(25) } },
      /\/view\/title\/text/,
    ],
    [
      'a submit label of 25 characters',
      { submit: { type: 'plain_text', text: 'x'.repeat(25) } },
      /\/view\/submit/,
    ],
    [
      'a close label of 25 characters',
      { close: { type: 'plain_text', text: 'x'.repeat(25) } },
      /\/view\/close/,
    ],
    ['private_metadata of 3001 characters', { private_metadata: 'x'.repeat(3001) }, /private_metadata/],
    ['101 blocks', { blocks: Array.from({ length: 101 }, (_, i) => section(`b${i}`)) }, /\/view\/blocks\]/],
    [
      'an input block but no submit button',
      {
        submit: undefined,
        blocks: [
          {
            type: 'input',
            label: { type: 'plain_text', text: 'TTL' },
            element: { type: 'plain_text_input', action_id: 'ttl' },
          },
        ],
      },
      /\/view\/submit/,
    ],
    [
      'a select whose initial_option is not exactly one of its options',
      {
        blocks: [
          {
            type: 'input',
            block_id: 'ttl',
            label: { type: 'plain_text', text: 'TTL' },
            element: {
              type: 'static_select',
              action_id: 'ttl_select',
              options: [{ text: { type: 'plain_text', text: '1h', emoji: true }, value: '1h' }],
              initial_option: { text: { type: 'plain_text', text: '1h' }, value: '1h' },
            },
          },
        ],
      },
      /\/view\/blocks\/0\/element\/initial_option\]/,
    ],
  ];

  for (const [name, overrides, pointer] of viewCases) {
    it(`when a modal has ${name}, then views.open fails with invalid_arguments naming the field`, async () => {
      const data = await rejectsWith(
        client.views.open({ trigger_id: fake.mintTriggerId(ALICE), view: modal(overrides) as never }),
        'invalid_arguments',
      );
      const messages = (data.response_metadata as { messages: string[] }).messages;
      assert.ok(
        messages.some((m) => pointer.test(m)),
        `${JSON.stringify(messages)} should match ${pointer}`,
      );
    });
  }

  it('when views.update names the view and the right hash, then the modal changes; a stale hash gets hash_conflict', async () => {
    const opened = await client.views.open({ trigger_id: fake.mintTriggerId(ALICE), view: modal() as never });
    const view = opened.view!;
    const updated = await client.views.update({
      view_id: view.id!,
      hash: view.hash!,
      view: modal({ blocks: [section('Provisioning…')] }) as never,
    });
    assert.equal(updated.view?.id, view.id);
    assert.deepEqual(fake.view(view.id!)?.blocks, [section('Provisioning…')]);
    await rejectsWith(
      client.views.update({ view_id: view.id!, hash: view.hash!, view: modal() as never }),
      'hash_conflict',
    );
    await rejectsWith(client.views.update({ view_id: 'V0NOPE', view: modal() as never }), 'not_found');
  });

  it('when the bot publishes a Home tab twice, then the user has one home view with the latest blocks', async () => {
    const home = (text: string) => ({ type: 'home', blocks: [section(text)] }) as never;
    const first = await client.views.publish({ user_id: ALICE, view: home('No sandboxes') });
    const second = await client.views.publish({ user_id: ALICE, view: home('sbx-42 running') });

    assert.equal(second.view?.id, first.view?.id);
    assert.deepEqual(fake.homeView(ALICE)?.blocks, [section('sbx-42 running')]);
    await rejectsWith(client.views.publish({ user_id: ALICE, view: modal() as never }), 'invalid_arguments');
    await rejectsWith(client.views.publish({ user_id: 'U0GHOST', view: home('x') }), 'user_not_found');
  });
});

describe('fake Slack: response_url', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('when the app responds ephemerally or in_channel, then the response is recorded and shown to the right people', async () => {
    const url = fake.responseUrl({ channelId: APPROVALS, userId: ALICE });
    assert.equal((await post(url, { text: 'only you' })).status, 200);
    assert.equal((await post(url, { text: 'everyone', response_type: 'in_channel' })).status, 200);

    assert.deepEqual(
      fake.responses.map((r) => (r.body as { text: string }).text),
      ['only you', 'everyone'],
    );
    assert.deepEqual(
      fake.ephemerals(ALICE).map((e) => [e.text, e.via]),
      [['only you', 'response_url']],
    );
    assert.deepEqual(
      fake.messages(APPROVALS).map((m) => m.text),
      ['everyone'],
    );
  });

  it('when the app replaces the original message through the response_url, then the message changes', async () => {
    const posted = await client.chat.postMessage({ channel: APPROVALS, text: 'pending' });
    const url = fake.responseUrl({ channelId: APPROVALS, userId: BOB, messageTs: posted.ts! });
    await post(url, { replace_original: true, text: 'approved by bob' });
    assert.equal(fake.message(APPROVALS, posted.ts!)?.text, 'approved by bob');
  });

  it('when the response has invalid blocks or the URL is unknown, then Slack answers 400 or 404 with the error as text', async () => {
    const url = fake.responseUrl({ channelId: APPROVALS, userId: ALICE });
    const bad = await post(url, { text: 'x', blocks: [section('x'.repeat(3001))] });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'invalid_blocks');
    assert.equal((await post(fake.url('/response/unknown'), { text: 'x' })).status, 404);
  });

  it('when a response_url has taken 5 messages, then a 6th is refused (404 used_url) and shown to nobody', async () => {
    const url = fake.responseUrl({ channelId: APPROVALS, userId: ALICE });
    for (let i = 1; i <= 5; i++) assert.equal((await post(url, { text: `step ${i}` })).status, 200);
    const sixth = await post(url, { text: 'step 6' });
    assert.equal(sixth.status, 404);
    assert.equal(await sixth.text(), 'used_url');
    assert.deepEqual(
      fake.ephemerals(ALICE).map((e) => e.text),
      ['step 1', 'step 2', 'step 3', 'step 4', 'step 5'],
    );
  });

  it('when a response_url is older than its time to live (Slack: 30 min), then 404 expired_url', async () => {
    await fake.stop();
    await setUp({ responseUrlTtlMs: 20 });
    const url = fake.responseUrl({ channelId: APPROVALS, userId: ALICE });
    await new Promise((resolve) => setTimeout(resolve, 40));
    const late = await post(url, { text: 'too late' });
    assert.equal(late.status, 404);
    assert.equal(await late.text(), 'expired_url');
    assert.deepEqual(fake.ephemerals(ALICE), []);
  });

  it("when a command's ack carries a message, then it is shown like a response, and refused like one when invalid", () => {
    const url = fake.responseUrl({ channelId: APPROVALS, userId: ALICE });
    assert.equal(fake.resolveCommandAck(url, ''), undefined, 'an empty ack shows nothing');
    assert.equal(fake.resolveCommandAck(url, 'plain words')?.status, 200);
    const bad = fake.resolveCommandAck(url, { text: 'x', blocks: [section('x'.repeat(3001))] });
    assert.equal(bad?.status, 400);
    assert.deepEqual(
      fake.ephemerals(ALICE).map((e) => [e.text, e.via]),
      [['plain words', 'ack']],
    );
  });
});

describe('request signing', () => {
  it("when signing Slack's documented example request, then the signature matches Slack's golden value", () => {
    // From https://docs.slack.dev/authentication/verifying-requests-from-slack
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
      '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    assert.deepEqual(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618), {
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });
});

describe('a real Bolt App against the fake', () => {
  beforeEach(() => setUp());
  afterEach(() => fake.stop());

  it('when the driver sends a signed /sandbox command, then the listener gets it, its ack returns, and a bad signature or a 6-minute-old timestamp gets 401', async () => {
    const received: SlashCommand[] = [];
    const bolt = await startBoltTestApp(fake, (app) => {
      app.command('/sandbox', async ({ command, ack, respond, client: listenerClient }) => {
        received.push(command);
        await ack({ text: `got: ${command.text}` });
        await respond({ text: 'working on it' });
        await listenerClient.chat.postMessage({ channel: command.user_id, text: 'request filed' });
      });
    });
    try {
      const result = await bolt.driver.command(ALICE, 'create ttl=4h size=small', { channelId: APPROVALS });

      assert.equal(result.status, 200);
      assert.deepEqual(result.body, { text: 'got: create ttl=4h size=small' });
      const command = received[0];
      assert.equal(command?.user_id, ALICE);
      assert.equal(command?.user_name, 'alice');
      assert.equal(command?.channel_name, 'sandbox-approvals');
      assert.equal(command?.team_id, FAKE_TEAM.id);
      assert.equal(command?.is_enterprise_install, 'false');
      assert.equal(command?.response_url, result.responseUrl);

      const [acked, responded] = await Promise.all([
        fake.waitForResponse((r) => r.via === 'ack'),
        fake.waitForResponse((r) => r.via === 'response_url'),
      ]);
      assert.deepEqual(acked.body, { text: 'got: create ttl=4h size=small' }, 'the ack is shown too');
      assert.deepEqual(responded.body, { text: 'working on it' });
      assert.deepEqual(
        fake.ephemerals(ALICE).map((e) => [e.text, e.via]),
        [
          ['got: create ttl=4h size=small', 'ack'],
          ['working on it', 'response_url'],
        ],
      );
      const dm = await fake.waitForCall('chat.postMessage');
      assert.equal(dm.args.team_id, FAKE_TEAM.id, 'listener clients add team_id');
      assert.equal(fake.callsTo('auth.test')[0]?.token, fake.botToken, 'the App verified its token at start');

      const raw = new URLSearchParams({ command: '/sandbox', text: 'list', user_id: ALICE }).toString();
      const form = 'application/x-www-form-urlencoded';
      const forged = await bolt.driver.send(raw, form, { signature: 'v0=deadbeef' });
      const stale = await bolt.driver.send(raw, form, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
      assert.equal(forged.status, 401);
      assert.equal(stale.status, 401);
      assert.equal(received.length, 1, 'rejected requests never reach the listener');
    } finally {
      await bolt.stop();
    }
  });
});
