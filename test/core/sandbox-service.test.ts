import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/adapters/db/open-database.js';
import { Conflict, Forbidden, InvalidInput, QuotaExceeded } from '../../src/core/errors.js';
import { admin, alice, bob, carol, createCoreFixture } from '../helpers/core-fixture.js';

const HOUR = 3_600_000;

describe('SandboxService', () => {
  it('when a request is filed, then it waits for approval and the audit log says who asked', () => {
    const { service, store, seen } = createCoreFixture();
    const s = service.request(alice, { name: 'demo', agents: 2, ttl: '4h' }, { via: 'slack' });
    assert.equal(s.status, 'PENDING_APPROVAL');
    assert.equal(s.clusterName, 'sbx-demo');
    assert.equal(s.ttlMs, 4 * HOUR);
    assert.deepEqual(
      seen.map((e) => e.type),
      ['requested'],
    );
    const [audit] = store.listAudit({ sandboxId: s.id });
    assert.equal(audit?.actor, 'U0ALICE');
    assert.equal(audit?.action, 'requested');
  });

  it('when the input is invalid, then nothing is stored and the message names the rule', () => {
    const { service, store } = createCoreFixture();
    assert.throws(() => service.request(alice, { name: 'My_Cluster' }, { via: 'api' }), InvalidInput);
    assert.equal(store.list({}).length, 0);
    assert.equal(store.listAudit({}).length, 0);
  });

  it('when the name is taken by a live sandbox, then the request is refused and names the owner', () => {
    const { service } = createCoreFixture();
    service.request(alice, { name: 'demo' }, { via: 'slack' });
    assert.throws(
      () => service.request(bob, { name: 'demo' }, { via: 'slack' }),
      (e: Error) => e instanceof Conflict && /owned by U0ALICE/.test(e.message),
    );
  });

  it('when a user is at the per-user quota, then the next request is refused and nothing changes', () => {
    const { service, store } = createCoreFixture({ maxPerUser: 2 });
    service.request(alice, { name: 'one' }, { via: 'slack' });
    service.request(alice, { name: 'two' }, { via: 'slack' });
    assert.throws(() => service.request(alice, { name: 'three' }, { via: 'slack' }), QuotaExceeded);
    assert.equal(store.list({}).length, 2);
    // Someone else is still fine.
    service.request(bob, { name: 'three' }, { via: 'slack' });
  });

  it('when a token files for others, then what it asked for counts against its own quota too', () => {
    const { service, store } = createCoreFixture({ maxPerUser: 2, maxTotal: 20 });
    const ci = { id: 'api:ci', isApprover: false, isAdmin: false };
    service.request(ci, { name: 'for-one' }, { via: 'api', onBehalfOf: 'U0ONE' });
    service.request(ci, { name: 'for-two' }, { via: 'api', onBehalfOf: 'U0TWO' });
    assert.throws(
      () => service.request(ci, { name: 'for-three' }, { via: 'api', onBehalfOf: 'U0THREE' }),
      (e: Error) => e instanceof QuotaExceeded && /api:ci already has 2 live sandboxes/.test(e.message),
    );
    assert.equal(store.list({}).length, 2);
    // The owners' own allowances are theirs: U0ONE may still ask for one more.
    service.request({ id: 'U0ONE', isApprover: false, isAdmin: false }, { name: 'own' }, { via: 'slack' });
  });

  it('when a user files and withdraws requests over and over, then after SANDBOX_MAX_REQUESTS_PER_HOUR in an hour the next is refused, until the hour has passed', () => {
    const { service, store, clock, seen } = createCoreFixture({ maxPerUser: 1, maxRequestsPerHour: 3 });
    // Each request posts to the approvers channel; withdrawing it frees the quota, but not the approvers.
    for (const name of ['one', 'two', 'three']) {
      const s = service.request(alice, { name }, { via: 'slack' });
      service.cancel(alice, s.id);
      clock.advance(60_000);
    }
    const requested = () => seen.filter((e) => e.type === 'requested').length;
    assert.equal(requested(), 3);
    assert.throws(
      () => service.request(alice, { name: 'four' }, { via: 'slack' }),
      (e: Error) =>
        e instanceof QuotaExceeded &&
        /U0ALICE already filed or was named in 3 requests in the last hour \(the limit is 3, withdrawn and denied ones included\)/.test(
          e.message,
        ),
    );
    assert.equal(requested(), 3, 'the approvers heard of no fourth request');
    assert.equal(store.list({}).length, 3);
    // Someone else is still fine, and so is alice once the first of her three is an hour old.
    service.request(bob, { name: 'bobs' }, { via: 'slack' });
    clock.advance(57 * 60_000);
    service.request(alice, { name: 'four' }, { via: 'slack' });
  });

  it('when the bot is at its total quota, then requests are refused', () => {
    const { service } = createCoreFixture({ maxTotal: 1 });
    service.request(alice, { name: 'one' }, { via: 'slack' });
    assert.throws(() => service.request(bob, { name: 'two' }, { via: 'slack' }), /limit of 1 live sandboxes/);
  });

  it('when a cluster is still being destroyed, then it counts against the total (it is on the host) but not its owner’s quota', () => {
    const { service } = createCoreFixture({ maxPerUser: 1, maxTotal: 2 });
    const s = service.request(alice, { name: 'going' }, { via: 'slack' });
    service.approve(bob, s.id);
    service.claimNextQueued();
    service.markReady(s.id, 'apiVersion: v1\n', 1);
    assert.equal(service.destroy(alice, s.id).status, 'DESTROYING');
    service.request(alice, { name: 'next' }, { via: 'slack' });
    assert.throws(
      () => service.request(bob, { name: 'third' }, { via: 'slack' }),
      /limit of 2 live sandboxes/,
    );
    service.markDestroyed(s.id);
    service.request(bob, { name: 'third' }, { via: 'slack' });
  });

  it('when an approver approves, then the request is queued with its position', () => {
    const { service, seen } = createCoreFixture();
    const first = service.request(alice, { name: 'one' }, { via: 'slack' });
    const second = service.request(alice, { name: 'two' }, { via: 'slack' });
    service.approve(bob, first.id);
    const approved = service.approve(carol, second.approvalId);
    assert.equal(approved.status, 'QUEUED');
    assert.equal(approved.decidedBy, 'U0CAROL');
    const positions = seen.flatMap((e) => (e.type === 'approved' ? [e.queuePosition] : []));
    assert.deepEqual(positions, [1, 2]);
  });

  it('when a non-approver or the requester approves, then it is refused and nothing changes', () => {
    const { service, store } = createCoreFixture();
    const mine = service.request(bob, { name: 'mine' }, { via: 'slack' });
    assert.throws(() => service.approve(alice, mine.id), Forbidden);
    assert.throws(() => service.approve(bob, mine.id), /cannot approve your own request/);
    assert.equal(store.get(mine.id)?.status, 'PENDING_APPROVAL');
  });

  it('when self-approval is allowed, then an approver may approve their own request', () => {
    const { service } = createCoreFixture({ allowSelfApproval: true });
    const mine = service.request(bob, { name: 'mine' }, { via: 'slack' });
    assert.equal(service.approve(bob, mine.id).status, 'QUEUED');
  });

  it('when two approvers decide the same request, then the second is told who won', () => {
    const { service, seen } = createCoreFixture();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    service.approve(bob, s.id);
    assert.throws(
      () => service.approve(carol, s.id),
      (e: Error) => e instanceof Conflict && /already approved by U0BOB/.test(e.message),
    );
    assert.throws(() => service.deny(carol, s.id, 'no'), /already approved by U0BOB/);
    assert.equal(seen.filter((e) => e.type === 'approved').length, 1);
  });

  it('when a request is denied, then the reason is kept and it cannot be approved later', () => {
    const { service } = createCoreFixture();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    const denied = service.deny(bob, s.id, 'use the shared staging cluster');
    assert.equal(denied.status, 'DENIED');
    assert.equal(denied.decisionNote, 'use the shared staging cluster');
    assert.throws(() => service.approve(carol, s.id), /already denied by U0BOB/);
    // The name is free again.
    service.request(alice, { name: 'demo' }, { via: 'slack' });
  });

  it('when the owner cancels a pending request, then it is cancelled; others may not', () => {
    const { service } = createCoreFixture();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    assert.throws(() => service.cancel(bob, s.id), Forbidden);
    assert.equal(service.cancel(alice, s.id).status, 'CANCELLED');
  });

  it('when a sandbox becomes ready, then it expires after its TTL and the kubeconfig is stored encrypted', () => {
    const { service, store, clock } = createCoreFixture();
    const s = service.request(alice, { name: 'demo', ttl: '4h' }, { via: 'slack' });
    service.approve(bob, s.id);
    const claimed = service.claimNextQueued();
    assert.equal(claimed?.status, 'CREATING');
    assert.equal(claimed?.apiPort, 6550);
    const ready = service.markReady(s.id, 'apiVersion: v1\nclient-key-data: TOPSECRET\n', 1234);
    assert.equal(ready?.expiresAt, clock.now() + 4 * HOUR);
    const stored = store.getKubeconfig(s.id) ?? '';
    assert.doesNotMatch(stored, /TOPSECRET/);
    assert.match(service.kubeconfig(alice, s.id), /TOPSECRET/);
    assert.throws(() => service.kubeconfig(bob, s.id), /Only the owner/);
    const actions = store.listAudit({ sandboxId: s.id }).map((a) => a.action);
    assert.ok(actions.includes('kubeconfig_read'));
    assert.doesNotMatch(JSON.stringify(store.listAudit({})), /TOPSECRET/);
  });

  it('when ports are taken, then the next free port in the range is allocated', () => {
    const { service } = createCoreFixture();
    for (const name of ['one', 'two'])
      service.approve(bob, service.request(alice, { name }, { via: 'slack' }).id);
    assert.equal(service.claimNextQueued()?.apiPort, 6550);
    assert.equal(service.claimNextQueued(new Set([6551]))?.apiPort, 6552);
  });

  it('when a sweep changes sandboxes, then what it returns and announces is what was stored', () => {
    const { service, store, clock, seen } = createCoreFixture();
    const s = service.request(alice, { name: 'demo', ttl: '1h' }, { via: 'slack' });
    service.approve(bob, s.id);
    service.claimNextQueued();
    service.markReady(s.id, 'apiVersion: v1\n', 1);
    const stale = service.request(alice, { name: 'stale' }, { via: 'slack' });
    const [from, until] = [clock.now(), clock.now() + HOUR];
    const [warned] = service.sweepExpiryWarnings(service.dueExpiryWarnings(from, until), from, until);
    assert.equal(warned?.warnedForExpiresAt, warned?.expiresAt);
    assert.deepEqual(warned, store.get(s.id));
    clock.advance(2 * HOUR);
    const now = clock.now();

    const [expired] = service.sweepExpired(now, 10);
    assert.equal(expired?.status, 'DESTROYING');
    assert.equal(expired?.destroyReason, 'expired');
    const [cancelled] = service.sweepStaleRequests(now, 'nobody approved it', 10);
    assert.equal(cancelled?.decisionNote, 'nobody approved it');

    assert.deepEqual(expired, store.get(s.id));
    assert.deepEqual(cancelled, store.get(stale.id));
    assert.deepEqual(
      seen.filter((e) => ['expiring', 'destroying', 'cancelled'].includes(e.type)).map((e) => e.sandbox),
      [warned, expired, cancelled],
    );
    assert.equal(store.get(stale.id)?.decidedBy, 'system');
  });

  it('when another process holds the write lock, then refused requests and decisions are still answered at once', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'busy-'));
    const file = path.join(dir, 'bot.db');
    const { service, db } = createCoreFixture({ maxPerUser: 1 }, file);
    const s = service.request(alice, { name: 'one' }, { via: 'slack' });
    service.approve(bob, s.id);
    const other = openDatabase(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      // Refusals come from reads; waiting for the lock would end in SQLITE_BUSY after busy_timeout (1 s).
      assert.throws(() => service.request(alice, { name: 'two' }, { via: 'slack' }), QuotaExceeded);
      assert.throws(() => service.request(carol, { name: 'one' }, { via: 'slack' }), Conflict);
      assert.throws(() => service.approve(carol, s.id), /already approved by U0BOB/);
      assert.throws(() => service.deny(carol, s.id, 'no'), /already approved by U0BOB/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a sandbox ends in any final state, then its name and API port are free again', () => {
    const { service, clock } = createCoreFixture({ maxPerUser: 10 });
    const ask = (name: string) => service.request(alice, { name }, { via: 'slack' });
    const start = (name: string) => {
      service.approve(bob, ask(name).id);
      return service.claimNextQueued() as NonNullable<ReturnType<typeof service.claimNextQueued>>;
    };
    const failed = start('failed');
    service.markFailed(failed.id, 'k3d cluster create exited 1');
    const destroyed = start('destroyed');
    service.markReady(destroyed.id, 'apiVersion: v1\n', 1);
    service.destroy(alice, destroyed.id);
    service.markDestroyed(destroyed.id);
    service.deny(bob, ask('denied').id, 'no');
    service.cancel(alice, ask('cancelled').id);
    ask('stale');
    clock.advance(HOUR);
    assert.equal(service.sweepStaleRequests(clock.now(), 'nobody approved it', 10).length, 1);

    assert.equal(failed.apiPort, 6550);
    assert.equal(destroyed.apiPort, 6550, 'the failed sandbox gave its port back');
    for (const name of ['failed', 'destroyed', 'denied', 'cancelled', 'stale']) ask(name);
    assert.equal(start('next').apiPort, 6550, 'the destroyed sandbox gave its port back');
  });

  it('when a user lists with a limit, then the limit counts only what they may see', () => {
    const { service } = createCoreFixture({ maxPerUser: 5 });
    service.request(alice, { name: 'mine' }, { via: 'slack' });
    for (const name of ['later-1', 'later-2', 'later-3']) service.request(carol, { name }, { via: 'slack' });
    assert.deepEqual(
      service.listVisible(alice, { limit: 1 }).map((s) => s.name),
      ['mine'],
    );
    assert.equal(service.listVisible(bob, { limit: 10 }).length, 4, 'an approver sees everyone’s');
  });

  it('when the owner extends, then expiry moves and the warning is re-armed; past the lifetime cap it is refused', () => {
    const { service, clock } = createCoreFixture({ maxLifetimeMs: 6 * HOUR });
    const s = service.request(alice, { name: 'demo', ttl: '4h' }, { via: 'slack' });
    service.approve(bob, s.id);
    service.claimNextQueued();
    const ready = service.markReady(s.id, 'apiVersion: v1\n', 1);
    const warnBy = clock.now() + 10 * HOUR;
    const now = clock.now();
    const warn = () =>
      service.sweepExpiryWarnings(service.dueExpiryWarnings(now, warnBy), now, warnBy).length;
    const listedBefore = service.dueExpiryWarnings(now, warnBy);
    assert.equal(warn(), 1);
    assert.equal(warn(), 0, 'a warning goes out once per expiry');
    assert.equal(
      service.sweepExpiryWarnings(listedBefore, now, warnBy).length,
      0,
      'a row listed before the warning went out is checked again',
    );
    const extended = service.extend(alice, s.id, HOUR);
    assert.equal(extended.expiresAt, (ready?.expiresAt ?? 0) + HOUR);
    assert.equal(warn(), 1, 'the extension re-arms the warning');
    assert.throws(
      () => service.extend(alice, s.id, 2 * HOUR),
      (e: Error) =>
        e instanceof QuotaExceeded &&
        e.message.includes('maximum lifetime of 6h') &&
        e.message.includes(new Date(clock.now() + 6 * HOUR).toISOString()) &&
        e.message.includes('1h of extension is left'),
    );
    assert.equal(service.extensionMs(extended), HOUR);
    assert.throws(() => service.extend(bob, s.id), Forbidden);
  });

  it('when the usual extension would cross the lifetime cap, then it gives what is left, and at the cap it is refused', () => {
    const { service, clock } = createCoreFixture({ maxLifetimeMs: 6 * HOUR, extendByMs: 2 * HOUR });
    const s = service.request(alice, { name: 'capped', ttl: '5h' }, { via: 'slack' });
    service.approve(bob, s.id);
    service.claimNextQueued();
    service.markReady(s.id, 'apiVersion: v1\n', 1);
    const cap = clock.now() + 6 * HOUR;
    const extended = service.extend(alice, s.id);
    assert.equal(extended.expiresAt, cap, 'the 1h left, not 2h');
    assert.equal(service.extensionMs(extended), 0);
    assert.throws(
      () => service.extend(alice, s.id),
      (e: Error) =>
        e instanceof QuotaExceeded && /reached at .*; it cannot be extended further\.$/.test(e.message),
    );
    assert.equal(service.get(s.id)?.expiresAt, cap, 'unchanged');
  });

  it('when the owner extends a sandbox whose expiry passed before the sweep reaped it, then the extension counts from now', () => {
    const { service, clock } = createCoreFixture();
    const s = service.request(alice, { name: 'late', ttl: '1h' }, { via: 'slack' });
    service.approve(bob, s.id);
    service.claimNextQueued();
    service.markReady(s.id, 'apiVersion: v1\n', 1);
    clock.advance(HOUR + 50_000);
    assert.equal(service.extend(alice, s.id, 60_000).expiresAt, clock.now() + 60_000);
  });

  it('when the owner destroys an active sandbox, then it goes DESTROYING; an admin may too', () => {
    const { service, seen } = createCoreFixture();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    service.approve(bob, s.id);
    service.claimNextQueued();
    service.markReady(s.id, 'apiVersion: v1\n', 1);
    assert.throws(() => service.destroy(bob, s.id), Forbidden);
    assert.equal(service.destroy(admin, s.id).status, 'DESTROYING');
    assert.ok(seen.some((e) => e.type === 'destroying'));
    assert.equal(service.markDestroyed(s.id)?.status, 'DESTROYED');
    assert.throws(() => service.destroy(alice, s.id), /already destroyed/);
  });

  it('when destroy is asked of a request that has no cluster yet, then it is cancelled', () => {
    const { service } = createCoreFixture();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    assert.equal(service.destroy(alice, s.id).status, 'CANCELLED');
  });

  it('when the audit log is changed or deleted, then the database refuses', () => {
    const { service, db } = createCoreFixture();
    service.request(alice, { name: 'demo' }, { via: 'slack' });
    assert.throws(() => db.prepare("UPDATE audit_events SET actor = 'x'").run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_events').run(), /append-only/);
  });
});
