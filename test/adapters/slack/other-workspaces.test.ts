import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALICE, APPROVALS, GENERAL, type SlackHarness, startSlackHarness, textOf } from './slack-harness.js';

/** Someone of another organisation: a member of a Slack Connect channel, or of a workspace the app is also in. */
const MALLORY = 'U0MALLORY';
const OTHER_TEAM = 'T0OTHER';

describe('people of other workspaces', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness();
    h.fake.addUser({ id: MALLORY, name: 'mallory', teamId: OTHER_TEAM });
    await h.request(ALICE, 'create alices');
    await h.approvalMessage('alices');
  });
  after(async () => {
    await h.stop();
  });

  it('when a user of another workspace the app is installed in runs /sandbox create, then it is refused with whose bot it is, and nothing is filed', async () => {
    const result = await h.driver.command(MALLORY, 'create outsider', { channelId: GENERAL });
    assert.equal(result.status, 200);
    assert.match(
      textOf(result.body as { text?: string }),
      /only for people of the Sandbox Test workspace; nothing was done/,
    );
    assert.equal(h.app.service.getByName('outsider'), undefined);
    assert.deepEqual(
      h.app.service.list({ owner: MALLORY }).map((s) => s.name),
      [],
      'no request of theirs reached the approvers',
    );
  });

  it('when a user of another workspace runs /sandbox create without arguments, then the refusal comes in the ack and no modal opens for them', async () => {
    const result = await h.driver.command(MALLORY, 'create', { channelId: GENERAL });
    assert.match(textOf(result.body as { text?: string }), /only for people of the Sandbox Test workspace/);
    assert.deepEqual(h.fake.openModals(MALLORY), []);
  });

  it('when an external member of a shared approvers channel clicks Approve, then they are told the bot is not theirs, and the request still waits', async () => {
    const message = await h.approvalMessage('alices');
    await h.driver.clickButton(MALLORY, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: message.ts },
    });
    await h.ephemeralTo(MALLORY, /only for people of the Sandbox Test workspace; nothing was done/);
    assert.equal(h.sandboxNamed('alices').status, 'PENDING_APPROVAL');
  });
});

describe('people of the other workspaces of an Enterprise Grid org', () => {
  const ORG = { id: 'E0ACME', name: 'Acme' };
  /** Of the org's sales workspace, where the app is installed too, and an approver. */
  const SAM = 'U0SAM';
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness({
      enterprise: ORG,
      env: { SLACK_APPROVERS: SAM },
      beforeStart: (fake) => {
        fake.addUser({ id: SAM, name: 'sam', teamId: 'T0SALES', enterpriseId: ORG.id });
        fake.addUser({ id: MALLORY, name: 'mallory', teamId: OTHER_TEAM });
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when a user of another workspace of the org requests a sandbox and another approves it, then both count', async () => {
    const result = await h.driver.command(SAM, 'create sams', { channelId: GENERAL });
    assert.match(textOf(result.body as { text?: string }), /waiting for approval/);
    await h.request(ALICE, 'create alices');
    const message = await h.approvalMessage('alices');
    await h.driver.clickButton(SAM, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: message.ts },
    });
    await h.waitForStatus('alices', 'ACTIVE');
  });

  it('when a user of a workspace outside the org runs /sandbox create, then it is still refused', async () => {
    const result = await h.driver.command(MALLORY, 'create outsider', { channelId: GENERAL });
    assert.match(textOf(result.body as { text?: string }), /only for people of the Sandbox Test workspace/);
    assert.equal(h.app.service.getByName('outsider'), undefined);
  });
});
