import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../../fakes/slack/fake-slack.js';
import {
  ALICE,
  APPROVALS,
  AUDIT,
  BOB,
  DAVE,
  type SlackHarness,
  startSlackHarness,
  textOf,
} from './slack-harness.js';

const MINUTE = 60_000;

describe('expiry warning DM', () => {
  let h: SlackHarness;
  before(async () => {
    // A short lifetime cap, so the second extension crosses it.
    h = await startSlackHarness({
      env: {
        SANDBOX_DEFAULT_TTL: '30m',
        SANDBOX_MAX_TTL: '1h',
        SANDBOX_MAX_LIFETIME: '2h',
        SANDBOX_EXTEND_BY: '1h',
        SANDBOX_WARN_BEFORE: '15m',
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when a sandbox nears expiry, then its owner gets one DM whose Extend works up to the lifetime cap, whose cap is explained, and whose buttons stay polite once it is gone', async () => {
    const { fake, driver, app } = h;
    const sandbox = await h.activeSandbox('soon', '--ttl 10m');
    assert.equal(await app.sweeps.warnExpiring(), 1);
    assert.equal(await app.sweeps.warnExpiring(), 0, 'warned once per expiry');
    const warning = await h.dmTo(ALICE, /expires in/);
    assert.match(textOf(warning), /Your sandbox \*soon\* expires in \d+m/);
    const dm = fake.dmChannelOf(ALICE);
    const container = { type: 'message', channelId: dm, messageTs: warning.ts } as const;
    assert.match(
      JSON.stringify(warning.blocks),
      /"action_id":"extend_sandbox","text":\{"type":"plain_text","text":"Extend by 1h"/,
    );
    assert.match(
      JSON.stringify(warning.blocks),
      /"action_id":"destroy_sandbox","text":\{"type":"plain_text","text":"Destroy now"/,
    );

    // Extend: the expiry moves by SANDBOX_EXTEND_BY.
    const expiresAt = sandbox.expiresAt ?? 0;
    await driver.clickButton(ALICE, { actionId: 'extend_sandbox', container });
    await h.ephemeralTo(ALICE, /Extended \*soon\*; it now expires/);
    assert.equal(h.sandboxNamed('soon').expiresAt, expiresAt + 60 * MINUTE);
    await h.dmTo(ALICE, /\*soon\* was extended by 1h/);

    // Near the cap (2h after it became ready): the click gives what is left, 50m.
    const capAt = (h.sandboxNamed('soon').readyAt ?? 0) + 120 * MINUTE;
    await driver.clickButton(ALICE, { actionId: 'extend_sandbox', container });
    await h.dmTo(ALICE, /\*soon\* was extended by 50m/);
    assert.equal(h.sandboxNamed('soon').expiresAt, capAt);

    // At the cap: refused, with the cap and when it is reached.
    await driver.clickButton(ALICE, { actionId: 'extend_sandbox', container });
    const refusal = await h.ephemeralTo(ALICE, /maximum lifetime/);
    const cap = new Date(capAt).toISOString();
    assert.match(refusal.text, /soon cannot live past its maximum lifetime of 2h, reached at/);
    // In the reader's time zone, with the UTC time only as the fallback of clients that cannot show dates.
    assert.ok(
      textOf(refusal).includes(
        `reached at <!date^${Math.floor(capAt / 1000)}^{date_short_pretty} {time}|${cap}>`,
      ),
      `names ${cap} as a Slack date: ${textOf(refusal)}`,
    );
    assert.equal(h.sandboxNamed('soon').expiresAt, capAt, 'unchanged');

    // Destroy now, then the stale Extend is answered politely and changes nothing.
    await driver.clickButton(ALICE, { actionId: 'destroy_sandbox', container });
    await h.ephemeralTo(ALICE, /Destroying \*soon\*/);
    await h.waitForStatus('soon', 'DESTROYED');
    await driver.clickButton(ALICE, { actionId: 'extend_sandbox', container });
    const stale = await h.ephemeralTo(
      ALICE,
      /soon was already destroyed; only an active sandbox can be extended/,
    );
    assert.doesNotMatch(stale.text, /went wrong/);
    await driver.clickButton(ALICE, { actionId: 'destroy_sandbox', container });
    await h.ephemeralTo(ALICE, /Cannot destroy soon: it was already destroyed/);
    assert.deepEqual(h.k3d.clusters(), []);
  });

  it('when the same Extend button is used from App Home, then it works there too, offers what is left before the lifetime cap, and nothing at the cap', async () => {
    const { fake, driver, app } = h;
    const sandbox = await h.activeSandbox('home-ext', '--ttl 10m');
    await driver.appHomeOpened(ALICE);
    const view = await waitUntil(
      () =>
        JSON.stringify(fake.homeView(ALICE)?.blocks ?? []).includes(sandbox.id)
          ? fake.homeView(ALICE)
          : undefined,
      5000,
      () => 'the home view',
    );
    const click = () =>
      driver.clickButton(ALICE, {
        actionId: 'extend_sandbox',
        value: sandbox.id,
        blockId: `home_${sandbox.id}_actions`,
        container: { type: 'view', viewId: view.id },
      });
    await click();
    await waitUntil(
      () => app.service.get(sandbox.id)?.expiresAt === (sandbox.expiresAt ?? 0) + 60 * MINUTE,
      5000,
      () => 'extended',
    );
    // Then the Home tab offers the 50m left before the cap, and once there, no Extend at all.
    const homeShows = (what: string, shown: (blocks: string) => boolean) =>
      waitUntil(
        () => shown(JSON.stringify(fake.homeView(ALICE)?.blocks ?? [])) || undefined,
        5000,
        () => `a home view with ${what}: ${JSON.stringify(fake.homeView(ALICE)?.blocks)}`,
      );
    await homeShows('Extend 50m', (blocks) => blocks.includes('"text":"Extend 50m"'));
    await click();
    await homeShows(
      'no Extend',
      (blocks) => blocks.includes('Kubeconfig') && !blocks.includes('extend_sandbox'),
    );
    assert.equal(app.service.get(sandbox.id)?.expiresAt, (sandbox.readyAt ?? 0) + 120 * MINUTE);
  });
});

describe('expiry warning DM, swept by hand', () => {
  // The bot's clock, moved by hand; the real Date.now() stays for Slack's signatures.
  let offsetMs = 0;
  let h: SlackHarness;
  before(async () => {
    // The cron tick stays out of the way, so the sweeps below are the only ones.
    h = await startSlackHarness({
      env: { SANDBOX_WARN_BEFORE: '15m', SANDBOX_SWEEP_SCHEDULE: '0 0 1 1 *' },
      overrides: { clock: { now: () => Date.now() + offsetMs } },
    });
  });
  after(async () => {
    await h.stop();
  });

  it('when Slack refuses the warning DM, then the audit trail says so and the next sweep warns again, once', async () => {
    const { fake, app } = h;
    const sandbox = await h.activeSandbox('unwarned', '--ttl 10m');
    await app.events.idle();
    const warnings = () => fake.messages(fake.dmChannelOf(ALICE)).filter((m) => /expires soon/.test(m.text));
    const trail = () =>
      app.store
        .listAudit({ sandboxId: sandbox.id })
        .map((e) => e.action)
        .filter((action) => action.startsWith('expiry_'))
        .reverse();

    fake.failAlways('chat.postMessage', { ok: false, error: 'fatal_error' });
    assert.equal(await app.sweeps.warnExpiring(), 1);
    await app.events.idle();
    assert.equal(warnings().length, 0, 'Slack refused the DM');
    assert.deepEqual(trail(), ['expiry_warned', 'expiry_warning_failed']);

    fake.clearFaults();
    assert.equal(await app.sweeps.warnExpiring(), 1, 'the warning is tried again');
    await app.events.idle();
    await h.dmTo(ALICE, /Your sandbox \*unwarned\* expires in/);
    assert.deepEqual(trail(), ['expiry_warned', 'expiry_warning_failed', 'expiry_warned']);
    assert.equal(await app.sweeps.warnExpiring(), 0, 'and then once only');
    await app.events.idle();
    assert.equal(warnings().length, 1);
  });

  it('when the owner cannot be DMed (user_not_found), then the audit channel does not say they were warned, and they are once they can be', async () => {
    const { fake, app, driver } = h;
    fake.failAlways('conversations.open', { ok: false, error: 'user_not_found' });
    await h.request(DAVE, 'create no-dms --ttl 10m');
    const approval = await h.approvalMessage('no-dms');
    await driver.clickButton(BOB, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: approval.ts },
    });
    const sandbox = await h.waitForStatus('no-dms', 'ACTIVE');
    await app.events.idle();
    const told = () => fake.messages(AUDIT).filter((m) => /warned <@U0DAVE> that \*no-dms\*/.test(m.text));

    assert.equal(await app.sweeps.warnExpiring(), 1);
    await app.events.idle();
    assert.deepEqual(told(), [], 'the audit channel does not claim a warning that was not sent');
    assert.equal(app.service.get(sandbox.id)?.warnedForExpiresAt, null, 'given back for the next sweep');

    fake.clearFaults();
    assert.equal(await app.sweeps.warnExpiring(), 1);
    await app.events.idle();
    await h.dmTo(DAVE, /Your sandbox \*no-dms\* expires in/);
    assert.equal(told().length, 1);
  });

  it('when the bot comes back after an unwarned sandbox’s expiry, then its owner is told it was destroyed, not asked to extend it', async () => {
    const { fake, app } = h;
    const sandbox = await h.activeSandbox('overslept', '--ttl 10m');
    await app.events.idle();
    offsetMs = 11 * MINUTE;
    // A cron tick runs the jobs in this order.
    assert.equal(await app.sweeps.warnExpiring(), 0, 'nothing left to warn about');
    await app.sweeps.reapExpired();
    await h.waitForStatus('overslept', 'DESTROYED');
    await h.dmTo(ALICE, /Your sandbox \*overslept\* was destroyed \(expired\)/);
    await app.events.idle();
    const asked = fake
      .messages(fake.dmChannelOf(ALICE))
      .filter((m) => /extend_sandbox/.test(JSON.stringify(m.blocks)) && m.text.includes('overslept'));
    assert.deepEqual(
      asked.map((m) => m.text),
      [],
      'no Extend button for a sandbox already past its expiry',
    );
    assert.equal(app.service.get(sandbox.id)?.warnedForExpiresAt, null);
  });
});
