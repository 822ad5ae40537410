// Slack's rate limits during bursts an org with hundreds of engineers produces: chat.postMessage takes about one
// message per second per channel (short bursts allowed) and answers 429 with Retry-After beyond that. The fake
// Slack's limit is small (2 posts a second per channel) so that the tests stay short.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ALICE,
  APPROVALS,
  AUDIT,
  BOB,
  GENERAL,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from '../adapters/slack/slack-harness.js';
import { waitUntil } from '../fakes/slack/fake-slack.js';

const bob = { id: BOB, isApprover: true, isAdmin: false };
const YEAR = 365 * 24 * 3_600_000;

describe('Slack rate limits in a burst', () => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness({
      env: { SANDBOX_MAX_PER_USER: '20', SANDBOX_PROVISION_CONCURRENCY: '4' },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when Slack rate-limits an audit line for 5 seconds, then /sandbox create typed meanwhile still opens its modal and the audit line follows', async () => {
    const { app, fake, driver } = h;
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 5 });
    app.service.request(
      { id: ALICE, isApprover: false, isAdmin: false },
      { name: 'limited' },
      { via: 'slack' },
    );
    await fake.waitForCall('chat.postMessage', (c) => c.fault !== undefined);

    await driver.command(ALICE, 'create', { channelId: GENERAL });
    await h.createModal(ALICE);
    const opened = fake.callsTo('views.open').at(-1);
    assert.equal(opened?.response?.ok, true, JSON.stringify(opened?.response));

    await waitUntil(
      () => fake.messages(AUDIT).some((m) => m.text.includes('*limited*')),
      10_000,
      () => 'the audit line of limited',
    );
    await h.approvalMessage('limited');
  });

  it('when one sweep expires 10 sandboxes and Slack takes 2 posts a second per channel, then every audit line, thread reply and DM still arrives, each refused post is sent again once', async () => {
    const { app, fake } = h;
    const owners = Array.from({ length: 10 }, (_, i) => `U0OWNER${i}`);
    for (const [i, id] of owners.entries()) fake.addUser({ id, name: `owner${i}` });
    const ids = owners.map(
      (id, i) =>
        app.service.request(
          { id, isApprover: false, isAdmin: false },
          { name: `burst-${i}` },
          { via: 'slack' },
        ).id,
    );
    await waitUntil(
      () => ids.every((id) => app.store.get(id)?.approvalMessage),
      10_000,
      () => 'the approval messages',
    );
    for (const id of ids) app.service.approve(bob, id);
    await waitUntil(
      () => ids.every((id) => app.store.get(id)?.status === 'ACTIVE'),
      20_000,
      () => 'all ACTIVE',
    );
    await app.events.idle();

    fake.limitPostsPerChannel({ posts: 2, windowMs: 1000 });
    const postsBefore = fake.callsTo('chat.postMessage').length;
    assert.equal(app.service.sweepExpired(Date.now() + YEAR, 100).length, 10);
    await waitUntil(
      () => ids.every((id) => app.store.get(id)?.status === 'DESTROYED'),
      20_000,
      () => 'all DESTROYED',
    );
    await app.events.idle();

    const audit = fake.messages(AUDIT).map((m) => m.text);
    for (const [i, id] of ids.entries()) {
      const name = `burst-${i}`;
      assert.equal(
        audit.filter((t) => t.includes(`is destroying *${name}*`)).length,
        1,
        `${name} destroying`,
      );
      assert.equal(audit.filter((t) => t.includes(`*${name}* of <@${owners[i]}> destroyed`)).length, 1);
      const where = app.store.get(id)?.approvalMessage;
      const thread = fake.thread(APPROVALS, where?.ts ?? '').map((m) => textOf(m));
      assert.equal(thread.filter((t) => /Destroying \(expired\)|Destroyed: expired/.test(t)).length, 2, name);
      assert.equal(
        fake
          .messages(fake.dmChannelOf(owners[i] ?? ''))
          .filter((m) => /was destroyed \(expired\)/.test(textOf(m))).length,
        1,
      );
    }
    // Posts to a channel go out one at a time: a refused one waits its Retry-After, not the whole burst with it.
    const posts = fake.callsTo('chat.postMessage').slice(postsBefore);
    const refused = posts.filter((c) => c.response?.error === 'ratelimited').length;
    assert.ok(refused > 0, 'the burst went over the limit');
    assert.ok(refused <= posts.length - refused, `${refused} refused for ${posts.length - refused} posted`);
    fake.limitPostsPerChannel(undefined);
  });
});
