import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_APP_TOKEN, waitUntil } from '../../fakes/slack/fake-slack.js';
import { ALICE, APPROVALS, BOB, type SlackHarness, startSlackHarness, textOf } from './slack-harness.js';

// The manifest's default: no public URL, the bot connects out with SLACK_APP_TOKEN and Slack pushes commands,
// clicks and events as envelopes over a WebSocket; every request here goes that way.
describe('Slack in Socket Mode', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness({ env: { SLACK_APP_TOKEN: DEFAULT_APP_TOKEN } });
  });
  after(async () => {
    await h.stop();
  });

  it('when alice asks over Socket Mode and bob approves there, then the cluster is made and her kubeconfig arrives by DM', async () => {
    assert.equal(h.fake.socketModeConnections(), 1);
    const answer = await h.driver.command(ALICE, 'create sock --agents 1 --ttl 2h');
    assert.match(
      textOf(answer.body as { text?: string }),
      /Your request for \*sock\*.*is waiting for approval/,
    );

    const approval = await h.approvalMessage('sock');
    await h.driver.clickButton(BOB, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
    });
    await h.waitForStatus('sock', 'ACTIVE');
    await h.dmTo(ALICE, /kubeconfig/i);
    assert.deepEqual(h.k3d.clusters(), ['sbx-sock']);
  });

  it('when alice lists or mistypes over Socket Mode, then the answer is the payload of the ack', async () => {
    const list = await h.driver.command(ALICE, 'list');
    assert.match(textOf(list.body as { text?: string }), /sock/);
    const typo = await h.driver.command(ALICE, 'craete x');
    assert.match(textOf(typo.body as { text?: string }), /craete/);
  });

  it('when alice creates through the modal over Socket Mode, then its errors come back in the ack and a valid form files the request', async () => {
    await h.driver.command(ALICE, 'create');
    await h.createModal(ALICE);
    const values = (name: string) => ({
      name: { name_input: { type: 'plain_text_input', value: name } },
      servers: { servers_select: { type: 'static_select', selected_option: { value: '1' } } },
      agents: { agents_select: { type: 'static_select', selected_option: { value: '0' } } },
      ttl: { ttl_select: { type: 'static_select', selected_option: { value: '1h' } } },
      reason: { reason_input: { type: 'plain_text_input', value: null } },
    });
    const taken = await h.driver.submitView(ALICE, { callbackId: 'create_sandbox', values: values('sock') });
    assert.match(JSON.stringify(taken.body), /"response_action":"errors".*already exists/);
    const good = await h.driver.submitView(ALICE, {
      callbackId: 'create_sandbox',
      values: values('sock-modal'),
    });
    assert.match(JSON.stringify(good.body), /"response_action":"update".*is waiting for approval/);
    assert.equal(good.viewRejection, undefined);
    assert.equal(h.sandboxNamed('sock-modal').status, 'PENDING_APPROVAL');
  });

  it('when Slack redelivers an event over Socket Mode, then it is handled once', async () => {
    const publishes = () => h.fake.callsTo('views.publish').filter((c) => c.args.user_id === ALICE).length;
    const before = publishes();
    await h.driver.appHomeOpened(ALICE, { eventId: 'Ev0SOCKET' });
    await waitUntil(
      () => publishes() > before || undefined,
      5000,
      () => 'the Home publish',
    );
    const once = publishes();
    await h.driver.appHomeOpened(ALICE, { eventId: 'Ev0SOCKET', retryNum: 1, retryReason: 'timeout' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(publishes(), once);
    assert.match(JSON.stringify(h.fake.homeView(ALICE)?.blocks), /sock/);
  });
});
