import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../../fakes/slack/fake-slack.js';
import {
  ALICE,
  APPROVALS,
  BOB,
  DAVE,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from './slack-harness.js';

describe('App Home', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness();
    await h.activeSandbox('home-live', '--agents 1');
    await h.request(ALICE, 'create home-wait');
    await h.approvalMessage('home-wait');
    await h.app.events.idle();
  });
  after(async () => {
    await h.stop();
  });

  async function openHome(user: string) {
    const before = h.fake.callsTo('views.publish').filter((c) => c.args.user_id === user).length;
    const result = await h.driver.appHomeOpened(user);
    assert.equal(result.status, 200);
    await waitUntil(
      () =>
        h.fake.callsTo('views.publish').filter((c) => c.args.user_id === user && c.response?.ok).length >
        before,
      5000,
      () => `views.publish for ${user}`,
    );
    const view = h.fake.homeView(user);
    assert.ok(view);
    return view;
  }

  const buttonsOf = (view: { blocks: unknown[] }, blockId: string) =>
    (
      (view.blocks as { block_id?: string; elements?: { action_id: string }[] }[]).find(
        (b) => b.block_id === blockId,
      )?.elements ?? []
    ).map((e) => e.action_id);

  it('when the owner opens App Home, then it lists her sandboxes with state, nodes, time left and their buttons', async () => {
    const view = await openHome(ALICE);
    const text = JSON.stringify(view.blocks);
    const live = h.sandboxNamed('home-live');
    const waiting = h.sandboxNamed('home-wait');
    assert.match(text, /\*home-live\* · :large_green_circle: ACTIVE · 1 server, 1 agent · \d+h?\d*m? left/);
    assert.match(
      text,
      /\*home-wait\* · :hourglass_flowing_sand: PENDING_APPROVAL · 1 server, 0 agents · TTL 2h/,
    );
    assert.deepEqual(buttonsOf(view, `home_${live.id}_actions`), [
      'send_kubeconfig',
      'extend_sandbox',
      'run_tests',
      'destroy_sandbox',
    ]);
    assert.deepEqual(buttonsOf(view, `home_${waiting.id}_actions`), ['cancel_request']);
    assert.match(text, /"action_id":"new_sandbox"/);
    assert.doesNotMatch(text, /Waiting for approval/, 'not an approver');
  });

  it('when an approver opens App Home, then pending requests have Approve and Deny, and Approve works from there', async () => {
    const view = await openHome(BOB);
    const waiting = h.sandboxNamed('home-wait');
    assert.match(JSON.stringify(view.blocks), /Waiting for approval/);
    assert.match(JSON.stringify(view.blocks), /\*home-wait\* from <@U0ALICE>/);
    assert.deepEqual(buttonsOf(view, `pending_${waiting.id}_actions`), ['approve_request', 'deny_request']);

    await h.driver.clickButton(BOB, {
      actionId: 'approve_request',
      value: waiting.id,
      blockId: `pending_${waiting.id}_actions`,
      container: { type: 'view', viewId: view.id },
    });
    await h.waitForStatus('home-wait', 'ACTIVE', 15_000);
    // The approval message in the channel is rewritten as for a click there, and both homes refresh.
    const approval = await h.approvalMessage('home-wait');
    await waitUntil(
      () => /Approved/.test(textOf(h.fake.message(APPROVALS, approval.ts))),
      5000,
      () => 'rewrite',
    );
    await waitUntil(
      () => !JSON.stringify(h.fake.homeView(BOB)?.blocks).includes(`pending_${waiting.id}_actions`),
      5000,
      () => "bob's home without the decided request",
    );
    await waitUntil(
      () =>
        /\*home-wait\* · :large_green_circle: ACTIVE/.test(JSON.stringify(h.fake.homeView(ALICE)?.blocks)),
      5000,
      () => "alice's home showing home-wait active",
    );
  });

  it('when Slack redelivers the same event, then it is handled once', async () => {
    const count = () => h.fake.callsTo('views.publish').filter((c) => c.args.user_id === DAVE).length;
    await h.driver.appHomeOpened(DAVE, { eventId: 'Ev0REPEATED' });
    await waitUntil(
      () => count() === 1,
      5000,
      () => 'the first publish',
    );
    await h.driver.appHomeOpened(DAVE, { eventId: 'Ev0REPEATED', retryNum: 1, retryReason: 'http_timeout' });
    await h.driver.appHomeOpened(DAVE, { eventId: 'Ev0REPEATED', retryNum: 2, retryReason: 'http_timeout' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(count(), 1);
    assert.match(JSON.stringify(h.fake.homeView(DAVE)?.blocks), /You have no sandboxes right now/);
  });

  it('when the owner uses the Home buttons, then Kubeconfig goes to her DMs, Test reports in the thread, New sandbox opens the form', async () => {
    const view = await openHome(ALICE);
    const live = h.sandboxNamed('home-live');
    const uploads = h.fake.callsTo('files.completeUploadExternal').length;
    await h.driver.clickButton(ALICE, {
      actionId: 'send_kubeconfig',
      value: live.id,
      blockId: `home_${live.id}_actions`,
      container: { type: 'view', viewId: view.id },
    });
    await waitUntil(
      () => h.fake.callsTo('files.completeUploadExternal').length > uploads,
      5000,
      () => 'an upload',
    );
    const upload = h.fake.callsTo('files.completeUploadExternal').at(-1);
    assert.equal(upload?.args.channel_id, h.fake.dmChannelOf(ALICE));
    const notice = await waitUntil(
      () => h.fake.openModals(ALICE).find((v) => /sent the kubeconfig/.test(JSON.stringify(v.blocks))),
      5000,
      () => 'a notice modal',
    );
    assert.equal(notice.callback_id, 'sandbox_notice');

    const approval = await h.approvalMessage('home-live');
    await h.driver.clickButton(ALICE, {
      actionId: 'run_tests',
      value: live.id,
      blockId: `home_${live.id}_actions`,
      container: { type: 'view', viewId: view.id },
    });
    await waitUntil(
      () =>
        h.fake
          .thread(APPROVALS, approval.ts)
          .find((m) =>
            /Test suite \*smoke\* on \*home-live\*: :white_check_mark: \*passed\*/.test(textOf(m)),
          ),
      5000,
      () => 'a passing test result in the thread',
    );

    await h.driver.clickButton(ALICE, {
      actionId: 'new_sandbox',
      container: { type: 'view', viewId: view.id },
    });
    await h.createModal(ALICE);
  });

  it('when the kubeconfig upload outlasts the click’s 3 s trigger_id, then a Sending… modal opens at once and then says it was sent', async () => {
    const view = await openHome(ALICE);
    const live = h.sandboxNamed('home-live');
    const modals = () => h.fake.openModals(ALICE).map((v) => ({ id: v.id, text: JSON.stringify(v.blocks) }));
    const before = new Set(modals().map((m) => m.id));
    const opens = h.fake.callsTo('views.open').length;
    h.fake.failNext('files.getUploadURLExternal', { delayMs: 3500 });
    await h.driver.clickButton(ALICE, {
      actionId: 'send_kubeconfig',
      value: live.id,
      blockId: `home_${live.id}_actions`,
      container: { type: 'view', viewId: view.id },
    });
    const waiting = await waitUntil(
      () => modals().find((m) => !before.has(m.id) && /Sending the kubeconfig to your DMs…/.test(m.text)),
      8000,
      () => 'a Sending… modal while the upload runs',
    );
    const done = await waitUntil(
      () => modals().find((m) => /sent the kubeconfig of \*home-live\* to your DMs/.test(m.text)),
      8000,
      () => `the modal saying it was sent; open: ${JSON.stringify(modals())}`,
    );
    assert.equal(done.id, waiting.id, 'the waiting modal itself shows the outcome');
    const opened = h.fake.callsTo('views.open').slice(opens);
    assert.deepEqual(
      opened.map((c) => c.response?.ok),
      [true],
      'one views.open, while the trigger_id was fresh',
    );
  });

  it('when the owner cancels a request from App Home, or an approver denies one there, then the request ends and the homes refresh', async () => {
    await h.request(ALICE, 'create home-cancel');
    await h.request(DAVE, 'create home-deny'); // alice is at her quota of 3
    await h.app.events.idle();
    const cancel = h.sandboxNamed('home-cancel');
    const aliceHome = await openHome(ALICE);
    await h.driver.clickButton(ALICE, {
      actionId: 'cancel_request',
      value: cancel.id,
      blockId: `home_${cancel.id}_actions`,
      container: { type: 'view', viewId: aliceHome.id },
    });
    await h.waitForStatus('home-cancel', 'CANCELLED');

    const deny = h.sandboxNamed('home-deny');
    const bobHome = await openHome(BOB);
    await h.driver.clickButton(BOB, {
      actionId: 'deny_request',
      value: deny.id,
      blockId: `pending_${deny.id}_actions`,
      container: { type: 'view', viewId: bobHome.id },
    });
    await waitUntil(
      () => h.fake.openModals(BOB).find((v) => v.callback_id === 'deny_reason'),
      5000,
      () => 'deny modal',
    );
    await h.driver.submitView(BOB, {
      callbackId: 'deny_reason',
      values: { deny_reason: { deny_reason_input: { type: 'plain_text_input', value: 'not this week' } } },
    });
    await h.waitForStatus('home-deny', 'DENIED');
    await waitUntil(
      () =>
        !/home-cancel/.test(JSON.stringify(h.fake.homeView(ALICE)?.blocks ?? [])) &&
        !/home-deny/.test(JSON.stringify(h.fake.homeView(BOB)?.blocks ?? [])),
      5000,
      () => 'homes without the ended requests',
    );
  });
});
