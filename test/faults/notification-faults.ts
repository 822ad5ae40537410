// The Slack Web API failing during each notification of a sandbox's life (the approval message, the audit
// line, chat.update of the approval message, the approved DM, thread posts, the kubeconfig upload), once per
// kind of failure: HTTP 500 (retried, then given up), `ok:false` (not retried) and 429 with Retry-After
// (retried after the pause). Whatever Slack does, every state transition happens exactly once and each failure
// is counted in slack_api_errors_total.
//
// Faults are queued per Web API method and consumed in arrival order. The notifier handles one sandbox's events
// in order, so which calls a queued fault meets is known: `plan` lays the faults out call by call.
// The kinds run from two test files (slack-5xx-faults, slack-429-faults) so that each stays short.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Sandbox } from '../../src/core/sandbox.js';
import {
  ALICE,
  APPROVALS,
  AUDIT,
  BOB,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from '../adapters/slack/slack-harness.js';
import type { FakeFault } from '../fakes/slack/fake-slack.js';
import { waitUntil } from '../fakes/slack/fake-slack.js';

const alice = { id: ALICE, isApprover: false, isAdmin: false };
const bob = { id: BOB, isApprover: true, isAdmin: false };
/** A queued entry that lets the call through untouched. */
const PASS: FakeFault = { delayMs: 0 };

export interface FaultKind {
  name: string;
  /** What one call meets, attempt by attempt (the WebClient retries 5xx and 429 twice). */
  perCall: FakeFault[];
  /** The `error` label the bot counts for a failed call of `method`. */
  label: (method: string) => string;
  /** Whether the notification is finally delivered. */
  delivered: boolean;
}

export const FAULT_KINDS = {
  http500: {
    name: 'HTTP 500',
    perCall: [{ status: 500 }, { status: 500 }, { status: 500 }],
    label: () => 'http_500',
    delivered: false,
  },
  okFalse: {
    name: 'ok:false',
    perCall: [{ ok: false, error: 'fatal_error' }],
    label: () => 'fatal_error',
    delivered: false,
  },
  rateLimited: {
    name: '429 with Retry-After',
    perCall: [{ status: 429, retryAfter: 1 }, PASS],
    label: () => 'ratelimited',
    delivered: true,
  },
} satisfies Record<string, FaultKind>;

/** Queues, for `calls` calls made in parallel, each attempt's fault in the order the attempts arrive. */
function plan(h: SlackHarness, method: string, kind: FaultKind, calls: number): void {
  for (const fault of kind.perCall) h.fake.failNext(method, fault, calls);
}

/** slack_api_errors_total as `method error` → count. */
async function slackErrors(h: SlackHarness): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${h.port}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const [, method, error, value] of text.matchAll(
    /^slack_api_errors_total\{method="([^"]+)",error="([^"]+)"\} (\d+)$/gm,
  )) {
    samples.set(`${method} ${error}`, Number(value));
  }
  return samples;
}

/** How much each counter grew since `before`. */
function grown(before: Map<string, number>, now: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of now)
    if (value !== (before.get(key) ?? 0)) delta[key] = value - (before.get(key) ?? 0);
  return delta;
}

/** The audit trail of one sandbox, oldest first, without reads (the kubeconfig DM reads it once). */
const auditActions = (h: SlackHarness, id: string) =>
  h.app.store
    .listAudit({ sandboxId: id, limit: 100 })
    .map((e) => e.action)
    .filter((action) => action !== 'kubeconfig_read')
    .reverse();
const kubeconfigReads = (h: SlackHarness, id: string) =>
  h.app.store.listAudit({ sandboxId: id, limit: 100 }).filter((e) => e.action === 'kubeconfig_read').length;
const creates = (h: SlackHarness, cluster: string) =>
  h.k3d.calls().filter((c) => c.command === 'cluster create' && c.argv[2] === cluster).length;

/** Waits until the notifier has finished with every event so far. */
const settled = (h: SlackHarness) => h.app.events.idle();

/** The notification fault tests for these kinds, on one bot. */
export function describeNotificationFaults(kinds: FaultKind[]): void {
  describe(`Slack Web API failures during notifications (${kinds.map((k) => k.name).join(', ')})`, () => {
    let h: SlackHarness;
    before(async () => {
      // The repost poll for missing approval messages would race the faults below; it has its own tests.
      h = await startSlackHarness({
        env: { SANDBOX_MAX_PER_USER: '10' },
        overrides: { queuePollMs: 3_600_000 },
      });
    });
    after(async () => {
      await h.stop();
    });

    for (const [index, kind] of kinds.entries()) {
      it(`when Slack answers ${kind.name} to the approval message and the audit line, then the request still stands, is approved once and the failures are counted`, async () => {
        const name = `req-${index}`;
        const before = await slackErrors(h);
        plan(h, 'chat.postMessage', kind, 2); // the approval message and the audit line, in parallel
        const requested = await h.request(ALICE, `create ${name}`);
        await settled(h);

        assert.equal(h.app.store.get(requested.id)?.status, 'PENDING_APPROVAL');
        const counted = grown(before, await slackErrors(h));
        assert.equal(
          counted[`chat.postMessage ${kind.label('chat.postMessage')}`],
          2,
          JSON.stringify(counted),
        );
        const posted = h.fake.messages(APPROVALS).filter((m) => textOf(m).includes(requested.approvalId));
        assert.equal(posted.length, kind.delivered ? 1 : 0, 'the approval message is posted at most once');
        assert.equal(
          h.fake.messages(AUDIT).filter((m) => textOf(m).includes(name)).length,
          kind.delivered ? 1 : 0,
        );

        // Without a message to click, the request is decided elsewhere (App Home, /approve); with one, by a click.
        if (posted[0]) {
          await h.driver.clickButton(BOB, {
            actionId: 'approve_request',
            container: { type: 'message', channelId: APPROVALS, messageTs: posted[0].ts },
          });
        } else {
          h.app.service.approve(bob, requested.id);
        }
        await h.waitForStatus(name, 'ACTIVE', 15_000);
        await settled(h);
        assert.deepEqual(auditActions(h, requested.id), ['requested', 'approved', 'creating', 'ready']);
        assert.equal(creates(h, `sbx-${name}`), 1);
      });

      it(`when Slack answers ${kind.name} to chat.update, the approved DM, the thread posts, the audit lines and the kubeconfig upload, then the sandbox still becomes ACTIVE once and every failure is counted`, async () => {
        const name = `life-${index}`;
        const requested = await h.request(ALICE, `create ${name}`);
        const approval = await h.approvalMessage(name);
        await settled(h);
        const before = await slackErrors(h);
        const filesBefore = [...h.fake.files().values()].filter((f) => f.completed).length;

        // approved: chat.update ‖ DM ‖ audit line; creating: thread post ‖ audit line; ready: kubeconfig upload.
        plan(h, 'chat.update', kind, 1);
        plan(h, 'chat.postMessage', kind, 2);
        plan(h, 'chat.postMessage', kind, 2);
        plan(h, 'files.completeUploadExternal', kind, 1);
        const click = await h.driver.clickButton(BOB, {
          actionId: 'approve_request',
          container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
        });
        assert.equal(click.status, 200);
        const active: Sandbox = await h.waitForStatus(name, 'ACTIVE', 15_000);
        await waitUntil(
          () =>
            h.fake.callsTo('files.completeUploadExternal').some((c) => JSON.stringify(c.args).includes(name)),
          10_000,
          () => 'the kubeconfig upload attempt',
        );
        await settled(h);

        const counted = grown(before, await slackErrors(h));
        const upload = kind.delivered ? 'files.completeUploadExternal' : 'files.uploadV2';
        assert.deepEqual(
          counted,
          {
            [`chat.update ${kind.label('chat.update')}`]: 1,
            [`chat.postMessage ${kind.label('chat.postMessage')}`]: 4,
            [`${upload} ${kind.label(upload)}`]: 1,
          },
          'each failed call is counted once',
        );
        const rewritten = textOf(h.fake.message(APPROVALS, approval.ts));
        assert.equal(/Approved\* by <@U0BOB>/.test(rewritten), kind.delivered, rewritten);
        const thread = h.fake.thread(APPROVALS, approval.ts).map((m) => textOf(m));
        const delivered = [...h.fake.files().values()].filter((f) => f.completed).length - filesBefore;
        const provisioning = thread.filter((t) => /Provisioning started/.test(t)).length;
        assert.equal(provisioning, kind.delivered ? 1 : 0, 'the provisioning line is posted at most once');
        if (kind.delivered) {
          assert.equal(delivered, 1, 'the kubeconfig arrives once');
        } else {
          assert.equal(delivered, 0);
          await h.dmTo(ALICE, new RegExp(`sending its kubeconfig failed.*kubeconfig ${name}`));
        }
        assert.equal(thread.filter((t) => /Ready after/.test(t)).length, 1, 'the ready line is posted once');

        // The approval message still shows Approve when its rewrite failed: a second click loses cleanly.
        if (!kind.delivered) {
          const again = await h.driver.clickButton(BOB, {
            actionId: 'approve_request',
            container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
          });
          assert.equal(again.status, 200);
          await h.ephemeralTo(BOB, new RegExp(`Cannot approve ${name}: it was already approved by`));
        }

        h.app.service.destroy(alice, active.id);
        await h.waitForStatus(name, 'DESTROYED', 10_000);
        await settled(h);
        assert.deepEqual(auditActions(h, requested.id), [
          'requested',
          'approved',
          'creating',
          'ready',
          'destroy_requested',
          'destroyed',
        ]);
        assert.equal(creates(h, `sbx-${name}`), 1);
        assert.equal(kubeconfigReads(h, requested.id), 1, 'the kubeconfig is read for one DM only');
        assert.equal(h.k3d.clusters().includes(`sbx-${name}`), false);
      });
    }
  });
}
