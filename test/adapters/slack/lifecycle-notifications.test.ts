// What people see in Slack when a sandbox changes outside a Slack click: the lifecycle sweeps (approval
// timeout, TTL expiry), the REST API (requests and approvals), the automatic smoke test, and outages outside the
// bot (the Docker daemon down, a cluster stopped).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../src/cli/run-cli.js';
import { waitUntil } from '../../fakes/slack/fake-slack.js';
import { callApi } from '../../helpers/http-client.js';
import {
  ALICE,
  APPROVALS,
  AUDIT,
  BOB,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from './slack-harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Lines of a thread (the parent excluded), for assertion messages. */
function threadLines(h: SlackHarness, ts: string): string[] {
  return h.fake
    .thread(APPROVALS, ts)
    .filter((m) => m.ts !== ts)
    .map((m) => textOf(m));
}

async function threadLine(h: SlackHarness, ts: string, pattern: RegExp): Promise<string> {
  return waitUntil(
    () => threadLines(h, ts).find((line) => pattern.test(line)),
    5000,
    () => `a thread line matching ${pattern}; got: ${JSON.stringify(threadLines(h, ts))}`,
  );
}

async function auditLine(h: SlackHarness, pattern: RegExp): Promise<string> {
  const lines = () => h.fake.messages(AUDIT).map((m) => m.text);
  return waitUntil(
    () => lines().find((line) => pattern.test(line)),
    5000,
    () => `an audit line matching ${pattern}; got: ${JSON.stringify(lines())}`,
  );
}

describe('when nobody decides a request within SANDBOX_APPROVAL_TIMEOUT', () => {
  // The bot's clock, moved by hand past the timeout; the real Date.now() stays for Slack's signatures.
  let offsetMs = 0;
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness({
      // The cron tick stays out of the way, so the sweep below is the one that cancels.
      env: { SANDBOX_APPROVAL_TIMEOUT: '24h', SANDBOX_SWEEP_SCHEDULE: '0 0 1 1 *' },
      overrides: { clock: { now: () => Date.now() + offsetMs } },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when the approval-timeout sweep runs a day later, then the approval message loses its buttons and says why, and the requester is told by DM', async () => {
    const { fake, app } = h;
    await h.request(ALICE, 'create forgotten');
    const approval = await h.approvalMessage('forgotten');
    assert.match(textOf(approval), /approve_request/);

    assert.equal(await app.sweeps.expireStaleRequests(), 0, 'not yet: it was filed just now');
    offsetMs = 24 * HOUR + MINUTE;
    assert.equal(await app.sweeps.expireStaleRequests(), 1);
    assert.equal(h.sandboxNamed('forgotten').status, 'CANCELLED');

    const update = await fake.waitForCall('chat.update', (c) => c.args.ts === approval.ts, 5000);
    assert.equal(update.response?.ok, true);
    const rewritten = textOf(fake.message(APPROVALS, approval.ts));
    // SANDBOX_APPROVAL_TIMEOUT=24h reads back as 1d (formatDuration's form).
    assert.match(rewritten, /\*Cancelled\*.*: nobody approved it within 24h/);
    assert.doesNotMatch(rewritten, /approve_request|deny_request/);
    assert.match(rewritten, /forgotten/, 'the request is still described');

    await h.dmTo(
      ALICE,
      /\*forgotten\* was cancelled \(nobody approved it within 24h\)\. Nothing was created\./,
    );
    await auditLine(h, /the bot cancelled \*forgotten\* of <@U0ALICE>: nobody approved it within 24h/);
    assert.deepEqual(h.k3d.clusters(), []);
    const metrics = await app.metrics.registry.metrics();
    assert.match(metrics, /^sandbox_requests_total\{outcome="timed_out"\} 1$/m);
    assert.doesNotMatch(
      metrics,
      /^sandbox_requests_total\{outcome="cancelled"\}/m,
      'not counted as withdrawn',
    );
  });
});

describe('lifecycle outside Slack clicks', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('when an ACTIVE sandbox outlives its TTL and the expiry sweep runs, then its cluster is gone and the owner, the thread and the audit channel are told it expired', async () => {
    const { fake, app } = h;
    const sandbox = await h.activeSandbox('short-lived', '--ttl 10m');
    assert.deepEqual(h.k3d.clusters(), ['sbx-short-lived']);
    const approval = await h.approvalMessage('short-lived');

    const expired = app.service.sweepExpired((sandbox.expiresAt ?? 0) + 1000, 10);
    assert.deepEqual(
      expired.map((s) => s.name),
      ['short-lived'],
    );
    const destroyed = await h.waitForStatus('short-lived', 'DESTROYED');
    assert.equal(destroyed.destroyReason, 'expired');
    assert.deepEqual(h.k3d.clusters(), []);

    await h.dmTo(
      ALICE,
      /Your sandbox \*short-lived\* was destroyed \(expired\)\. Its kubeconfig no longer works\./,
    );
    await threadLine(h, approval.ts, /Destroying \(expired\)\./);
    await threadLine(h, approval.ts, /Destroyed: expired\./);
    await auditLine(h, /the bot is destroying \*short-lived\* of <@U0ALICE> \(expired\)/);
    await auditLine(h, /\*short-lived\* of <@U0ALICE> destroyed \(expired\)/);
    // The approval message itself still records the approval; the story goes on in its thread.
    assert.match(textOf(fake.message(APPROVALS, approval.ts)), /\*Approved\* by <@U0BOB>/);
  });

  it('when an active sandbox’s cluster is stopped, then its owner, its thread and the audit channel are told once, its status says so, and all hear when it runs again', async () => {
    const sandbox = await h.activeSandbox('halted');
    const approval = await h.approvalMessage('halted');
    const stoppedDms = () =>
      h.fake
        .messages(h.fake.dmChannelOf(ALICE))
        .filter((m) => m.text === 'The cluster of your sandbox halted is stopped');
    h.k3d.stopCluster('sbx-halted');
    await h.app.reconciler.run();
    await h.app.reconciler.run();

    await h.dmTo(
      ALICE,
      /The cluster of your sandbox \*halted\* is stopped, so its API does not answer and `kubectl` fails\./,
    );
    await threadLine(
      h,
      approval.ts,
      /The cluster is stopped, so its API does not answer; `k3d cluster start sbx-halted`/,
    );
    await auditLine(h, /the cluster of \*halted\* of <@U0ALICE> is stopped/);
    await h.app.events.idle();
    assert.equal(stoppedDms().length, 1, 'told once, not at every pass');
    assert.match(
      await h.ask(ALICE, 'status halted'),
      /ACTIVE · 1 server, 0 agents · [^\\]* left\\n:warning: Its cluster is stopped, so its API does not answer \(since <!date\^/,
    );
    const rest = await callApi(`http://127.0.0.1:${h.port}`, 'GET', `/get_sandbox_status/${sandbox.id}`);
    assert.match(
      (rest.body as { problem: string }).problem,
      /^Its cluster is stopped, so its API does not answer/,
    );

    h.k3d.stopCluster('sbx-halted', true);
    await h.app.reconciler.run();
    await h.dmTo(ALICE, /The cluster of your sandbox \*halted\* runs again/);
    await threadLine(h, approval.ts, /The cluster runs again\./);
    assert.doesNotMatch(await h.ask(ALICE, 'status halted'), /:warning:/);
    assert.equal(h.sandboxNamed('halted').status, 'ACTIVE');
  });

  it('when a request filed in Slack is approved through POST /approve, then the approval message names the API approver and the sandbox becomes ACTIVE', async () => {
    const { fake } = h;
    const requested = await h.request(ALICE, 'create via-rest');
    const approval = await h.approvalMessage('via-rest');

    const res = await callApi(`http://127.0.0.1:${h.port}`, 'POST', '/approve', {
      query: { approval_id: requested.approvalId, approver: 'carol' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { sandbox_status: _whereItIsNow, ...decision } = res.body as Record<string, unknown>;
    assert.deepEqual(decision, { status: 'APPROVED', sandbox_id: requested.id, approved_by: 'api:carol' });

    await waitUntil(
      () => /\*Approved\* by `api:carol`/.test(textOf(fake.message(APPROVALS, approval.ts))),
      5000,
      () => `the approval message rewritten: ${textOf(fake.message(APPROVALS, approval.ts))}`,
    );
    assert.doesNotMatch(textOf(fake.message(APPROVALS, approval.ts)), /approve_request|deny_request/);
    await h.dmTo(ALICE, /`api:carol` approved your sandbox \*via-rest\*/);
    const active = await h.waitForStatus('via-rest', 'ACTIVE', 15_000);
    assert.equal(active.decidedBy, 'api:carol');
    assert.ok(h.k3d.clusters().includes('sbx-via-rest'));
  });

  it('when a sandbox an API client asked for itself becomes ACTIVE, then the thread says its kubeconfig is fetched through the API, not sent by DM', async () => {
    const api = `http://127.0.0.1:${h.port}`;
    const res = await callApi(api, 'POST', '/create_sandbox', {
      body: { name: 'api-owned', ttl_minutes: 60 },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const created = res.body as { approval_id: string; owner: string };
    assert.equal(created.owner, 'api:local');
    const approval = await h.approvalMessage('api-owned');
    const approved = await callApi(api, 'POST', '/approve', {
      query: { approval_id: created.approval_id, approver: 'carol' },
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const ready = await threadLine(h, approval.ts, /Ready after/);
    assert.match(
      ready,
      /Ready after \d+ seconds?\. The kubeconfig is not sent by DM: `api:local` is an API client and fetches it through the API\./,
    );
    assert.doesNotMatch(ready, /went to/);
  });

  it('when a request is filed through POST /create_sandbox for alice, then the approvers channel gets an approval message saying who asked, for whom, with Approve and Deny', async () => {
    const res = await callApi(`http://127.0.0.1:${h.port}`, 'POST', '/create_sandbox', {
      body: { name: 'from-api', servers: 1, agents: 1, ttl_minutes: 90, owner: ALICE },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const created = res.body as {
      sandbox_id: string;
      approval_id: string;
      requested_by: string;
      owner: string;
    };
    assert.equal(created.requested_by, 'api:local');
    assert.equal(created.owner, ALICE);

    const approval = await h.approvalMessage('from-api');
    const body = textOf(approval);
    assert.match(body, /`api:local` for <@U0ALICE> \(via the REST API\) asks for a sandbox: \*from-api\*/);
    for (const fact of ['*Servers*\\n1', '*Agents*\\n1', '*TTL*\\n1h30m', created.approval_id]) {
      assert.ok(body.includes(fact), `the approval message shows ${fact}: ${body}`);
    }
    const buttons = JSON.stringify(approval.blocks);
    assert.match(buttons, /"action_id":"approve_request","text":\{"type":"plain_text","text":"Approve"/);
    assert.match(buttons, /"action_id":"deny_request","text":\{"type":"plain_text","text":"Deny"/);
    await h.dmTo(ALICE, /`api:local` .*asked for a sandbox \*from-api\* for you/);
    await auditLine(h, /`api:local` for <@U0ALICE> \(via the REST API\) requested \*from-api\*/);
  });
});

describe('when SANDBOX_AUTO_SMOKE_TEST is on', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness({ env: { SANDBOX_AUTO_SMOKE_TEST: 'true' } });
  });
  after(async () => {
    await h.stop();
  });

  it('when a sandbox becomes ACTIVE, then the smoke suite runs by itself and its result appears in the approval thread', async () => {
    const sandbox = await h.activeSandbox('auto-tested');
    const approval = await h.approvalMessage('auto-tested');
    const result = await threadLine(h, approval.ts, /Test suite \*smoke\* on \*auto-tested\*/);
    assert.match(
      result,
      /Test suite \*smoke\* on \*auto-tested\*: :white_check_mark: \*passed\* \(2\/2 steps/,
    );
    assert.match(result, /:white_check_mark: nodes ready — 850ms/);
    assert.match(result, /:white_check_mark: deploy nginx — 4\.2s/);
    assert.deepEqual(h.smokeTester.runs, [{ sandboxId: sandbox.id, suite: 'smoke' }]);
    // In the thread, so not repeated by DM.
    assert.ok(
      !h.fake.messages(h.fake.dmChannelOf(ALICE)).some((m) => /Test suite/.test(textOf(m))),
      'the result is not also sent to the owner by DM',
    );
  });
});

describe('when a sandbox’s cluster cannot be deleted for a long time', () => {
  // The bot's clock, moved by hand between reconciler passes; the real Date.now() stays for Slack's signatures.
  let offsetMs = 0;
  let h: SlackHarness;
  before(async () => {
    // The cron tick stays out of the way: the reconciler passes below stand for the minutes going by.
    h = await startSlackHarness({
      env: { SANDBOX_SWEEP_SCHEDULE: '0 0 1 1 *' },
      overrides: { clock: { now: () => Date.now() + offsetMs } },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when every reconciler pass retries the delete and it keeps failing the same way, then the thread, the audit channel and the owner are told once, not at every attempt', async () => {
    const { app } = h;
    const sandbox = await h.activeSandbox('stuck', '--ttl 10m');
    const approval = await h.approvalMessage('stuck');
    h.k3d.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: 100 });
    const failures = () =>
      app.store.listAudit({ sandboxId: sandbox.id }).filter((e) => e.action === 'destroy_failed').length;
    const gaveUp = (n: number) =>
      waitUntil(
        () => failures() === n && !app.provisioner.isWorkingOn(sandbox.id),
        10_000,
        () => `${n} failed deletes`,
      );

    assert.equal(await app.sweeps.reapExpired(), 0);
    app.service.sweepExpired((sandbox.expiresAt ?? 0) + 1000, 10);
    await gaveUp(3);
    // The reconciler finding it DESTROYING and trying again: at once, then 1 and 2 minutes later.
    for (const [n, minutesLater] of [
      [6, 0],
      [9, 1],
      [12, 2],
    ] as const) {
      offsetMs += minutesLater * MINUTE;
      assert.deepEqual((await app.reconciler.run()).destroysResumed, [sandbox.id]);
      await gaveUp(n);
    }
    await app.events.idle();
    assert.equal(app.store.get(sandbox.id)?.status, 'DESTROYING', 'the cluster is still there');

    const told = threadLines(h, approval.ts).filter((line) => /Deleting the cluster failed/.test(line));
    assert.equal(told.length, 1, JSON.stringify(told));
    const audited = h.fake.messages(AUDIT).filter((m) => /deleting \*stuck\*.*failed/.test(m.text));
    assert.equal(audited.length, 1, JSON.stringify(audited.map((m) => m.text)));
    await h.dmTo(ALICE, /Deleting your sandbox \*stuck\* is taking longer/);
    const delayedDms = () =>
      h.fake.messages(h.fake.dmChannelOf(ALICE)).filter((m) => /is taking longer/.test(m.text));
    assert.equal(delayedDms().length, 1);

    h.k3d.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: null });
    offsetMs += 4 * MINUTE;
    await app.reconciler.run();
    await h.waitForStatus('stuck', 'DESTROYED');
    await threadLine(h, approval.ts, /Destroyed: expired\./);
    await h.dmTo(ALICE, /\*stuck\* was destroyed/);
    assert.equal(delayedDms().length, 1);
  });
});

describe('when a sandbox’s cluster fails to delete once', () => {
  it('when a delete fails once and the next attempt works, then the approvers’ thread hears of it but the owner is only told it is destroyed, not that it is delayed', async () => {
    const h = await startSlackHarness();
    try {
      const { app } = h;
      const sandbox = await h.activeSandbox('blip', '--ttl 10m');
      const approval = await h.approvalMessage('blip');
      h.k3d.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: 1 });
      app.service.destroy({ id: ALICE, isApprover: false, isAdmin: false }, sandbox.id);
      await h.waitForStatus('blip', 'DESTROYED');
      await threadLine(h, approval.ts, /Deleting the cluster failed/);
      await h.dmTo(ALICE, /\*blip\* was destroyed/);
      await app.events.idle();
      const dms = h.fake.messages(h.fake.dmChannelOf(ALICE)).map((m) => m.text);
      assert.deepEqual(
        dms.filter((text) => /blip/.test(text) && /taking longer/.test(text)),
        [],
        'no DM that the delete is delayed',
      );
    } finally {
      await h.stop();
    }
  });
});

describe('when the Docker daemon does not answer', () => {
  let h: SlackHarness;
  before(async () => {
    // The queue pump runs often, so the test sees it come round (and not tell again) many times.
    h = await startSlackHarness({ overrides: { queuePollMs: 50 } });
  });
  after(async () => {
    await h.stop();
  });

  it('when approved sandboxes wait in the queue for Docker, then each owner and thread is told once, /sandbox status and the REST status say why, and the owner hears when the create starts after all', async () => {
    const api = `http://127.0.0.1:${h.port}`;
    const approve = async (name: string) => {
      const approval = await h.approvalMessage(name);
      await h.driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
      });
      await h.dmTo(ALICE, new RegExp(`approved your sandbox \\*${name}\\*`));
      return approval;
    };
    const waitingDms = (name: string) =>
      h.fake
        .messages(h.fake.dmChannelOf(ALICE))
        .filter((m) => m.text === `Your sandbox ${name} waits for the Docker host`);

    h.k3d.setKnobs({ FAKE_K3D_DOCKER_DOWN: true });
    await h.request(ALICE, 'create patient');
    const approval = await approve('patient');
    await h.dmTo(
      ALICE,
      /Your approved sandbox \*patient\* has to wait: the bot's Docker host does not answer, so no cluster can be created now\. It keeps its place in the queue/,
    );
    await threadLine(h, approval.ts, /Waiting: the Docker daemon does not answer/);
    await auditLine(h, /\*patient\* of <@U0ALICE> waits in the queue: the Docker daemon does not answer/);
    // One approved while Docker is already known to be down is never tried, and is told all the same.
    await h.request(ALICE, 'create latecomer');
    await approve('latecomer');
    await h.dmTo(ALICE, /Your approved sandbox \*latecomer\* has to wait/);

    const probes = h.k3d.calls().filter((c) => c.command === 'cluster list').length;
    await waitUntil(
      () => h.k3d.calls().filter((c) => c.command === 'cluster list').length >= probes + 5 || undefined,
      10_000,
      () => 'five more probes of Docker',
    );
    await h.app.events.idle();
    assert.equal(waitingDms('patient').length, 1, 'told once, not at every probe');
    assert.equal(waitingDms('latecomer').length, 1);

    const status = await h.ask(ALICE, 'status patient');
    assert.match(
      status,
      /QUEUED · 1 server, 0 agents · TTL 2h\\n:warning: The Docker daemon does not answer, so it waits in the queue until it does \(since <!date\^/,
    );
    assert.match(
      await h.ask(ALICE, 'list'),
      /\*latecomer\* · :inbox_tray: QUEUED .* · :warning: The Docker daemon/,
    );
    const rest = await callApi(api, 'GET', `/get_sandbox_status/${h.sandboxNamed('patient').id}`);
    assert.match(
      (rest.body as { problem: string }).problem,
      /^The Docker daemon does not answer, so it waits in the queue until it does \(since \d{4}-\d\d-\d\dT/,
    );

    // The CLI, waiting on it, says the same rather than that it waits for a free slot.
    let stderr = '';
    const waited = await runCli(['wait', 'patient', '--timeout', '0.3', '--interval', '0.1'], {
      io: {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
      },
      env: { SANDBOX_URL: api },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    assert.equal(waited, 3);
    assert.match(stderr, /patient: QUEUED - The Docker daemon does not answer, so it waits in the queue/);

    h.k3d.setKnobs({ FAKE_K3D_DOCKER_DOWN: null });
    for (const name of ['patient', 'latecomer']) {
      await h.waitForStatus(name, 'ACTIVE', 15_000);
      await h.dmTo(
        ALICE,
        new RegExp(`The Docker host answers again: your sandbox \\*${name}\\* is being created now`),
      );
    }
    const after = await callApi(api, 'GET', `/get_sandbox_status/${h.sandboxNamed('patient').id}`);
    assert.equal((after.body as { problem: string | null }).problem, null);
    assert.doesNotMatch(await h.ask(ALICE, 'status patient'), /:warning:/);
    assert.equal(waitingDms('patient').length, 1);
  });
});
