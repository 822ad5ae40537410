import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LifecycleSweeps } from '../../src/core/lifecycle-sweeps.js';
import type { ClusterInfo, Logger } from '../../src/core/ports.js';
import { Reconciler } from '../../src/core/reconciler.js';
import {
  alice,
  bob,
  createProvisionerFixture,
  recordingLogger,
  silentLogger,
  waitFor,
} from '../helpers/core-fixture.js';

const MINUTE = 60_000;

function setup(logger: Logger = silentLogger) {
  const fixture = createProvisionerFixture();
  const { runtime, provisioner } = fixture;
  const sweeps = new LifecycleSweeps({
    ...fixture,
    options: { warnBeforeMs: 15 * MINUTE, approvalTimeoutMs: 24 * 60 * MINUTE },
  });
  const reconciler = new Reconciler({
    service: fixture.service,
    runtime,
    provisioner,
    clock: fixture.clock,
    logger,
    clusterPrefix: 'sbx-',
  });
  const activeSandbox = async (name: string, ttl = '1h') => {
    const s = fixture.requestApproved(name, ttl);
    await waitFor(() => fixture.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    return fixture.store.get(s.id)!;
  };
  provisioner.start();
  return { ...fixture, sweeps, reconciler, activeSandbox };
}

describe('lifecycle sweeps', () => {
  it('when a sandbox nears expiry, then exactly one warning goes out; an extension re-arms it', async () => {
    const { sweeps, clock, activeSandbox, seen, service } = setup();
    const s = await activeSandbox('demo', '1h');
    clock.advance(40 * MINUTE);
    assert.equal(await sweeps.warnExpiring(), 0, 'not yet within 15 minutes');
    clock.advance(6 * MINUTE);
    assert.equal(await sweeps.warnExpiring(), 1);
    assert.equal(await sweeps.warnExpiring(), 0);
    assert.equal(seen.filter((e) => e.type === 'expiring').length, 1);
    service.extend(alice, s.id, 30 * MINUTE);
    assert.equal(await sweeps.warnExpiring(), 0, 'the new expiry is 44 minutes away');
    clock.advance(30 * MINUTE);
    assert.equal(await sweeps.warnExpiring(), 1);
  });

  it('when a sandbox expires, then it is destroyed and recorded as expired', async () => {
    const { sweeps, clock, activeSandbox, store, runtime } = setup();
    const s = await activeSandbox('demo', '1h');
    clock.advance(61 * MINUTE);
    assert.equal(await sweeps.reapExpired(), 1);
    await waitFor(() => store.get(s.id)?.status === 'DESTROYED', 'DESTROYED');
    assert.equal(store.get(s.id)?.destroyReason, 'expired');
    assert.equal(runtime.clusters.size, 0);
    assert.equal(await sweeps.reapExpired(), 0);
  });

  it('when more rows are due than one slice holds, then one sweep handles them all, letting other work run between slices', async () => {
    const { clock, service, store, seen } = setup();
    const sweeps = new LifecycleSweeps({
      service,
      clock,
      options: { warnBeforeMs: 15 * MINUTE, approvalTimeoutMs: 60 * MINUTE, sliceSize: 3 },
    });
    const ids = Array.from(
      { length: 7 },
      (_, i) => service.request(alice, { name: `stale-${i}` }, { via: 'slack' }).id,
    );
    clock.advance(61 * MINUTE);
    let otherWorkRan = false;
    setImmediate(() => {
      otherWorkRan = true;
    });
    const swept = sweeps.expireStaleRequests();
    assert.equal(otherWorkRan, false);
    assert.equal(await swept, 7);
    assert.ok(otherWorkRan, 'the event loop had a turn before the sweep finished');
    assert.deepEqual(
      ids.map((id) => store.get(id)?.status),
      ids.map(() => 'CANCELLED'),
    );
    assert.equal(seen.filter((e) => e.type === 'cancelled').length, 7);
    assert.equal(await sweeps.expireStaleRequests(), 0);
  });

  it('when a request waits longer than the approval timeout, then it is cancelled', async () => {
    const { sweeps, clock, service, store } = setup();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    clock.advance(23 * 60 * MINUTE);
    assert.equal(await sweeps.expireStaleRequests(), 0);
    clock.advance(2 * 60 * MINUTE);
    assert.equal(await sweeps.expireStaleRequests(), 1);
    assert.equal(store.get(s.id)?.status, 'CANCELLED');
    assert.match(store.get(s.id)?.decisionNote ?? '', /nobody approved it within 24h/);
  });
});

describe('reconciler', () => {
  it('when a prefixed cluster has no sandbox, then it is deleted; a cluster without the prefix is untouched', async () => {
    const { reconciler, runtime, store } = setup();
    runtime.clusters.set('sbx-orphan', { clusterName: 'sbx-orphan', servers: 1, agents: 0, apiPort: 7000 });
    runtime.clusters.set('team-prod', { clusterName: 'team-prod', servers: 1, agents: 0, apiPort: 7001 });
    const report = await reconciler.run();
    assert.deepEqual(report.orphansDeleted, ['sbx-orphan']);
    assert.deepEqual([...runtime.clusters.keys()], ['team-prod']);
    assert.ok(store.listAudit({}).some((a) => a.action === 'orphan_deleted'));
  });

  it('when an ACTIVE sandbox has lost its cluster, then it is FAILED as "cluster disappeared"', async () => {
    const { reconciler, runtime, store, activeSandbox } = setup();
    const s = await activeSandbox('demo');
    runtime.clusters.clear();
    await reconciler.run();
    assert.match(store.get(s.id)?.failureReason ?? '', /cluster disappeared/);
  });

  it('when a crash left a CREATING row with a running cluster, then it is adopted as ACTIVE', async () => {
    const { reconciler, runtime, store, service } = setup();
    const s = service.request(alice, { name: 'demo' }, { via: 'slack' });
    service.approve(bob, s.id);
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    // Simulate the crash: the cluster exists, the row still says CREATING, no provisioner works on it.
    store.transition(s.id, ['ACTIVE'], 'CREATING', {});
    const report = await reconciler.run();
    assert.deepEqual(report.adopted, [s.id]);
    assert.equal(store.get(s.id)?.status, 'ACTIVE');
    assert.ok(runtime.clusters.has('sbx-demo'));
  });

  it('when a crash left a CREATING row whose cluster never started its agents and load balancer, then the cluster is deleted and the create retried', async () => {
    const { reconciler, runtime, store, service } = setup();
    const s = service.request(alice, { name: 'half', agents: 2 }, { via: 'slack' });
    service.approve(bob, s.id);
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    store.transition(s.id, ['ACTIVE'], 'CREATING', {});
    runtime.halfStarted.add('sbx-half');
    const report = await reconciler.run();
    assert.deepEqual(report.adopted, []);
    assert.deepEqual(report.requeued, [s.id]);
    const again = await waitFor(
      () => (store.get(s.id)?.status === 'ACTIVE' ? store.get(s.id) : undefined),
      'ACTIVE',
    );
    assert.equal(again.createAttempts, 2);
    assert.deepEqual(runtime.calls.slice(-3), ['delete sbx-half', 'create sbx-half', 'kubeconfig sbx-half']);
  });

  it('when two passes are asked for at once (start-up and cron), then they take turns: an interrupted create is retried once', async () => {
    const { reconciler, runtime, store, activeSandbox } = setup();
    const s = await activeSandbox('twice');
    store.transition(s.id, ['ACTIVE'], 'CREATING', {});
    runtime.halfStarted.add('sbx-twice');
    // The second pass's delete is slower, so the first pass has requeued and the provisioner re-claimed by then.
    runtime.createDelayMs = 100;
    const remove = runtime.delete.bind(runtime);
    let deletes = 0;
    runtime.delete = async (name) => {
      if (++deletes === 2) await new Promise((resolve) => setTimeout(resolve, 30));
      await remove(name);
    };
    await Promise.all([reconciler.run(), reconciler.run()]);
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    const actions = store
      .listAudit({ sandboxId: s.id })
      .map((a) => a.action)
      .reverse();
    assert.deepEqual(actions.slice(actions.indexOf('ready') + 1), ['requeued', 'creating', 'ready']);
    assert.equal(runtime.calls.filter((c) => c === 'create sbx-twice').length, 2);
    // A second pass at once would have deleted the half-started cluster again, under the new create.
    assert.equal(deletes, 1);
    assert.ok(runtime.clusters.has('sbx-twice'), 'the ACTIVE sandbox has its cluster');
  });

  /**
   * The next cluster list answers with `picture`, taken before the sandbox `late` became ready: its create finishes
   * while k3d is asked.
   */
  function readyWhileListing(fixture: ReturnType<typeof setup>, picture: () => Promise<ClusterInfo[]>) {
    const { runtime, store, service, clock } = fixture;
    const s = service.request(alice, { name: 'late' }, { via: 'slack' });
    const list = runtime.list.bind(runtime);
    runtime.list = async () => {
      clock.advance(1000);
      service.approve(bob, s.id);
      await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
      runtime.list = list;
      return picture();
    };
    return s;
  }

  it('when a sandbox becomes ready while the cluster list is being read, then it is not taken for vanished', async () => {
    const fixture = setup();
    const { reconciler, runtime, store } = fixture;
    const snapshotBeforeCreate = await runtime.list();
    const s = readyWhileListing(fixture, async () => snapshotBeforeCreate);
    const report = await reconciler.run();
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.orphansDeleted, []);
    assert.equal(store.get(s.id)?.status, 'ACTIVE');
  });

  it('when a sandbox becomes ready while the cluster list is being read, then its cluster, listed mid-create, is not taken for stopped', async () => {
    const fixture = setup();
    const { reconciler, runtime, store, service, seen } = fixture;
    // k3d lists the cluster before its load balancer runs.
    const s = readyWhileListing(fixture, async () => {
      runtime.halfStarted.add('sbx-late');
      const midCreate = await runtime.list();
      runtime.halfStarted.delete('sbx-late');
      return midCreate;
    });
    const report = await reconciler.run();
    assert.deepEqual(report.stopped, []);
    assert.ok(!seen.some((e) => e.type === 'clusterStopped'));
    assert.equal(service.outages.problemOf(store.get(s.id)!), undefined);
  });

  it('when a cluster is gone but its network or volume is left, then the reconciler removes them unless the name is foreign, listed or live', async () => {
    const { reconciler, runtime, service } = setup();
    service.request(alice, { name: 'coming' }, { via: 'slack' }); // live: its create will make sbx-coming's network
    // Listed by k3d with no sandbox: an orphan, which `k3d cluster delete` removes with its network.
    runtime.clusters.set('sbx-orphan', { clusterName: 'sbx-orphan', servers: 1, agents: 0, apiPort: 6599 });
    for (const name of ['sbx-failed-rollback', 'sbx-coming', 'sbx-orphan', 'team-prod'])
      runtime.leftoverNames.add(name);
    const report = await reconciler.run();
    assert.deepEqual(report.orphansDeleted, ['sbx-orphan']);
    assert.deepEqual(report.leftoversRemoved, ['sbx-failed-rollback']);
    assert.deepEqual(
      runtime.calls.filter((c) => c.startsWith('removeLeftovers')),
      ['removeLeftovers sbx-failed-rollback'],
      'a live sandbox (its create may be making the network now), a listed cluster and a foreign name are left alone',
    );
  });

  it('when leftovers cannot be listed (no docker CLI), then that is said once, and again only after it changed', async () => {
    const { logger, warnings } = recordingLogger();
    const { reconciler, runtime } = setup(logger);
    const leftovers = runtime.leftovers.bind(runtime);
    runtime.leftovers = async () => {
      throw new Error('listing Docker networks failed: docker was not found');
    };
    for (let pass = 0; pass < 3; pass++) await reconciler.run();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    runtime.leftovers = leftovers;
    await reconciler.run();
    runtime.leftovers = async () => {
      throw new Error('listing Docker networks failed: docker was not found');
    };
    await reconciler.run();
    assert.equal(warnings.length, 2, 'told again after it had worked in between');
  });

  it('when the kubeconfig of an active sandbox that has none stored keeps failing to read, then the error is logged once, not at every pass, and it is stored once k3d gives it', async () => {
    const { logger, errors, logged } = recordingLogger();
    const { reconciler, runtime, store, activeSandbox } = setup(logger);
    const s = await activeSandbox('rekeyed');
    store.setKubeconfig(s.id, null); // cleared, as the start-up refusal says when the key is lost
    const read = runtime.kubeconfig.bind(runtime);
    runtime.kubeconfig = async (name) => {
      runtime.calls.push(`kubeconfig ${name}`);
      throw new Error(`reading the kubeconfig of ${name} failed: no server node`);
    };
    for (let pass = 0; pass < 5; pass++) await reconciler.run();
    assert.deepEqual(errors, [
      'reading the kubeconfig of an active sandbox again failed; the reconciler retries',
    ]);
    assert.equal(
      runtime.calls.filter((c) => c === 'kubeconfig sbx-rekeyed').length,
      6,
      'still tried at every pass (and once by the create)',
    );
    runtime.kubeconfig = read;
    assert.deepEqual((await reconciler.run()).kubeconfigsRestored, [s.id]);
    assert.ok(store.getKubeconfig(s.id));
    assert.ok(logged.some((l) => l.startsWith('info the kubeconfig of an active sandbox is read again')));
  });

  it('when an orphan cluster keeps failing to delete, then the error is logged once, not at every pass, and again when its reason changes', async () => {
    const { logger, errors } = recordingLogger();
    const { reconciler, runtime } = setup(logger);
    runtime.clusters.set('sbx-stuck', { clusterName: 'sbx-stuck', servers: 1, agents: 0, apiPort: 7000 });
    runtime.failDeletes = 1_000;
    for (let pass = 0; pass < 5; pass++) await reconciler.run();
    assert.deepEqual(errors, ['deleting an orphan cluster failed; the reconciler retries']);
    assert.equal(
      runtime.calls.filter((c) => c === 'delete sbx-stuck').length,
      5,
      'still tried at every pass',
    );
    const remove = runtime.delete.bind(runtime);
    runtime.delete = async () => {
      throw new Error('deleting sbx-stuck failed: Docker is not running');
    };
    await reconciler.run();
    assert.equal(errors.length, 2, 'a new reason is told');
    runtime.delete = remove;
    runtime.failDeletes = 0;
    assert.deepEqual((await reconciler.run()).orphansDeleted, ['sbx-stuck']);
  });

  it('when a delete keeps failing, then the reconciler resumes it less and less often, and it ends at the next resume once deletes work again', async () => {
    const { reconciler, runtime, store, service, provisioner, clock, activeSandbox } = setup();
    const s = await activeSandbox('stuck');
    runtime.failDeletes = 1_000; // Docker is down
    service.destroy(alice, s.id);
    await provisioner.idle();
    const resumedEachMinute: number[] = [];
    for (let minute = 0; minute <= 10; minute++) {
      resumedEachMinute.push((await reconciler.run()).destroysResumed.length);
      await provisioner.idle();
      clock.advance(MINUTE);
    }
    assert.deepEqual(resumedEachMinute, [1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0], 'after 1, 2 and 4 minutes');
    assert.equal(store.get(s.id)?.status, 'DESTROYING');

    runtime.failDeletes = 0;
    clock.advance(4 * MINUTE); // 8 minutes after the last resume
    assert.deepEqual((await reconciler.run()).destroysResumed, [s.id]);
    await waitFor(() => store.get(s.id)?.status === 'DESTROYED', 'DESTROYED');
  });

  it('when the cluster list cannot be read, then nothing is changed', async () => {
    const { reconciler, runtime, store, activeSandbox } = setup();
    const s = await activeSandbox('demo');
    runtime.list = async () => {
      throw new Error('k3d cluster list printed output that is not the expected JSON');
    };
    await assert.rejects(reconciler.run(), /not the expected JSON/);
    assert.equal(store.get(s.id)?.status, 'ACTIVE');
  });
});
