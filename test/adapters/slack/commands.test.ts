import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { waitUntil } from '../../fakes/slack/fake-slack.js';
import { createSlackDriver } from '../../fakes/slack/slack-driver.js';
import {
  ALICE,
  APPROVALS,
  AUDIT,
  BOB,
  DAVE,
  GENERAL,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from './slack-harness.js';

describe('/sandbox commands', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness();
    await h.activeSandbox('live', '--servers 1 --agents 2');
    await h.request(ALICE, 'create waiting');
    await h.approvalMessage('waiting');
    await h.app.events.idle();
  });
  after(async () => {
    await h.stop();
  });

  const BAD_INPUT: [user: string, text: string, problem: RegExp, usage: RegExp][] = [
    [
      ALICE,
      'create Bad_Name',
      /name: must be a lowercase RFC 1123 label/,
      /Usage: `\/sandbox create &lt;name&gt; \[--servers N\]/,
    ],
    [ALICE, 'create demo --servers 9', /servers: must be at most 3/, /Usage: `\/sandbox create/],
    [
      ALICE,
      'create demo agents=lots',
      /agents: must be a whole number from 0 to 3/,
      /Usage: `\/sandbox create/,
    ],
    [ALICE, 'create demo --ttl soon', /ttl: \\"soon\\" is not a duration/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo ttl=48h', /ttl: must be at most 24h/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo --colour blue', /Unknown option `--colour`/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo colour=blue', /Unknown option `colour=`/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo --ttl', /`--ttl` needs a value, e.g. `--ttl 4h`/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo --servers 1 --servers 2', /`--servers` is given twice/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo other', /Unexpected `other`/, /Usage: `\/sandbox create/],
    [ALICE, 'create demo --reason "not closed', /quote is not closed/, /Usage: `\/sandbox create/],
    [ALICE, 'create live', /A sandbox named live already exists/, /Usage: `\/sandbox create/],
    [ALICE, 'list everything', /Unexpected `everything`/, /Usage: `\/sandbox list \[--all\]`/],
    [ALICE, 'status', /`status` needs the name of a sandbox/, /Usage: `\/sandbox status &lt;name&gt;`/],
    [ALICE, 'status live extra', /Unexpected `extra`/, /Usage: `\/sandbox status &lt;name&gt;`/],
    [ALICE, 'status Not_A_Name', /The name must be a lowercase RFC 1123 label/, /Usage: `\/sandbox status/],
    [ALICE, 'status ghost', /A sandbox named ghost was not found/, /Usage: `\/sandbox status/],
    [
      DAVE,
      'status live',
      /Only the owner of live, whoever asked for it, approvers and admins may see it/,
      /Usage/,
    ],
    [
      ALICE,
      'kubeconfig',
      /`kubeconfig` needs the name of a sandbox/,
      /Usage: `\/sandbox kubeconfig &lt;name&gt;`/,
    ],
    [
      ALICE,
      'kubeconfig waiting',
      /waiting is waiting for approval; a kubeconfig exists only while it is active/,
      /Usage/,
    ],
    [DAVE, 'kubeconfig live', /Only the owner of live or an admin may fetch its kubeconfig/, /Usage/],
    [
      ALICE,
      'extend',
      /`extend` needs the name of a sandbox/,
      /Usage: `\/sandbox extend &lt;name&gt; \[duration\]`/,
    ],
    [ALICE, 'extend live soon', /The extension \\"soon\\" is not a duration/, /Usage: `\/sandbox extend/],
    [ALICE, 'extend live 1h more', /Unexpected `more`/, /Usage: `\/sandbox extend/],
    [ALICE, 'extend live 2d', /An extension must be between 1m and 24h/, /Usage: `\/sandbox extend/],
    [
      ALICE,
      'extend waiting 1h',
      /waiting is waiting for approval; only an active sandbox can be extended/,
      /Usage/,
    ],
    [DAVE, 'extend live', /Only the owner of live or an admin may extend it/, /Usage/],
    [ALICE, 'destroy', /`destroy` needs the name of a sandbox/, /Usage: `\/sandbox destroy &lt;name&gt;`/],
    [ALICE, 'destroy --force live', /`destroy` takes no option `--force`/, /Usage: `\/sandbox destroy/],
    [DAVE, 'destroy live', /Only the owner of live or an admin may destroy it/, /Usage: `\/sandbox destroy/],
    [ALICE, 'cancel', /`cancel` needs the name of a sandbox/, /Usage: `\/sandbox cancel &lt;name&gt;`/],
    [
      ALICE,
      'cancel live',
      /Cannot cancel live: it (was already approved by <@U0BOB> and )?is active; destroy it instead\./,
      /Usage: `\/sandbox cancel/,
    ],
    [ALICE, 'test', /`test` needs the name of a sandbox/, /Usage: `\/sandbox test &lt;name&gt; \[suite\]`/],
    [
      ALICE,
      'test live chaos',
      /There is no test suite \\"chaos\\"; available: smoke, nodes/,
      /Usage: `\/sandbox test/,
    ],
    [DAVE, 'test live', /Only the owner of live, an approver or an admin may run its tests/, /Usage/],
    [
      ALICE,
      'test waiting',
      /waiting is waiting for approval; only an active sandbox can be tested\./,
      /Usage/,
    ],
  ];

  it('when a command has bad input, then the reply says what was wrong and the accepted form, and nothing changes', async () => {
    const before = JSON.stringify(h.app.service.list({}));
    // The reconciler's `cluster list` runs at every minute's start, so it may land during this test; nothing else may.
    const k3dCalls = () => h.k3d.calls().filter((c) => c.command !== 'cluster list');
    const k3dBefore = k3dCalls().length;
    const approvalPosts = h.fake.messages(APPROVALS).length;
    for (const [user, text, problem, usage] of BAD_INPUT) {
      const reply = await h.ask(user, text);
      assert.match(reply, problem, `/sandbox ${text}`);
      assert.match(reply, usage, `/sandbox ${text} shows the usage`);
    }
    assert.equal(JSON.stringify(h.app.service.list({})), before, 'no sandbox changed');
    assert.equal(k3dCalls().length, k3dBefore, 'k3d was not called');
    assert.equal(h.fake.messages(APPROVALS).length, approvalPosts, 'no approval message');
    assert.equal(h.smokeTester.runs.length, 0, 'no test ran');
    assert.equal(
      h.fake.callsTo('files.getUploadURLExternal').length,
      1,
      'only the first kubeconfig was sent',
    );
  });

  it('when the subcommand is unknown or missing, then the help lists every command', async () => {
    const unknown = await h.ask(ALICE, 'frobnicate now');
    assert.match(unknown, /`frobnicate` is not a sandbox command/);
    for (const sub of [
      'create',
      'list',
      'status',
      'kubeconfig',
      'extend',
      'destroy',
      'cancel',
      'test',
      'help',
    ]) {
      assert.match(unknown, new RegExp(`/sandbox ${sub}`), sub);
    }
    assert.match(await h.ask(ALICE, ''), /Sandbox commands/);
    assert.match(await h.ask(ALICE, 'help'), /Sandbox commands/);
  });

  it('when the Request URL configured in Slack carries a query string, then commands still reach the bot', async () => {
    const driver = createSlackDriver({ appUrl: `${h.appUrl}?from=manifest`, fake: h.fake });
    const answer = await driver.command(ALICE, 'help');
    assert.equal(answer.status, 200);
    assert.match(JSON.stringify(answer.body), /Sandbox commands/);
  });

  it('when flags come as key=value with quotes (even curly ones), then the request carries them', async () => {
    const reply = await h.ask(ALICE, 'create kv servers=2 agents=1 ttl=90m reason=“load test” --');
    assert.match(reply, /Unknown option `--`/);
    const ok = await h.ask(ALICE, 'create kv servers=2 agents=1 ttl=90m reason=“load test for INC-7”');
    assert.match(
      ok,
      /Your request for \*kv\* \(2 servers, 1 agent, 1h30m\) is waiting for approval in <#C0APPROVALS>/,
    );
    const sandbox = h.sandboxNamed('kv');
    assert.deepEqual(
      {
        servers: sandbox.servers,
        agents: sandbox.agents,
        ttlMs: sandbox.ttlMs,
        reason: sandbox.reason,
        via: sandbox.requestedVia,
      },
      { servers: 2, agents: 1, ttlMs: 90 * 60_000, reason: 'load test for INC-7', via: 'slack' },
    );
    assert.match(await h.ask(ALICE, 'cancel kv'), /The request for \*kv\* is cancelled/);
    assert.equal(h.sandboxNamed('kv').status, 'CANCELLED');
  });

  it('when the reason has an apostrophe, straight or curly, then the request is filed with that reason, no quotes needed', async () => {
    for (const [name, reason] of [
      ['apos', "can't repro locally"],
      ['curly', 'customer’s bug'],
    ] as const) {
      const reply = await h.ask(ALICE, `create ${name} --reason ${reason}`);
      assert.match(reply, new RegExp(`Your request for \\*${name}\\* .* is waiting for approval`));
      assert.equal(h.sandboxNamed(name).reason, reason);
      assert.match(await h.ask(ALICE, `cancel ${name}`), /is cancelled/);
    }
  });

  it('when alice lists, asks for status, re-sends the kubeconfig and extends, then each answers and acts', async () => {
    const list = await h.ask(ALICE, 'list');
    assert.match(list, /\*live\* · :large_green_circle: ACTIVE · 1 server, 2 agents · \d+h\d*m? left/);
    assert.match(list, /\*waiting\* · :hourglass_flowing_sand: PENDING_APPROVAL/);
    const all = await h.ask(BOB, 'list --all');
    assert.match(all, /\*live\*.*<@U0ALICE>/);
    assert.match(await h.ask(DAVE, 'list'), /You have no live sandboxes/);

    const status = await h.ask(ALICE, 'status live');
    assert.match(status, /\*live\* · :large_green_circle: ACTIVE/);
    assert.match(status, /Decided by <@U0BOB>/);
    assert.doesNotMatch(status, /client-key-data/);

    assert.match(await h.ask(ALICE, 'kubeconfig live'), /sent the kubeconfig of \*live\* to your DMs/);
    const files = await waitUntil(
      () => {
        const done = [...h.fake.files().values()].filter((f) => f.completed);
        return done.length === 2 ? done : undefined;
      },
      5000,
      () => 'a second kubeconfig upload',
    );
    assert.equal(files[1]?.channel_id, h.fake.dmChannelOf(ALICE));
    assert.equal(files[1]?.text, files[0]?.text);

    const expiresBefore = h.sandboxNamed('live').expiresAt ?? 0;
    assert.match(await h.ask(ALICE, 'extend live 30m'), /Extended \*live\*; it now expires <!date\^/);
    assert.equal(h.sandboxNamed('live').expiresAt, expiresBefore + 30 * 60_000);
    await h.dmTo(ALICE, /\*live\* was extended by 30m/);
  });

  it('when the response_url is failing, then every answer that needs no Slack call still arrives: it rides in the ack', async () => {
    h.fake.failAlways('response_url', { status: 500 });
    try {
      for (const text of [
        'list',
        'status live',
        'help',
        'create Bad_Name',
        'extend live 9999h',
        'destroy live',
      ]) {
        const result = await h.driver.command(ALICE, text, { channelId: GENERAL });
        const answer = h.fake.responses.find((r) => r.url === result.responseUrl);
        assert.equal(answer?.via, 'ack', `/sandbox ${text} is answered in its ack`);
        assert.equal(answer?.status, 200, `Slack accepts the answer to /sandbox ${text}`);
      }
    } finally {
      h.fake.clearFaults();
    }
  });

  it('when alice runs a test suite, then one message in the request thread and one DM to her list each step, the verdict and a failed step’s stderr', async () => {
    const approval = await h.approvalMessage('live');
    h.smokeTester.fail = true;
    const reply = await h.ask(ALICE, 'test live nodes');
    assert.match(
      reply,
      /Running the \*nodes\* tests on \*live\*; the results will come by DM and in the request’s thread/,
    );
    // She may not be in the approvers' channel, where the thread is.
    const dm = await h.dmTo(ALICE, /Test suite \*nodes\* on \*live\*: :x: \*failed\*/);
    assert.match(textOf(dm), /:x: deploy nginx — 30\.0s/);
    const result = await waitUntil(
      () => h.fake.thread(APPROVALS, approval.ts).find((m) => /Test suite/.test(textOf(m))),
      5000,
      () => 'a test result in the thread',
    );
    const text = textOf(result);
    assert.match(text, /Test suite \*nodes\* on \*live\*: :x: \*failed\* \(1\/2 steps, 5\.\ds\)/);
    assert.match(text, /:white_check_mark: nodes ready — 850ms/);
    assert.match(text, /:x: deploy nginx — 30\.0s/);
    assert.match(text, /```\\nerror: timed out waiting for the condition on deployments\/smoke\\n```/);
    await waitUntil(
      () =>
        h.fake
          .messages(AUDIT)
          .find((m) => /<@U0ALICE> ran the test suite nodes on \*live\*: failed/.test(m.text)),
      5000,
      () => `the audit line naming who ran it: ${JSON.stringify(h.fake.messages(AUDIT).map((m) => m.text))}`,
    );
    h.smokeTester.fail = false;
  });

  it('when the database cannot store a test result, then whoever ran the tests is told by DM why and how to run them again', async () => {
    let finish = () => {};
    h.smokeTester.hold = new Promise((resolve) => {
      finish = resolve;
    });
    const locker = new Database(path.join(h.config.dataDir, 'sandbox-bot.db'));
    try {
      assert.match(await h.ask(ALICE, 'test live'), /Running the \*smoke\* tests on \*live\*/);
      locker.exec('BEGIN EXCLUSIVE'); // another writer, past the bot's busy timeout
      finish();
      const dm = await h.dmTo(ALICE, /did not complete/);
      assert.match(
        textOf(dm),
        /The \*smoke\* test run on \*live\* did not complete: database is locked\. Run it again with `\/sandbox test live smoke`/,
      );
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      h.smokeTester.hold = undefined;
    }
  });

  it('when alice asks to destroy, then she is asked to confirm first and nothing is destroyed yet', async () => {
    const reply = await h.ask(ALICE, 'destroy live');
    assert.match(reply, /Destroy \*live\*\? The cluster and everything in it is deleted/);
    assert.match(reply, /"action_id":"destroy_sandbox"/);
    assert.equal(h.sandboxNamed('live').status, 'ACTIVE');
  });

  it('when alice asks to destroy a sandbox being created or destroyed, then she is told its state and what to do, with no button', async () => {
    const { driver } = h;
    h.k3d.setKnobs({ FAKE_K3D_DELAY_MS: 1000, FAKE_K3D_DELETE_DELAY_MS: 1000 });
    try {
      await h.request(ALICE, 'create slow');
      await driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs: (await h.approvalMessage('slow')).ts },
      });
      await h.waitForStatus('slow', 'CREATING');
      const creating = await h.ask(ALICE, 'destroy slow');
      assert.match(
        creating,
        /\*slow\* is being created, so it cannot be destroyed yet\. Once it is active, run `\/sandbox destroy slow` again/,
      );
      assert.doesNotMatch(creating, /Withdraw|destroy_sandbox/);

      await h.waitForStatus('slow', 'ACTIVE');
      await driver.command(ALICE, 'destroy slow', { channelId: GENERAL });
      const confirm = await h.ephemeralTo(ALICE, /Destroy \*slow\*\?/);
      await driver.clickButton(ALICE, {
        actionId: 'destroy_sandbox',
        container: { type: 'message', channelId: GENERAL, messageTs: confirm.message_ts, isEphemeral: true },
      });
      await h.waitForStatus('slow', 'DESTROYING');
      const destroying = await h.ask(ALICE, 'destroy slow');
      assert.match(destroying, /\*slow\* is already being destroyed; its owner gets a DM when it is gone/);
      assert.doesNotMatch(destroying, /Withdraw|destroy_sandbox/);
      await h.waitForStatus('slow', 'DESTROYED');
    } finally {
      h.k3d.setKnobs({ FAKE_K3D_DELAY_MS: null, FAKE_K3D_DELETE_DELAY_MS: null });
    }
  });

  it('when /sandbox create has no arguments, then a modal opens whose errors are shown inline, and a valid one files the request', async () => {
    const { driver } = h;
    await driver.command(ALICE, 'create', { channelId: GENERAL });
    const modal = await h.createModal(ALICE);
    const blockIds = (modal.blocks as { block_id?: string }[]).map((b) => b.block_id);
    assert.deepEqual(blockIds, ['name', 'servers', 'agents', 'ttl', 'reason']);

    const values = (name: string, servers: string, ttl: string) => ({
      name: { name_input: { type: 'plain_text_input', value: name } },
      servers: { servers_select: { type: 'static_select', selected_option: { value: servers } } },
      agents: { agents_select: { type: 'static_select', selected_option: { value: '0' } } },
      ttl: { ttl_select: { type: 'static_select', selected_option: { value: ttl } } },
      reason: { reason_input: { type: 'plain_text_input', value: null } },
    });
    const bad = await driver.submitView(ALICE, {
      callbackId: 'create_sandbox',
      values: values('Bad Name', '7', 'forever'),
    });
    assert.equal(bad.status, 200);
    const errors = (bad.body as { response_action: string; errors: Record<string, string> }).errors;
    assert.equal((bad.body as { response_action: string }).response_action, 'errors');
    assert.match(errors.name ?? '', /lowercase RFC 1123 label/);
    assert.match(errors.servers ?? '', /must be at most 3/);
    assert.match(errors.ttl ?? '', /"forever" is not a duration/);

    const taken = await driver.submitView(ALICE, {
      callbackId: 'create_sandbox',
      values: values('live', '1', '1h'),
    });
    assert.match((taken.body as { errors: Record<string, string> }).errors.name ?? '', /already exists/);
    assert.equal(h.app.service.getByName('modal-made'), undefined);

    const good = await driver.submitView(ALICE, {
      callbackId: 'create_sandbox',
      values: values('modal-made', '2', '4h'),
    });
    assert.equal((good.body as { response_action: string }).response_action, 'update');
    assert.equal(good.viewRejection, undefined);
    assert.match(
      JSON.stringify(good.body),
      /Your request for \*modal-made\* \(2 servers, 0 agents, 4h\) is waiting for approval/,
    );
    const sandbox = h.sandboxNamed('modal-made');
    assert.equal(sandbox.status, 'PENDING_APPROVAL');
    await h.approvalMessage('modal-made');
  });
});
