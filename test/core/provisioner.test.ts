import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterError } from '../../src/core/ports.js';
import { alice, createProvisionerFixture, waitFor } from '../helpers/core-fixture.js';

const setup = (concurrency = 2, options: { destroyAttempts?: number } = {}) =>
  createProvisionerFixture({ concurrency, ...options });

describe('Provisioner', () => {
  it('when a request is approved, then its cluster is created and it becomes ACTIVE', async () => {
    const { provisioner, requestApproved, store, runtime } = setup();
    provisioner.start();
    const s = requestApproved('demo');
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    assert.deepEqual(runtime.calls, ['create sbx-demo', 'kubeconfig sbx-demo']);
  });

  it('when many are approved at once, then no more than the configured number of creates run together', async () => {
    const { provisioner, requestApproved, store, runtime } = setup(2);
    runtime.createDelayMs = 30;
    provisioner.start();
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => requestApproved(n).id);
    await waitFor(() => ids.every((id) => store.get(id)?.status === 'ACTIVE'), 'all ACTIVE');
    assert.equal(runtime.maxRunning, 2);
  });

  it('when a create fails, then the partial cluster is deleted and the sandbox is FAILED with the reason', async () => {
    const { provisioner, requestApproved, store, runtime, seen } = setup();
    runtime.failCreate = new ClusterError(
      'creating sbx-demo failed: Failed Cluster Start: boom',
      'ERRO boom',
    );
    provisioner.start();
    const s = requestApproved('demo');
    const failed = await waitFor(
      () => (store.get(s.id)?.status === 'FAILED' ? store.get(s.id) : undefined),
      'FAILED',
    );
    assert.match(failed.failureReason ?? '', /Failed Cluster Start: boom/);
    assert.ok(runtime.calls.includes('delete sbx-demo'));
    assert.equal(runtime.clusters.size, 0);
    const event = seen.find((e) => e.type === 'failed');
    assert.equal(event?.type === 'failed' ? event.detail : undefined, 'ERRO boom');
  });

  it('when the API port is taken, then the create is retried on another port', async () => {
    const { provisioner, requestApproved, store, runtime } = setup();
    runtime.failCreate = new ClusterError('port is already allocated', '', 'port_in_use');
    const s = requestApproved('demo');
    const originalCreate = runtime.create.bind(runtime);
    runtime.create = async (spec) => {
      await originalCreate(spec).finally(() => {
        runtime.failCreate = undefined;
      });
    };
    provisioner.start();
    const ready = await waitFor(
      () => (store.get(s.id)?.status === 'ACTIVE' ? store.get(s.id) : undefined),
      'ACTIVE',
    );
    assert.equal(ready.apiPort, 6551);
    assert.equal(ready.createAttempts, 2);
  });

  it('when a port was found taken, then later sandboxes skip it for ten minutes, and twice as long after each clash again', async () => {
    const { provisioner, requestApproved, store, runtime, clock } = setup();
    const held = new Set([6550]);
    const originalCreate = runtime.create.bind(runtime);
    runtime.create = async (spec) => {
      if (held.has(spec.apiPort)) throw new ClusterError('bind: address already in use', '', 'port_in_use');
      await originalCreate(spec);
    };
    provisioner.start();
    /** The port the sandbox got, and the ports it tried on the way. */
    const portsOf = async (name: string) => {
      const s = requestApproved(name);
      await waitFor(() => store.get(s.id)?.status === 'ACTIVE', `${name} ACTIVE`);
      return store
        .listAudit({ sandboxId: s.id })
        .filter((a) => a.action === 'creating')
        .map((a) => a.details.apiPort)
        .reverse(); // the audit trail lists the newest first
    };
    assert.deepEqual(await portsOf('first'), [6550, 6551]);
    assert.deepEqual(await portsOf('second'), [6552], 'the taken port is skipped');
    clock.advance(10 * 60_000);
    assert.deepEqual(await portsOf('third'), [6550, 6553], 'offered again after 10 minutes: still taken');
    clock.advance(10 * 60_000);
    assert.deepEqual(await portsOf('fourth'), [6554], 'skipped for 20 minutes after the second clash');
    held.clear();
    clock.advance(10 * 60_000);
    assert.deepEqual(await portsOf('fifth'), [6550], 'offered again, and its holder has let go');
  });

  it('when another process takes a create over while it runs (a lost lease), then its outcome changes neither the row nor the cluster', async () => {
    for (const outcome of ['succeeds', 'fails'] as const) {
      const { provisioner, requestApproved, store, runtime, service } = setup();
      runtime.createDelayMs = 50;
      if (outcome === 'fails') runtime.failCreate = new ClusterError('creating sbx-demo failed: boom', '');
      provisioner.start();
      const s = requestApproved('demo');
      await waitFor(() => runtime.running === 1, 'the create running');
      // The other process's reconciler requeued the row and its provisioner claimed it: attempt 2 is theirs.
      store.transition(s.id, ['CREATING'], 'QUEUED', { apiPort: null });
      assert.equal(service.claimNextQueued()?.createAttempts, 2);
      await waitFor(() => !provisioner.isWorkingOn(s.id), 'our create to end');
      assert.equal(store.get(s.id)?.status, 'CREATING', `our create ${outcome}: the row is still theirs`);
      assert.ok(!runtime.calls.includes('delete sbx-demo'), `our create ${outcome}: the cluster is theirs`);
      assert.ok(!store.listAudit({ sandboxId: s.id }).some((a) => ['ready', 'failed'].includes(a.action)));
    }
  });

  it('when the process restarts with rows QUEUED, then they are created', async () => {
    const { provisioner, requestApproved, store } = setup();
    const s = requestApproved('demo'); // approved while no provisioner ran
    assert.equal(store.get(s.id)?.status, 'QUEUED');
    provisioner.start();
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
  });

  it('when a delete fails twice, then it is retried and ends DESTROYED with the failures recorded', async () => {
    const { provisioner, requestApproved, store, runtime, service, seen } = setup();
    provisioner.start();
    const s = requestApproved('demo');
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    runtime.failDeletes = 2;
    service.destroy(alice, s.id);
    await waitFor(() => store.get(s.id)?.status === 'DESTROYED', 'DESTROYED');
    assert.equal(seen.filter((e) => e.type === 'destroyFailed').length, 2);
    assert.equal(store.getKubeconfig(s.id), undefined);
  });

  it('when the cluster is deleted but the database cannot record it, then it is not told as a failed delete, nor deleted again', async () => {
    const { provisioner, requestApproved, store, runtime, service, seen } = setup();
    provisioner.start();
    const s = requestApproved('demo');
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    // The database is locked by another writer at that moment (SQLITE_BUSY past the busy timeout).
    service.markDestroyed = () => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    service.destroy(alice, s.id);
    await waitFor(() => runtime.calls.includes('delete sbx-demo'), 'the delete');
    await provisioner.idle();
    assert.equal(runtime.calls.filter((c) => c === 'delete sbx-demo').length, 1);
    assert.equal(seen.filter((e) => e.type === 'destroyFailed').length, 0);
    assert.equal(store.get(s.id)?.status, 'DESTROYING', 'left for the reconciler, which finds no cluster');
  });

  it('when every delete attempt fails, then the sandbox stays DESTROYING for the reconciler', async () => {
    const { provisioner, requestApproved, store, runtime, service } = setup(2, { destroyAttempts: 2 });
    provisioner.start();
    const s = requestApproved('demo');
    await waitFor(() => store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    runtime.failDeletes = 5;
    service.destroy(alice, s.id);
    await provisioner.idle();
    assert.equal(store.get(s.id)?.status, 'DESTROYING');
  });
  it('when a create meets the Docker daemon down after the provisioner was stopped (shutdown, or the lease lost), then the sandbox goes back to the queue and this process tells no owner that it waits', async () => {
    const { provisioner, requestApproved, store, runtime, seen, service } = setup(1);
    runtime.createDelayMs = 50;
    runtime.failCreate = new ClusterError('Cannot connect to the Docker daemon', '', 'docker_down');
    provisioner.start();
    const first = requestApproved('first');
    const second = requestApproved('second');
    await waitFor(() => runtime.running === 1, 'the first create');

    await provisioner.stop(5000);
    assert.deepEqual([store.get(first.id)?.status, store.get(second.id)?.status], ['QUEUED', 'QUEUED']);
    assert.deepEqual(
      seen.filter((e) => e.type === 'waitingForDocker').map((e) => e.sandbox.name),
      [],
      'the process that provisions now tells them',
    );
    const queued = store.get(second.id);
    assert.ok(queued);
    assert.equal(
      service.outages.problemOf(queued),
      undefined,
      'a process that no longer provisions cannot see an outage end, so it shows none',
    );
  });

  it('when the provisioner stops, then the stopped clusters it knew of are no longer shown, as it cannot see them run again', async () => {
    const { provisioner, requestApproved, store, service } = setup(1);
    provisioner.start();
    const { id } = requestApproved('live');
    await waitFor(() => store.get(id)?.status === 'ACTIVE', 'the sandbox to be ready');
    const live = store.get(id);
    assert.ok(live);
    service.outages.clustersStopped([live], new Set([id]));
    assert.match(service.outages.problemOf(live)?.summary ?? '', /cluster is stopped/);

    await provisioner.stop(5000);
    assert.equal(service.outages.problemOf(live), undefined);
  });
});
