// The driver must send what Slack sends: these tests run a small real Bolt App and check that its
// listeners receive well-formed payloads and that their effects land in the fake.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { App } from '@slack/bolt';
import type { BoltTestApp } from './bolt-test-app.js';
import { startBoltTestApp } from './bolt-test-app.js';
import type { FakeSlack } from './fake-slack.js';
import { FAKE_BOT, startFakeSlack } from './fake-slack.js';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const APPROVALS = 'C0APPROVALS';

const requestModal = {
  type: 'modal' as const,
  callback_id: 'sandbox_request',
  private_metadata: JSON.stringify({ channel_id: APPROVALS }),
  title: { type: 'plain_text' as const, text: 'Request a sandbox' },
  submit: { type: 'plain_text' as const, text: 'Request' },
  blocks: [
    {
      type: 'input' as const,
      block_id: 'ttl_block',
      label: { type: 'plain_text' as const, text: 'TTL' },
      element: { type: 'plain_text_input' as const, action_id: 'ttl_input' },
    },
  ],
};

const approvalBlocks = (id: string) => [
  {
    type: 'section',
    block_id: `req-${id}-summary`,
    text: { type: 'mrkdwn', text: `*${id}* needs approval` },
  },
  {
    type: 'actions',
    block_id: `req-${id}-decision`,
    elements: [
      {
        type: 'button',
        action_id: 'approve_request',
        style: 'primary',
        value: id,
        text: { type: 'plain_text', text: 'Approve' },
      },
      {
        type: 'button',
        action_id: 'deny_request',
        style: 'danger',
        value: id,
        text: { type: 'plain_text', text: 'Deny' },
      },
    ],
  },
];

/** A miniature /sandbox app: just enough listeners to exercise every driver request type. */
function registerListeners(app: App, seen: { retryNums: (number | undefined)[]; payloads: unknown[] }): void {
  app.command('/sandbox', async ({ command, ack, client }) => {
    await ack();
    if (command.text === '') {
      await client.views.open({ trigger_id: command.trigger_id, view: requestModal });
      return;
    }
    await client.chat.postMessage({
      channel: APPROVALS,
      text: 'sbx-42 needs approval',
      blocks: approvalBlocks('sbx-42'),
    });
  });
  app.view('sandbox_request', async ({ ack, view, body, client }) => {
    seen.payloads.push(body);
    const ttl = view.state.values.ttl_block?.ttl_input?.value ?? '';
    if (ttl === 'misnamed') {
      // A bug Slack punishes: errors keyed by something other than an input block's block_id.
      await ack({ response_action: 'errors', errors: { ttl: 'Max TTL is 24h' } });
      return;
    }
    if (!/^\d+h$/.test(ttl) || Number.parseInt(ttl, 10) > 24) {
      await ack({ response_action: 'errors', errors: { ttl_block: 'Max TTL is 24h' } });
      return;
    }
    await ack();
    await client.chat.postMessage({ channel: APPROVALS, text: `request for ${ttl}` });
  });
  app.action('approve_request', async ({ ack, body, action, respond, client }) => {
    await ack();
    seen.payloads.push(body);
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    if (body.container.type === 'view') {
      await client.views.publish({ user_id: body.user.id, view: { type: 'home', blocks: [] } });
      return;
    }
    await client.chat.update({
      channel: body.channel?.id ?? '',
      ts: body.message?.ts ?? '',
      text: `${action.value} approved by <@${body.user.id}>`,
      blocks: [],
    });
    await respond({ text: 'Thanks, approved', replace_original: false });
  });
  app.event('app_home_opened', async ({ event, context, client }) => {
    seen.retryNums.push(context.retryNum);
    seen.payloads.push(event);
    await client.views.publish({
      user_id: event.user,
      view: {
        type: 'home',
        blocks: [
          {
            type: 'actions',
            block_id: 'home-actions',
            elements: [
              {
                type: 'button',
                action_id: 'approve_request',
                value: 'sbx-7',
                text: { type: 'plain_text', text: 'Go' },
              },
            ],
          },
        ],
      },
    });
  });
}

describe('Slack driver against a real Bolt App', () => {
  let fake: FakeSlack;
  let bolt: BoltTestApp;
  let seen: { retryNums: (number | undefined)[]; payloads: unknown[] };

  beforeEach(async () => {
    fake = await startFakeSlack();
    fake.addUser({ id: ALICE, name: 'alice' });
    fake.addUser({ id: BOB, name: 'bob' });
    fake.addChannel({ id: APPROVALS, name: 'sandbox-approvals', members: [FAKE_BOT.userId, BOB] });
    seen = { retryNums: [], payloads: [] };
    bolt = await startBoltTestApp(fake, (app) => registerListeners(app, seen));
  });

  afterEach(async () => {
    await bolt.stop();
    await fake.stop();
  });

  async function postApprovalMessage(): Promise<string> {
    await bolt.driver.command(ALICE, 'create ttl=4h');
    const posted = await fake.waitForCall('chat.postMessage');
    return String(posted.response?.ts);
  }

  it('when a user clicks Approve on the approval message, then the listener gets the rendered button and updates that message', async () => {
    const ts = await postApprovalMessage();

    const click = await bolt.driver.clickButton(BOB, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: ts },
    });

    assert.equal(click.status, 200);
    await fake.waitForCall('chat.update');
    assert.equal(fake.message(APPROVALS, ts)?.text, 'sbx-42 approved by <@U0BOB>');
    assert.equal(fake.message(APPROVALS, ts)?.blocks, undefined, 'blocks: [] removed the buttons');
    const payload = seen.payloads[0] as { actions: { block_id: string; value: string; style: string }[] };
    assert.deepEqual(
      [payload.actions[0]?.block_id, payload.actions[0]?.value, payload.actions[0]?.style],
      ['req-sbx-42-decision', 'sbx-42', 'primary'],
    );
    const response = await fake.waitForResponse();
    assert.equal(response.url, click.responseUrl);
    assert.deepEqual(
      fake.ephemerals(BOB).map((e) => e.text),
      ['Thanks, approved'],
    );
  });

  it('when a test clicks a button the message does not render, then the driver refuses unless the click is forged', async () => {
    const ts = await postApprovalMessage();
    const container = { type: 'message' as const, channelId: APPROVALS, messageTs: ts };

    await assert.rejects(
      bolt.driver.clickButton(BOB, { actionId: 'extend_sandbox', container }),
      /no button \*\/extend_sandbox.*req-sbx-42-decision\/approve_request/,
    );
    await assert.rejects(
      bolt.driver.clickButton(BOB, { actionId: 'approve_request', value: 'sbx-99', container }),
      /has value "sbx-42"/,
    );
    const forged = await bolt.driver.clickButton(BOB, {
      actionId: 'approve_request',
      value: 'sbx-99',
      blockId: 'stale',
      container,
      forge: true,
    });
    assert.equal(forged.status, 200);
    // The listener keeps working after ack(); let it finish before the fake stops.
    await fake.waitForResponse();
    assert.equal((seen.payloads[0] as { actions: { value: string }[] }).actions[0]?.value, 'sbx-99');
  });

  it('when /sandbox opens the modal and the user submits a bad TTL then a good one, then the modal shows errors and then closes', async () => {
    const result = await bolt.driver.command(ALICE, '');
    assert.equal(result.status, 200);
    await fake.waitForCall('views.open', (call) => call.response?.ok === true);
    assert.equal(fake.openModals(ALICE).length, 1);

    const rejected = await bolt.driver.submitView(ALICE, {
      callbackId: 'sandbox_request',
      values: { ttl_block: { ttl_input: { type: 'plain_text_input', value: '48h' } } },
    });
    assert.deepEqual(rejected.body, { response_action: 'errors', errors: { ttl_block: 'Max TTL is 24h' } });
    assert.equal(rejected.viewRejection, undefined);
    assert.equal(fake.openModals(ALICE).length, 1, 'an errors ack keeps the modal open');

    const accepted = await bolt.driver.submitView(ALICE, {
      callbackId: 'sandbox_request',
      values: { ttl_block: { ttl_input: { type: 'plain_text_input', value: '4h' } } },
    });
    assert.equal(accepted.status, 200);
    assert.deepEqual(fake.openModals(ALICE), [], 'an empty ack closes the modal');
    const submitted = seen.payloads[1] as { view: { private_metadata: string; id: string } };
    assert.equal(submitted.view.private_metadata, JSON.stringify({ channel_id: APPROVALS }));
    assert.equal(submitted.view.id, accepted.view.id);
    await fake.waitForCall('chat.postMessage', (call) => call.args.text === 'request for 4h');
  });

  it("when the app's errors name a block that is not an input of the view, then Slack would refuse them: viewRejection says which", async () => {
    await bolt.driver.command(ALICE, '');
    await fake.waitForCall('views.open', (call) => call.response?.ok === true);
    const misnamed = await bolt.driver.submitView(ALICE, {
      callbackId: 'sandbox_request',
      values: { ttl_block: { ttl_input: { type: 'plain_text_input', value: 'misnamed' } } },
    });
    assert.equal(misnamed.viewRejection?.error, 'invalid_arguments');
    assert.match(misnamed.viewRejection?.messages.join('\n') ?? '', /input block.*\/errors\/ttl\]/);
  });

  it('when a test submits a modal without touching an input, then the app gets that input as Slack sends it, with value null', async () => {
    await bolt.driver.command(ALICE, '');
    await fake.waitForCall('views.open', (call) => call.response?.ok === true);
    await bolt.driver.submitView(ALICE, { callbackId: 'sandbox_request' });
    const submitted = seen.payloads[0] as { view: { state: { values: unknown } } };
    assert.deepEqual(submitted.view.state.values, {
      ttl_block: { ttl_input: { type: 'plain_text_input', value: null } },
    });
  });

  it('when no modal with that callback_id is open, then submitView explains instead of inventing one', async () => {
    await assert.rejects(
      bolt.driver.submitView(ALICE, { callbackId: 'sandbox_request' }),
      /did the app call views\.open/,
    );
  });

  it('when an event is redelivered with X-Slack-Retry-Num, then Bolt sees retryNum and the event_id stays the same', async () => {
    const first = await bolt.driver.appHomeOpened(ALICE);
    const retry = await bolt.driver.appHomeOpened(ALICE, { eventId: first.eventId, retryNum: 1 });

    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.equal(retry.eventId, first.eventId);
    await fake.waitForCall('views.publish', () => fake.callsTo('views.publish').length === 2);
    assert.deepEqual(seen.retryNums, [undefined, 1]);
  });

  it('when the user opens App Home after a publish, then the event carries the Home view and its buttons are clickable', async () => {
    await bolt.driver.appHomeOpened(ALICE);
    await fake.waitForCall('views.publish');
    const home = fake.homeView(ALICE);
    assert.ok(home !== undefined);

    await bolt.driver.appHomeOpened(ALICE, { tab: 'home' });
    const second = seen.payloads[1] as { view?: { id: string }; channel: string };
    assert.equal(second.view?.id, home.id);
    assert.equal(second.channel, 'D0ALICE');

    const click = await bolt.driver.clickButton(ALICE, {
      actionId: 'approve_request',
      container: { type: 'view', viewId: home.id },
    });
    assert.equal(click.status, 200);
    assert.equal(click.responseUrl, undefined, 'Home tab clicks carry no response_url');
    await fake.waitForCall('views.publish', () => fake.callsTo('views.publish').length === 3);
  });

  it('when a whole event_callback envelope is sent, then its event_id is kept and Bolt routes the inner event', async () => {
    const result = await bolt.driver.event({
      type: 'event_callback',
      event_id: 'Ev0FIXED',
      event: { type: 'app_home_opened', user: ALICE, channel: 'D0ALICE', tab: 'home' },
    });
    assert.equal(result.status, 200);
    assert.equal(result.eventId, 'Ev0FIXED');
    await fake.waitForCall('views.publish');
  });

  it('when an event is sent with a bad signature, then Bolt answers 401 and no listener runs', async () => {
    const body = JSON.stringify({ type: 'event_callback', event: { type: 'app_home_opened', user: ALICE } });
    const result = await bolt.driver.send(body, 'application/json', { signature: null });
    assert.equal(result.status, 401);
    assert.deepEqual(seen.payloads, []);
  });
});
