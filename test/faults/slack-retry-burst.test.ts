// Slack redelivers an interaction it thinks went unanswered, with `X-Slack-Retry-Num`. A storm of 200 identical
// deliveries of one Approve click, concurrently in waves, must approve once and create one cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ALICE,
  APPROVALS,
  BOB,
  type SlackHarness,
  startSlackHarness,
} from '../adapters/slack/slack-harness.js';
import { FAKE_BOT, FAKE_TEAM } from '../fakes/slack/fake-slack.js';

const DELIVERIES = 200;
const WAVES = 4;

describe('a burst of retried Approve clicks', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('when the same signed Approve click arrives 200 times with X-Slack-Retry-Num, then it is approved once and one cluster is created', async () => {
    const sandbox = await h.request(ALICE, 'create stormy');
    const approval = await h.approvalMessage('stormy');
    const button = JSON.stringify(approval.blocks).match(
      /"action_id":"approve_request"[^}]*\},"value":"([^"]+)"/,
    );
    assert.equal(button?.[1], sandbox.id, 'the Approve button carries the sandbox id');

    // One click as Slack sends it; every delivery carries exactly these bytes (re-signed, as Slack does).
    const body = new URLSearchParams({
      payload: JSON.stringify({
        type: 'block_actions',
        user: { id: BOB, username: 'bob', name: 'bob', team_id: FAKE_TEAM.id },
        api_app_id: FAKE_BOT.appId,
        token: h.fake.verificationToken,
        trigger_id: h.fake.mintTriggerId(BOB),
        team: { id: FAKE_TEAM.id, domain: FAKE_TEAM.domain },
        enterprise: null,
        is_enterprise_install: false,
        container: { type: 'message', message_ts: approval.ts, channel_id: APPROVALS, is_ephemeral: false },
        channel: { id: APPROVALS, name: 'sandbox-approvals' },
        message: approval,
        state: { values: {} },
        response_url: h.fake.responseUrl({ channelId: APPROVALS, userId: BOB, messageTs: approval.ts }),
        actions: [
          {
            type: 'button',
            action_id: 'approve_request',
            block_id: 'approve',
            text: { type: 'plain_text', text: 'Approve', emoji: true },
            value: sandbox.id,
            style: 'primary',
            action_ts: `${(Date.now() / 1000).toFixed(6)}`,
          },
        ],
      }),
    }).toString();

    const statuses: number[] = [];
    for (let wave = 0; wave < WAVES; wave++) {
      const answers = await Promise.all(
        Array.from({ length: DELIVERIES / WAVES }, (_, i) =>
          h.driver.send(body, 'application/x-www-form-urlencoded', {
            headers:
              wave === 0 && i === 0
                ? {}
                : {
                    'x-slack-retry-num': String(1 + ((wave + i) % 3)),
                    'x-slack-retry-reason': 'http_timeout',
                  },
          }),
        ),
      );
      statuses.push(...answers.map((a) => a.status));
    }
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every delivery is acknowledged',
    );

    await h.waitForStatus('stormy', 'ACTIVE', 15_000);
    await h.app.events.idle();
    const creates = h.k3d.calls().filter((c) => c.command === 'cluster create');
    assert.deepEqual(
      creates.map((c) => c.argv[2]),
      ['sbx-stormy'],
    );
    assert.deepEqual(h.k3d.clusters(), ['sbx-stormy']);
    const audit = h.app.store.listAudit({ sandboxId: sandbox.id, limit: 1000 }).map((e) => e.action);
    assert.equal(audit.filter((a) => a === 'approved').length, 1);
    assert.equal(audit.filter((a) => a === 'creating').length, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${h.port}/metrics`)).text();
    assert.match(metrics, /^sandbox_requests_total\{outcome="approved"\} 1$/m);
    // The losers were told who won, under the message they clicked.
    await h.ephemeralTo(BOB, /Cannot approve stormy: it was already approved by/);
  });
});
