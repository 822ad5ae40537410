import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitUntil } from '../../fakes/slack/fake-slack.js';
import { recordingLogger } from '../../helpers/core-fixture.js';
import {
  ADMIN,
  ALICE,
  APPROVALS,
  APPROVER_GROUP,
  AUDIT,
  BOB,
  CAROL,
  DAVE,
  GENERAL,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from './slack-harness.js';

describe('Slack approval flow', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('when alice asks with /sandbox create and bob approves, then the cluster is made and its kubeconfig reaches alice by DM only', async () => {
    const { fake, driver } = h;
    const answer = await driver.command(
      ALICE,
      'create demo --servers 1 --agents 1 --ttl 4h --reason "repro INC-2231"',
      {
        channelId: GENERAL,
      },
    );
    assert.equal(answer.status, 200);

    // The ephemeral reply names the request and where it went.
    const reply = await h.ephemeralTo(ALICE, /waiting for approval/);
    const sandbox = h.sandboxNamed('demo');
    assert.match(reply.text, new RegExp(sandbox.approvalId));
    assert.match(textOf(reply), /C0APPROVALS/);

    // The approval message: who, what, and Approve (primary) / Deny (danger).
    const approval = await h.approvalMessage('demo');
    const body = textOf(approval);
    for (const fact of [
      '<@U0ALICE>',
      'demo',
      '*Servers*\\n1',
      '*Agents*\\n1',
      '4h',
      'repro INC-2231',
      sandbox.approvalId,
    ]) {
      assert.ok(body.includes(fact), `approval message mentions ${fact}: ${body}`);
    }
    const buttons = JSON.stringify(approval.blocks);
    assert.match(
      buttons,
      /"action_id":"approve_request","text":\{"type":"plain_text","text":"Approve"[^}]*\},"value":"[^"]+","style":"primary"/,
    );
    assert.match(
      buttons,
      /"action_id":"deny_request","text":\{"type":"plain_text","text":"Deny"[^}]*\},"value":"[^"]+","style":"danger"/,
    );

    const click = await driver.clickButton(BOB, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
    });
    assert.equal(click.status, 200);

    // Rewritten in place: outcome, who, no buttons.
    await waitUntil(
      () => /Approved/.test(textOf(fake.message(APPROVALS, approval.ts))),
      5000,
      () => 'the approval message rewritten',
    );
    const rewritten = fake.message(APPROVALS, approval.ts);
    assert.match(textOf(rewritten), /Approved\* by <@U0BOB>/);
    assert.doesNotMatch(textOf(rewritten), /approve_request|deny_request/);

    await h.dmTo(ALICE, /approved your sandbox \*demo\*.*next in line/);
    const active = await h.waitForStatus('demo', 'ACTIVE', 15_000);
    assert.deepEqual(h.k3d.clusters(), ['sbx-demo']);

    // The kubeconfig: a file in alice's DM with the bytes k3d printed, and nowhere else.
    const file = await waitUntil(
      () => [...fake.files().values()].find((f) => f.completed),
      5000,
      () => 'a completed file upload',
    );
    assert.equal(file.channel_id, fake.dmChannelOf(ALICE));
    assert.equal(file.filename, 'kubeconfig-demo.yaml');
    assert.equal(file.thread_ts, undefined);
    const printed = h.k3dPrintedKubeconfig('sbx-demo');
    // k3d prints a YAML document marker before the kubeconfig; the rest is byte for byte.
    assert.equal(file.text, printed.replace(/^---\n/, ''));
    assert.match(file.initial_comment ?? '', /export KUBECONFIG=.*kubectl get nodes/s);
    const secret = h.app.service.kubeconfig({ id: ALICE, isAdmin: false, isApprover: false }, active.id);
    const keyLine = secret.split('\n').find((l) => l.includes('client-key-data')) ?? 'client-key-data';
    const everywhere = JSON.stringify([
      fake.messages(APPROVALS),
      fake.thread(APPROVALS, approval.ts),
      fake.messages(AUDIT),
      fake.ephemerals(),
    ]);
    assert.ok(
      !everywhere.includes(keyLine.trim().slice(-40)),
      'the key is in no channel, thread, audit or ephemeral',
    );

    // The thread tells the story; the audit channel has one line per step.
    await waitUntil(
      () =>
        fake
          .thread(APPROVALS, approval.ts)
          .some((m) => /The kubeconfig went to <@U0ALICE> by DM/.test(textOf(m))),
      5000,
      () =>
        `the ready line, then the kubeconfig's, in the thread: ${JSON.stringify(fake.thread(APPROVALS, approval.ts).map((m) => m.text))}`,
    );
    const story = fake.thread(APPROVALS, approval.ts).map((m) => textOf(m));
    const readyAt = story.findIndex((t) => /Ready after \d+ seconds?\./.test(t));
    assert.ok(
      readyAt >= 0 && readyAt < story.findIndex((t) => /The kubeconfig went to/.test(t)),
      story.join('\n'),
    );
    assert.ok(
      story.some((t) => /Provisioning started.*sbx-demo/.test(t)),
      story.join('\n'),
    );
    const audit = await waitUntil(
      () => {
        const lines = fake.messages(AUDIT).map((m) => m.text);
        return lines.some((l) => /is ready/.test(l)) ? lines : undefined;
      },
      5000,
      () => `audit lines: ${JSON.stringify(fake.messages(AUDIT).map((m) => m.text))}`,
    );
    assert.match(audit.join('\n'), /requested \*demo\*/);
    assert.match(audit.join('\n'), /<@U0BOB> approved \*demo\* of <@U0ALICE>/);
    assert.match(audit.join('\n'), /creating \*demo\*/);
    for (const line of audit) assert.ok(!line.includes('\n'), `one line: ${line}`);
    assert.deepEqual(h.missingScopes(), [], 'manifest.yml grants every scope used');
  });

  it('when the owner destroys after confirming, then the thread, the DM and the audit say so', async () => {
    const { fake, driver } = h;
    await driver.command(ALICE, 'destroy demo', { channelId: GENERAL });
    const confirm = await h.ephemeralTo(ALICE, /Destroy \*demo\*\?/);
    assert.equal(h.sandboxNamed('demo').status, 'ACTIVE', 'asking changes nothing');
    await driver.clickButton(ALICE, {
      actionId: 'destroy_sandbox',
      container: { type: 'message', channelId: GENERAL, messageTs: confirm.message_ts, isEphemeral: true },
    });
    await h.waitForStatus('demo', 'DESTROYED');
    assert.deepEqual(h.k3d.clusters(), []);
    await h.dmTo(ALICE, /\*demo\* was destroyed/);
    const approval = await h.approvalMessage('demo');
    await waitUntil(
      () =>
        fake
          .thread(APPROVALS, approval.ts)
          .some((m) => /Destroyed: destroyed by <@U0ALICE>/.test(m.text + textOf(m))),
      5000,
      () => 'a destroyed line in the thread',
    );
    await waitUntil(
      () => fake.messages(AUDIT).some((m) => /destroyed/.test(m.text)),
      5000,
      () => 'audit line',
    );
  });

  it('when an admin destroys alice’s sandbox and alice withdraws a request in Slack, then her DMs, the approval message, its thread and the audit channel name who did it as a mention, not a bare user id', async () => {
    const { fake, driver } = h;
    const sandbox = await h.activeSandbox('taken-down');
    await driver.command(ADMIN, 'destroy taken-down', { channelId: GENERAL });
    const confirm = await h.ephemeralTo(ADMIN, /Destroy \*taken-down\*\?/);
    await driver.clickButton(ADMIN, {
      actionId: 'destroy_sandbox',
      container: { type: 'message', channelId: GENERAL, messageTs: confirm.message_ts, isEphemeral: true },
    });
    await h.waitForStatus('taken-down', 'DESTROYED');
    await h.dmTo(ALICE, /\*taken-down\* was destroyed \(destroyed by <@U0ADMIN> in Slack\)/);
    const taken = await h.approvalMessage('taken-down');
    await waitUntil(
      () =>
        fake
          .thread(APPROVALS, taken.ts)
          .some((m) => /Destroyed: destroyed by <@U0ADMIN> in Slack/.test(textOf(m))),
      5000,
      () => `the destroyed line in the thread: ${fake.thread(APPROVALS, taken.ts).map((m) => textOf(m))}`,
    );

    await h.request(ALICE, 'create withdrawn');
    const withdrawn = await h.approvalMessage('withdrawn');
    await driver.command(ALICE, 'cancel withdrawn', { channelId: GENERAL });
    await h.dmTo(ALICE, /\*withdrawn\* was cancelled \(cancelled by <@U0ALICE> in Slack\)/);
    await waitUntil(
      () =>
        /Cancelled\*.*: cancelled by <@U0ALICE> in Slack/.test(textOf(fake.message(APPROVALS, withdrawn.ts))),
      5000,
      () => `the message rewritten as cancelled: ${textOf(fake.message(APPROVALS, withdrawn.ts))}`,
    );
    const audit = () => fake.messages(AUDIT).map((m) => m.text);
    await waitUntil(
      () =>
        audit().some((line) =>
          /cancelled \*withdrawn\* of <@U0ALICE>: cancelled by <@U0ALICE> in Slack/.test(line),
        ),
      5000,
      () => `the cancel in the audit channel: ${audit().join('\n')}`,
    );
    const destroyLines = audit().filter((line) => line.includes(sandbox.id));
    assert.ok(
      destroyLines.some((line) =>
        /\*taken-down\* of <@U0ALICE> destroyed \(destroyed by <@U0ADMIN> in Slack\)/.test(line),
      ),
      destroyLines.join('\n'),
    );

    const seen = [
      ...fake.messages(fake.dmChannelOf(ALICE)),
      ...fake.thread(APPROVALS, taken.ts),
      ...fake.thread(APPROVALS, withdrawn.ts),
      ...fake.messages(AUDIT),
    ].map((m) => textOf(m));
    assert.deepEqual(
      seen.filter((text) => /by U0[A-Z0-9]+ in Slack/.test(text)),
      [],
      'no bare user id',
    );
  });

  it('when an admin destroys alice’s sandbox, then the admin is told alice gets the DM that it is gone, and she does', async () => {
    const { fake, driver } = h;
    await h.activeSandbox('admin-gone');
    await driver.command(ADMIN, 'destroy admin-gone', { channelId: GENERAL });
    const confirm = await h.ephemeralTo(ADMIN, /Destroy \*admin-gone\*\?/);
    await driver.clickButton(ADMIN, {
      actionId: 'destroy_sandbox',
      container: { type: 'message', channelId: GENERAL, messageTs: confirm.message_ts, isEphemeral: true },
    });
    const answer = await h.ephemeralTo(ADMIN, /Destroying \*admin-gone\*/);
    assert.match(answer.text, /I will DM its owner, <@U0ALICE>, when it is gone\./);
    assert.doesNotMatch(answer.text, /DM you/);
    await h.waitForStatus('admin-gone', 'DESTROYED');
    await h.dmTo(ALICE, /\*admin-gone\* was destroyed/);
    await h.app.events.idle();
    assert.deepEqual(
      fake.messages(fake.dmChannelOf(ADMIN)).map((m) => m.text),
      [],
      'the admin gets no DM about it',
    );
  });

  it('when bob denies with a reason, then the message is rewritten and alice reads the reason', async () => {
    const { fake, driver } = h;
    await h.request(ALICE, 'create nope');
    const approval = await h.approvalMessage('nope');
    await driver.clickButton(BOB, {
      actionId: 'deny_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
    });
    await waitUntil(
      () => fake.openModals(BOB).length > 0,
      5000,
      () => 'the deny modal',
    );

    // An empty reason is refused inline and changes nothing.
    const empty = await driver.submitView(BOB, { callbackId: 'deny_reason', values: {} });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, {
      response_action: 'errors',
      errors: { deny_reason: 'Say why, so the requester knows what to change.' },
    });
    assert.equal(h.sandboxNamed('nope').status, 'PENDING_APPROVAL');

    const submitted = await driver.submitView(BOB, {
      callbackId: 'deny_reason',
      values: {
        deny_reason: {
          deny_reason_input: { type: 'plain_text_input', value: 'Use the shared staging cluster' },
        },
      },
    });
    assert.equal(submitted.status, 200);
    assert.equal(h.sandboxNamed('nope').status, 'DENIED');
    await h.dmTo(ALICE, /denied your sandbox request \*nope\*.*Use the shared staging cluster/s);
    await waitUntil(
      () =>
        /Denied\* by <@U0BOB>.*Use the shared staging cluster/.test(
          textOf(fake.message(APPROVALS, approval.ts)),
        ),
      5000,
      () => 'the message rewritten as denied',
    );
    assert.doesNotMatch(textOf(fake.message(APPROVALS, approval.ts)), /approve_request/);
  });

  it('when an approver approves their own request or a non-approver clicks, then they are refused ephemerally and nothing changes', async () => {
    const { driver } = h;
    await h.request(BOB, 'create selfish');
    const approval = await h.approvalMessage('selfish');
    const container = { type: 'message', channelId: APPROVALS, messageTs: approval.ts } as const;

    await driver.clickButton(BOB, { actionId: 'approve_request', container });
    await h.ephemeralTo(BOB, /cannot approve your own request/);
    await driver.clickButton(ALICE, { actionId: 'approve_request', container });
    await h.ephemeralTo(ALICE, /Only approvers may approve/);
    await driver.clickButton(DAVE, { actionId: 'approve_request', container });
    await h.ephemeralTo(DAVE, /Only approvers may approve/);
    await driver.clickButton(DAVE, { actionId: 'deny_request', container });
    await h.ephemeralTo(DAVE, /Only approvers may deny/);

    assert.equal(h.sandboxNamed('selfish').status, 'PENDING_APPROVAL');
    assert.equal(h.fake.openModals(DAVE).length, 0);
    assert.match(textOf(h.fake.message(APPROVALS, approval.ts)), /approve_request/, 'buttons still there');
  });

  it('when Slack sends a command or a button the app does not know, then it is left unanswered and nothing changes', async () => {
    const { driver } = h;
    await h.request(ALICE, 'create mystery');
    const approval = await h.approvalMessage('mystery');
    const container = { type: 'message', channelId: APPROVALS, messageTs: approval.ts } as const;
    const sandbox = h.sandboxNamed('mystery');

    // Slack shows the user its own error for an interaction nobody acknowledged within 3 seconds.
    const [command, click] = await Promise.all([
      driver.command(ALICE, 'list', { command: '/other' }),
      driver.clickButton(BOB, { actionId: 'mystery_button', value: sandbox.id, container, forge: true }),
    ]);
    assert.equal(command.status, 404);
    assert.equal(click.status, 404);
    assert.equal(h.sandboxNamed('mystery').status, 'PENDING_APPROVAL');
  });

  it('when two approvers click Approve at once, then one wins, one cluster is made, and the other is told who', async () => {
    const { driver } = h;
    await h.request(ALICE, 'create race');
    const approval = await h.approvalMessage('race');
    const container = { type: 'message', channelId: APPROVALS, messageTs: approval.ts } as const;
    await Promise.all([
      driver.clickButton(BOB, { actionId: 'approve_request', container }),
      // CAROL is an approver only through the user group (SLACK_APPROVER_GROUP).
      driver.clickButton(CAROL, { actionId: 'approve_request', container }),
    ]);
    const sandbox = await h.waitForStatus('race', 'ACTIVE', 15_000);
    const winner = sandbox.decidedBy;
    const loser = winner === BOB ? CAROL : BOB;
    assert.ok(winner === BOB || winner === CAROL);
    await h.ephemeralTo(loser, new RegExp(`already approved by <@${winner}>`));
    const creates = h.k3d
      .calls()
      .filter((c) => c.command === 'cluster create' && c.argv.includes('sbx-race'));
    assert.equal(creates.length, 1);
  });

  it('when a request is decided outside Slack (the approval timeout), then the message is rewritten and the requester told', async () => {
    const { fake, app } = h;
    await h.request(ALICE, 'create waiting');
    const approval = await h.approvalMessage('waiting');
    app.service.cancel(
      { id: 'system', isApprover: true, isAdmin: true },
      h.sandboxNamed('waiting').id,
      'nobody approved it within 24h',
    );
    await waitUntil(
      () => /Cancelled.*nobody approved it within 24h/.test(textOf(fake.message(APPROVALS, approval.ts))),
      5000,
      () => 'the message rewritten as cancelled',
    );
    assert.doesNotMatch(textOf(fake.message(APPROVALS, approval.ts)), /approve_request/);
    await h.dmTo(
      ALICE,
      /\*waiting\* was cancelled \(nobody approved it within 24h\)\. Nothing was created\. You can ask again with `\/sandbox create waiting`/,
    );
  });

  it('when a request has a bad signature or a stale timestamp, then it gets 401, nothing changes and /metrics counts the refusals', async () => {
    const before = h.app.service.list({}).length;
    const body = new URLSearchParams({
      command: '/sandbox',
      text: 'create forged',
      user_id: ALICE,
      team_id: 'T0SANDBOX',
      channel_id: GENERAL,
      response_url: h.fake.responseUrl({ channelId: GENERAL, userId: ALICE }),
      trigger_id: h.fake.mintTriggerId(ALICE),
    }).toString();
    const badSignature = await h.driver.send(body, 'application/x-www-form-urlencoded', {
      signature: 'v0=0000000000000000000000000000000000000000000000000000000000000000',
    });
    assert.equal(badSignature.status, 401);
    const stale = await h.driver.send(body, 'application/x-www-form-urlencoded', {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    assert.equal(stale.status, 401);
    const unsigned = await h.driver.send(body, 'application/x-www-form-urlencoded', { signature: null });
    assert.equal(unsigned.status, 401);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(h.app.service.list({}).length, before);
    assert.equal(h.app.service.getByName('forged'), undefined);

    // Operators see the refusals next to the answered requests.
    const metrics = await (await fetch(`http://127.0.0.1:${h.port}/metrics`)).text();
    assert.match(metrics, /^slack_request_duration_seconds_count\{type="unknown",status="401"\} 3$/m);
    assert.match(
      metrics,
      /^slack_request_duration_seconds_count\{type="slash_command",status="200"\} [1-9]\d*$/m,
    );
    assert.match(
      metrics,
      /^slack_request_duration_seconds_count\{type="block_actions",status="200"\} [1-9]\d*$/m,
    );
  });

  it('when k3d fails to create the cluster, then the thread shows the reason and k3d’s stderr tail in a code block, and the owner is told', async () => {
    const { fake, driver, k3d } = h;
    k3d.setKnobs({ FAKE_K3D_CREATE_FAIL: 'broken' });
    try {
      await h.request(ALICE, 'create broken');
      const approval = await h.approvalMessage('broken');
      await driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
      });
      const failed = await h.waitForStatus('broken', 'FAILED', 15_000);
      const line = await waitUntil(
        () => fake.thread(APPROVALS, approval.ts).find((m) => /Failed:/.test(textOf(m))),
        5000,
        () => 'a failure in the thread',
      );
      const blocks = JSON.stringify(line.blocks);
      assert.ok(blocks.includes(`Failed: ${failed.failureReason?.slice(0, 40)}`), blocks);
      assert.match(blocks, /```\\ntime=.*level=error.*level=fatal msg=.*rolled back.*\\n```/);
      await h.dmTo(ALICE, /Your sandbox \*broken\* failed: /);
      assert.ok(!h.k3d.clusters().includes('sbx-broken'), 'the partial cluster is gone');
    } finally {
      k3d.setKnobs({ FAKE_K3D_CREATE_FAIL: null });
    }
  });

  it('when an agent asks through the API for alice, then the approval message names the agent, alice and the door, and alice hears of it', async () => {
    const agent = { id: 'api:ci-bot', isApprover: false, isAdmin: false };
    h.app.service.request(agent, { name: 'for-alice', servers: 1 }, { via: 'api', onBehalfOf: ALICE });
    const approval = await h.approvalMessage('for-alice');
    assert.match(textOf(approval), /`api:ci-bot` for <@U0ALICE> \(via the REST API\) asks for a sandbox/);
    await h.dmTo(ALICE, /`api:ci-bot` .*asked for a sandbox \*for-alice\* for you/);
  });

  it('when an AI agent asks over MCP for dave, then the approval message and dave’s DM say that an AI agent asked', async () => {
    const client = new Client({ name: 'approvers-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${h.port}/mcp`)));
    try {
      const result = await client.callTool({
        name: 'create_sandbox',
        arguments: { name: 'from-agent', owner: DAVE, reason: 'reproduce the flaky e2e test' },
      });
      assert.notEqual(result.isError, true, JSON.stringify(result.content));
    } finally {
      await client.close();
    }
    const approval = await h.approvalMessage('from-agent');
    assert.match(
      textOf(approval),
      /`api:local` for <@U0DAVE> \(an AI agent, via MCP\) asks for a sandbox: \*from-agent\*/,
    );
    await h.dmTo(
      DAVE,
      /`api:local` for <@U0DAVE> \(an AI agent, via MCP\) asked for a sandbox \*from-agent\*/,
    );
  });
});

describe('Slack approvers when the approver group changes', () => {
  let h: SlackHarness;
  const log = recordingLogger();
  before(async () => {
    h = await startSlackHarness({ logger: log.logger });
  });
  after(async () => {
    await h.stop();
  });

  it('when carol leaves the approver group after a request was posted, then her Approve click is refused, and a new member’s works', async () => {
    const { fake, driver } = h;
    await h.request(ALICE, 'create moved');
    const approval = await h.approvalMessage('moved');
    const container = { type: 'message', channelId: APPROVALS, messageTs: approval.ts } as const;
    fake.addUsergroup(APPROVER_GROUP, [DAVE]);
    await driver.clickButton(CAROL, { actionId: 'approve_request', container });
    await h.ephemeralTo(CAROL, /Only approvers may approve sandbox requests/);
    assert.equal(h.sandboxNamed('moved').status, 'PENDING_APPROVAL');
    await driver.clickButton(DAVE, { actionId: 'approve_request', container });
    const approved = await h.waitForStatus('moved', 'ACTIVE');
    assert.equal(approved.decidedBy, DAVE);
    fake.addUsergroup(APPROVER_GROUP, [CAROL]);
  });

  it('when an admin disables or deletes the approver group, then its former members can no longer approve and the log says what to fix', async () => {
    const { fake, driver } = h;
    await h.request(ALICE, 'create revoked');
    const approval = await h.approvalMessage('revoked');
    // Slack answers a disabled or deleted user group as one that does not exist.
    fake.failAlways('usergroups.users.list', { ok: false, error: 'no_such_subteam' });
    await h.app.slack?.actors.refresh();
    await driver.clickButton(CAROL, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
    });
    await h.ephemeralTo(CAROL, /Only approvers may approve sandbox requests/);
    assert.equal(h.sandboxNamed('revoked').status, 'PENDING_APPROVAL');
    assert.ok(
      log.warnings.some((w) => /check SLACK_APPROVER_GROUP/.test(w)),
      JSON.stringify(log.warnings),
    );
  });
});

describe('Slack approval message on a busy day', () => {
  let h: SlackHarness;
  before(async () => {
    // One API port: once a sandbox holds it, the next approved one waits in the queue.
    h = await startSlackHarness({
      env: { SANDBOX_API_PORT_RANGE: '6550-6550', SANDBOX_MAX_PER_USER: '4' },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when alice asks while she has another sandbox and the queue is busy, then the approval message says how many she has and how busy the bot is', async () => {
    const first = await h.approvalMessage((await h.request(ALICE, 'create first')).name);
    assert.match(
      textOf(first),
      /When asked: <@U0ALICE> had no other live sandbox \(limit 4\) · the bot had 1 of 20 live sandboxes, 0 waiting for a slot and 0 being created/,
    );
    await h.driver.clickButton(BOB, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: first.ts },
    });
    await h.waitForStatus('first', 'ACTIVE');
    await h.request(DAVE, 'create second');
    await h.driver.clickButton(BOB, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: (await h.approvalMessage('second')).ts },
    });
    await h.waitForStatus('second', 'QUEUED');

    const third = await h.approvalMessage((await h.request(ALICE, 'create third')).name);
    assert.match(
      textOf(third),
      /When asked: <@U0ALICE> had 1 other live sandbox \(limit 4\) · the bot had 3 of 20 live sandboxes, 1 waiting for a slot and 0 being created/,
    );
  });
});
