import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { DEFAULT_APP_TOKEN, waitUntil } from '../../fakes/slack/fake-slack.js';
import { recordingLogger } from '../../helpers/core-fixture.js';
import {
  ALICE,
  APPROVALS,
  BOB,
  GENERAL,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from './slack-harness.js';

/** `slack_api_errors_total` samples from /metrics, as `method error` → count. */
async function slackErrors(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const [, method, error, value] of text.matchAll(
    /^slack_api_errors_total\{method="([^"]+)",error="([^"]+)"\} (\d+)$/gm,
  )) {
    samples.set(`${method} ${error}`, Number(value));
  }
  return samples;
}

const ALICE_ACTOR = { id: ALICE, isApprover: false, isAdmin: false };

describe('Slack resilience', () => {
  it('when the bot stops while a command is still at work after its ack, then the work finishes before the database closes', async () => {
    const h = await startSlackHarness();
    try {
      await h.activeSandbox('draining');
      const completed = () => [...h.fake.files().values()].filter((f) => f.completed);
      await waitUntil(
        () => completed().length === 1 || undefined,
        5000,
        () => 'the first kubeconfig DM',
      );
      h.fake.failNext('files.getUploadURLExternal', { delayMs: 500 });
      const answer = await h.driver.command(ALICE, 'kubeconfig draining');
      assert.equal(answer.status, 200, 'acknowledged at once');
      await h.app.stop(5000);
      assert.equal(completed().length, 2, 'the kubeconfig asked for was delivered before the bot stopped');
    } finally {
      await h.stop();
    }
  });

  it('when a request was filed by another process or its approval post failed, then the next poll posts it once', async () => {
    const h = await startSlackHarness({ overrides: { queuePollMs: 100 } });
    try {
      // A request filed in a process without Slack (the MCP stdio server) sharing the database.
      const other = buildApp(loadConfig({ DATA_DIR: h.config.dataDir, LOG_LEVEL: 'silent' }));
      const agent = { id: 'mcp:claude', isApprover: false, isAdmin: false };
      const fromAgent = other.service.request(
        agent,
        { name: 'from-agent' },
        { via: 'mcp', onBehalfOf: ALICE },
      );
      await other.stop(0);
      // And one whose approval message could not be posted while Slack was down.
      h.fake.failNext('chat.postMessage', { status: 500 }, 3);
      await h.request(ALICE, 'create while-down');

      await waitUntil(
        () =>
          (h.app.store.get(fromAgent.id)?.approvalMessage && h.sandboxNamed('while-down').approvalMessage) ||
          undefined,
        5000,
        () => 'both approval messages to be posted',
      );
      const posts = h.fake.messages(APPROVALS);
      assert.equal(posts.filter((m) => JSON.stringify(m).includes('from-agent')).length, 1);
      assert.equal(posts.filter((m) => JSON.stringify(m).includes('while-down')).length, 1);
    } finally {
      await h.stop();
    }
  });

  it('when Slack does not take the rewrite of a decided request, then the next poll rewrites it, so approvers are not left a decided request with Approve and Deny', async () => {
    const h = await startSlackHarness({ overrides: { queuePollMs: 100 } });
    try {
      const { fake, driver } = h;
      await h.request(ALICE, 'create unrewritten');
      const approval = await h.approvalMessage('unrewritten');
      fake.failAlways('chat.update', { ok: false, error: 'fatal_error' });
      await driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
      });
      await fake.waitForCall('chat.update', (c) => c.args.ts === approval.ts, 5000);
      assert.match(
        textOf(fake.message(APPROVALS, approval.ts)),
        /approve_request/,
        'Slack kept the old message',
      );

      fake.clearFaults();
      await waitUntil(
        () =>
          /Approved\* by <@U0BOB>/.test(textOf(fake.message(APPROVALS, approval.ts))) &&
          !/approve_request|deny_request/.test(textOf(fake.message(APPROVALS, approval.ts))),
        5000,
        () => `the approval message rewritten: ${textOf(fake.message(APPROVALS, approval.ts))}`,
      );
    } finally {
      await h.stop();
    }
  });

  it('when the kubeconfig upload fails, then the owner is told and the next poll delivers it once', async () => {
    const h = await startSlackHarness({ overrides: { queuePollMs: 100 } });
    try {
      h.fake.failAlways('files.getUploadURLExternal', { status: 500 });
      const sandbox = await h.activeSandbox('late-file');
      await h.dmTo(ALICE, /sending its kubeconfig failed; the bot will try again/);
      assert.equal(h.fake.files().size, 0);
      const approval = await h.approvalMessage('late-file');
      const thread = () => h.fake.thread(APPROVALS, approval.ts).map((m) => textOf(m));
      const failedLine = await waitUntil(
        () => thread().find((t) => /Sending the kubeconfig/.test(t)),
        5000,
        () => 'the failed-upload line in the thread',
      );
      assert.match(
        failedLine,
        /Sending the kubeconfig to <@U0ALICE> by DM failed; the bot will try again, and `\/sandbox kubeconfig late-file` sends it now\./,
      );
      const lines = thread();
      const readyAt = lines.findIndex((t) => /Ready after \d+ seconds?\./.test(t));
      assert.ok(
        readyAt >= 0 && readyAt < lines.indexOf(failedLine),
        `the ready line first: ${lines.join('\n')}`,
      );
      assert.ok(!lines.some((t) => /went to/.test(t)));
      h.fake.clearFaults();
      await waitUntil(
        () => [...h.fake.files().values()].find((f) => f.completed) ?? undefined,
        5000,
        () => 'the kubeconfig file in the DM',
      );
      await waitUntil(
        () => thread().find((t) => /:envelope: The kubeconfig went to <@U0ALICE> by DM\./.test(t)),
        5000,
        () => `a thread line saying the kubeconfig went out at last: ${thread().join('\n')}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // a few more polls: nothing more is sent
      const files = [...h.fake.files().values()].filter((f) => f.completed);
      assert.equal(files.length, 1);
      assert.equal(files[0]?.channel_id, h.fake.dmChannelOf(ALICE));
      assert.equal(files[0]?.text, h.app.service.kubeconfig(ALICE_ACTOR, sandbox.id));
    } finally {
      await h.stop();
    }
  });

  it('when the upload fails and the wall clock then steps back (an NTP correction), then the next poll still delivers the kubeconfig', async () => {
    let offsetMs = 0;
    // The poll is driven by hand below; the bot's clock is moved by hand (Slack's signatures keep real time).
    const h = await startSlackHarness({
      overrides: { queuePollMs: 3_600_000, clock: { now: () => Date.now() + offsetMs } },
    });
    try {
      h.fake.failAlways('files.getUploadURLExternal', { status: 500 });
      await h.activeSandbox('stepped');
      await h.dmTo(ALICE, /sending its kubeconfig failed; the bot will try again/);
      await h.app.events.idle();
      h.fake.clearFaults();
      offsetMs = -10 * 60_000;
      await h.app.slack?.notifier.deliverMissingKubeconfigs();
      const files = [...h.fake.files().values()].filter((f) => f.completed);
      assert.equal(files.length, 1, 'the kubeconfig was delivered');
      assert.equal(files[0]?.channel_id, h.fake.dmChannelOf(ALICE));
    } finally {
      await h.stop();
    }
  });

  it('when the owner of an active sandbox cannot be reached by DM, then the poll retries the kubeconfig less and less often, not every few seconds for its whole life', async () => {
    // The poll is driven by hand below; the app's own would add attempts of its own.
    const h = await startSlackHarness({ overrides: { queuePollMs: 3_600_000 } });
    try {
      // An agent files for a Slack user id that has the right shape but no user behind it (a typo, or gone).
      const agent = { id: 'api:ci', isApprover: false, isAdmin: false };
      const sandbox = h.app.service.request(agent, { name: 'no-dm' }, { via: 'api', onBehalfOf: 'U0GONE' });
      h.app.service.approve({ id: BOB, isApprover: true, isAdmin: false }, sandbox.id);
      await h.waitForStatus('no-dm', 'ACTIVE');
      await h.app.events.idle();
      const reads = () =>
        h.app.store
          .listAudit({ sandboxId: sandbox.id, limit: 1000 })
          .filter((a) => a.action === 'kubeconfig_read').length;
      const opens = () => h.fake.calls.filter((c) => c.method === 'conversations.open').length;
      const [readsBefore, opensBefore] = [reads(), opens()];

      for (let poll = 1; poll <= 20; poll++) await h.app.slack?.notifier.deliverMissingKubeconfigs();

      // Tried at polls 1, 2, 4, 8 and 16: each try is a kubeconfig read in the audit log and a failed Slack call.
      assert.equal(reads() - readsBefore, 5, 'kubeconfig reads audited by the 20 polls');
      assert.equal(opens() - opensBefore, 5, 'DMs the 20 polls tried to open');
      assert.equal(h.app.store.get(sandbox.id)?.status, 'ACTIVE');
    } finally {
      await h.stop();
    }
  });

  it('when the bot was removed from the approvers channel, then the poll retries a request’s approval message less and less often, and posts it once it is back', async () => {
    // The poll is driven by hand below; the app's own would add attempts of its own.
    const h = await startSlackHarness({ overrides: { queuePollMs: 3_600_000 } });
    try {
      h.fake.failAlways('chat.postMessage', { ok: false, error: 'not_in_channel' });
      const sandbox = await h.request(ALICE, 'create unposted');
      await h.app.events.idle();
      const posts = () =>
        h.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === APPROVALS).length;
      const before = posts();

      for (let poll = 1; poll <= 20; poll++) await h.app.slack?.notifier.postMissingApprovalRequests();

      // Tried at polls 1, 2, 4, 8 and 16: each try is a failed call and a warning in the log.
      assert.equal(posts() - before, 5, 'approval posts the 20 polls tried');
      assert.equal(h.sandboxNamed('unposted').status, 'PENDING_APPROVAL');

      h.fake.clearFaults();
      for (let poll = 1; poll <= 16; poll++) await h.app.slack?.notifier.postMissingApprovalRequests();
      assert.ok(h.app.store.get(sandbox.id)?.approvalMessage, 'posted once the bot is back in the channel');
    } finally {
      await h.stop();
    }
  });

  it('when Slack fails while a sandbox becomes ready, then it is still ACTIVE, the failures are counted, and later notifications go out', async () => {
    const h = await startSlackHarness();
    try {
      const { fake, driver, app } = h;
      await h.request(ALICE, 'create outage');
      const approval = await h.approvalMessage('outage');
      await app.events.idle();

      // Slack goes down: 5xx (retried, then given up) and ok:false answers (not retried).
      fake.failAlways('chat.postMessage', { status: 500 });
      fake.failAlways('chat.update', { ok: false, error: 'fatal_error' });
      fake.failAlways('conversations.open', { status: 503 });
      fake.failAlways('files.getUploadURLExternal', { ok: false, error: 'internal_error' });
      const click = await driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
      });
      assert.equal(click.status, 200, 'the click is acknowledged regardless');

      const sandbox = await h.waitForStatus('outage', 'ACTIVE', 15_000);
      await app.events.idle();
      assert.deepEqual(h.k3d.clusters(), ['sbx-outage']);
      const errors = await slackErrors(h.port);
      assert.ok((errors.get('chat.postMessage http_500') ?? 0) >= 2, JSON.stringify([...errors]));
      // The rewrite of the approval message is tried again by the poll.
      assert.ok((errors.get('chat.update fatal_error') ?? 0) >= 1, JSON.stringify([...errors]));
      assert.ok((errors.get('conversations.open http_503') ?? 0) >= 1, JSON.stringify([...errors]));
      assert.equal(fake.files().size, 0, 'no kubeconfig could be sent');

      // Slack is back: the next notifications go out, and the kubeconfig can be fetched again.
      fake.clearFaults();
      await driver.command(ALICE, 'kubeconfig outage', { channelId: GENERAL });
      await waitUntil(
        () => [...fake.files().values()].find((f) => f.completed),
        5000,
        () => 'the kubeconfig upload',
      );
      app.service.extend({ id: ALICE, isApprover: false, isAdmin: false }, sandbox.id, 30 * 60_000);
      await h.dmTo(ALICE, /\*outage\* was extended by 30m/);
    } finally {
      await h.stop();
    }
  });

  it("when another process holds the database's write lock, then a command that writes is answered in its ack that it failed, changes nothing, and works once the lock is gone; the queue poll does not wait for the lock", async () => {
    const h = await startSlackHarness();
    try {
      const locker = new Database(path.join(h.config.dataDir, 'sandbox-bot.db'));
      locker.exec('BEGIN EXCLUSIVE');
      try {
        // better-sqlite3 waits for a lock with the whole process: every ack and request stands still meanwhile.
        // A write gives up within a second, inside Slack's 3 s for an ack even behind a timer's own wait.
        assert.ok((h.app.db.pragma('busy_timeout', { simple: true }) as number) <= 1000);
        // Nothing queued: the 5 s poll answers from a read instead of waiting for the lock (and failing).
        h.app.provisioner.pump();
        const refused = await h.driver.command(ALICE, 'create locked');
        assert.equal(refused.status, 200);
        assert.match(refused.text, /Something went wrong on our side.*Try again in a moment/);
        assert.doesNotMatch(refused.text, /waiting for approval/);
        const list = await h.driver.command(ALICE, 'list');
        assert.match(list.text, /No sandboxes/, 'reads are still answered');
      } finally {
        locker.exec('COMMIT');
        locker.close();
      }
      assert.equal(h.app.service.getByName('locked'), undefined, 'nothing was filed');
      const filed = await h.driver.command(ALICE, 'create locked');
      assert.match(filed.text, /is waiting for approval/);
    } finally {
      await h.stop();
    }
  });

  it('when Slack rate-limits a call, then it is retried after Retry-After and counted', async () => {
    const h = await startSlackHarness();
    try {
      h.fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
      await h.request(ALICE, 'create limited');
      await h.approvalMessage('limited');
      const errors = await slackErrors(h.port);
      assert.equal(errors.get('chat.postMessage ratelimited'), 1);
    } finally {
      await h.stop();
    }
  });

  it("when Slack rate-limits a kubeconfig upload, then it is retried and counted under files.uploadV2, not under the upload URL's one-off key", async () => {
    const h = await startSlackHarness();
    try {
      h.fake.failNext('upload', { status: 429, retryAfter: 1 });
      await h.activeSandbox('limited-upload');
      await waitUntil(
        () => [...h.fake.files().values()].find((f) => f.completed),
        8000,
        () => 'the kubeconfig upload',
      );
      const errors = await slackErrors(h.port);
      assert.deepEqual([...errors], [['files.uploadV2 ratelimited', 1]]);
    } finally {
      await h.stop();
    }
  });

  it('when auth.test fails at start, then the bot still starts and serves health, Slack requests get 401 and the log says what to fix', async () => {
    const { logger, errors } = recordingLogger();
    const h = await startSlackHarness({
      beforeStart: (fake) => fake.failAlways('auth.test', { ok: false, error: 'invalid_auth' }),
      logger,
    });
    try {
      assert.equal(h.app.slack?.ready, false);
      assert.equal((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status, 200);
      const result = await h.driver.command(ALICE, 'create nope');
      assert.equal(result.status, 401);
      assert.equal(h.app.service.getByName('nope'), undefined);
      assert.ok(
        errors.some((l) => /^Slack auth\.test failed.*check SLACK_BOT_TOKEN and SLACK_API_URL/.test(l)),
        errors.join('\n'),
      );
    } finally {
      await h.stop();
    }
  });

  it('when auth.test fails at start, then /metrics counts the failure, so an alert on slack_api_errors_total fires while Slack requests are refused', async () => {
    const h = await startSlackHarness({
      beforeStart: (fake) => fake.failAlways('auth.test', { ok: false, error: 'invalid_auth' }),
    });
    try {
      assert.equal(h.app.slack?.ready, false);
      const errors = await slackErrors(h.port);
      assert.equal(errors.get('auth.test invalid_auth'), 1, JSON.stringify([...errors]));
    } finally {
      await h.stop();
    }
  });

  it('when the bot was never invited to the approvers channel, then the request waits, the log says to invite it, and the requester is told once that it has not reached the approvers', async () => {
    const { logger, warnings } = recordingLogger();
    // #general exists, but the bot is not a member of it. The retry poll comes round often.
    const h = await startSlackHarness({
      env: { SLACK_APPROVERS_CHANNEL: GENERAL },
      logger,
      overrides: { queuePollMs: 50 },
    });
    try {
      await h.request(ALICE, 'create uninvited');
      await waitUntil(
        () => warnings.find((w) => /Slack call failed: invite the bot to the channel/.test(w)),
        5000,
        () => `the hint in the log; got: ${JSON.stringify(warnings)}`,
      );
      assert.equal(h.sandboxNamed('uninvited').status, 'PENDING_APPROVAL');
      assert.ok(((await slackErrors(h.port)).get('chat.postMessage not_in_channel') ?? 0) >= 1);

      await h.dmTo(
        ALICE,
        /Your request for \*uninvited\* is filed, but posting it in <#C0GENERAL> for the approvers failed; I keep trying\. Approvers can also see and approve it in my App Home/,
      );
      const posts = () =>
        h.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === GENERAL).length;
      await waitUntil(
        () => posts() >= 4 || undefined,
        10_000,
        () => 'two more retries',
      );
      const told = h.fake
        .messages(h.fake.dmChannelOf(ALICE))
        .filter((m) => m.text === 'Your request uninvited has not reached the approvers yet');
      assert.equal(told.length, 1, 'told once, not at every retry');
    } finally {
      await h.stop();
    }
  });

  it('when SLACK_APP_TOKEN is wrong, then the bot says so in its log and /metrics counts the refused connection', async () => {
    const { logger, errors, logged } = recordingLogger();
    const h = await startSlackHarness({
      env: { SLACK_APP_TOKEN: 'xapp-1-wrong' },
      logger,
      awaitSocket: false,
    });
    try {
      await waitUntil(
        () => errors.find((l) => /^Slack Socket Mode could not connect: check SLACK_APP_TOKEN/.test(l)),
        5000,
        () => `the failed connection in the log: ${logged.join('\n')}`,
      );
      const counted = await slackErrors(h.port);
      assert.equal(counted.get('apps.connections.open invalid_auth'), 1, JSON.stringify([...counted]));
      assert.ok(!logged.join('\n').includes('xapp-1-wrong'), 'the token is not logged');
    } finally {
      await h.stop();
    }
  });

  /** Waits until the app is connected over Socket Mode again, and checks that a command is answered there. */
  async function answersOverSocketMode(h: SlackHarness): Promise<void> {
    await waitUntil(
      () => h.fake.socketModeConnections() === 1 || undefined,
      20_000,
      () => 'a Socket Mode connection once Slack is back',
    );
    const answer = await h.driver.command(ALICE, 'list');
    assert.match(textOf(answer.body as { text?: string }), /sandbox/i);
  }

  it('when Slack cannot be reached as the bot connects over Socket Mode, then it keeps trying and connects once Slack answers again', async () => {
    const h = await startSlackHarness({
      env: { SLACK_APP_TOKEN: DEFAULT_APP_TOKEN },
      beforeStart: (fake) => fake.failNext('apps.connections.open', { status: 503 }, 3),
      awaitSocket: false,
    });
    try {
      await answersOverSocketMode(h);
    } finally {
      await h.stop();
    }
  });

  it('when the Socket Mode connection drops and Slack cannot be reached for a while, then the bot reconnects once it can, and keeps running', async () => {
    const h = await startSlackHarness({ env: { SLACK_APP_TOKEN: DEFAULT_APP_TOKEN } });
    try {
      h.fake.failNext('apps.connections.open', { status: 503 }, 3);
      h.fake.dropSocketModeConnections();
      await waitUntil(
        () => h.fake.callsTo('apps.connections.open').filter((c) => c.fault).length === 3 || undefined,
        20_000,
        () => 'the failed reconnects',
      );
      await answersOverSocketMode(h);
    } finally {
      await h.stop();
    }
  });

  it('when SLACK_APP_TOKEN is set, then the app goes to Socket Mode through SLACK_API_URL, mounts no HTTP route, and health stays up', async () => {
    const h = await startSlackHarness({ env: { SLACK_APP_TOKEN: DEFAULT_APP_TOKEN } });
    try {
      assert.equal(h.app.slack?.mode, 'socket');
      const open = await h.fake.waitForCall('apps.connections.open', undefined, 5000);
      assert.equal(open.token, DEFAULT_APP_TOKEN);
      const post = await fetch(h.appUrl, { method: 'POST', body: 'command=%2Fsandbox' });
      assert.equal(post.status, 404, 'no /slack/events in Socket Mode');
      assert.equal((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status, 200);
    } finally {
      await h.stop();
    }
  });
});
