// k3d misbehaving, seen through the whole app (loadConfig + buildApp + start) over the fake k3d executable:
// each fault must leave the database truthful, with a reason a person can act on, and no cluster behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { OWNER_LABEL } from '../../src/adapters/k3d/k3d-output.js';
import { renderAuditLine } from '../../src/adapters/slack/blocks/audit-line.js';
import { type App, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SandboxEvent } from '../../src/core/events.js';
import type { Sandbox, SandboxStatus } from '../../src/core/sandbox.js';
import { createFakeK3d, type FakeK3d } from '../fakes/k3d/fake-k3d.js';
import { admin, alice, bob, recordingLogger, silentLogger, waitFor } from '../helpers/core-fixture.js';

// The lifecycle jobs would run the reconciler on their own at a minute boundary; tests run it by hand.
const NEVER = '0 0 1 1 *';
/** A cluster planted as the bot (prefix sbx-) would have created it. */
const madeByTheBot = { labels: { [OWNER_LABEL]: 'sbx-' } };

let fake: FakeK3d;
let app: App | undefined;
let dataDir: string;
let port: number;
let events: SandboxEvent[];

beforeEach(async () => {
  fake = createFakeK3d();
  // The bot runs k3d through execa, which passes the process environment on.
  Object.assign(process.env, fake.env);
  dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-faults-'));
  events = [];
});

afterEach(async () => {
  await app?.stop(2000);
  app = undefined;
  // A k3d left hanging by a failed assertion must not outlive the test.
  for (const call of fake.calls()) {
    if (call.end !== undefined) continue;
    try {
      process.kill(call.pid, 'SIGKILL');
    } catch {}
  }
  fake.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

async function startApp(env: Record<string, string> = {}, logger = silentLogger): Promise<App> {
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    K3D_BIN: fake.binPath,
    DOCKER_BIN: fake.dockerBinPath,
    KUBECTL_BIN: path.join(dataDir, 'no-kubectl'),
    SANDBOX_AUTO_SMOKE_TEST: 'false',
    SANDBOX_SWEEP_SCHEDULE: NEVER,
    ...env,
  });
  app = buildApp(config, { logger, destroyBackoffMs: 10 });
  app.events.on((event) => {
    events.push(event);
  });
  ({ port } = await app.start());
  return app;
}

function statusIs(a: App, id: string, status: SandboxStatus): Sandbox | undefined {
  const sandbox = a.store.get(id);
  return sandbox?.status === status ? sandbox : undefined;
}

async function activeSandbox(a: App, name: string): Promise<Sandbox> {
  const requested = a.service.request(alice, { name }, { via: 'slack' });
  a.service.approve(bob, requested.id);
  return waitFor(() => statusIs(a, requested.id, 'ACTIVE'), `${name} ACTIVE`, 10_000);
}

const auditActions = (a: App, id: string) =>
  a.store
    .listAudit({ sandboxId: id, limit: 100 })
    .map((e) => e.action)
    .reverse();

/** One sample of a Prometheus metric from the app's /metrics, 0 when absent. */
async function metric(sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const escaped = sample.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

const callsOf = (command: string, cluster?: string) =>
  fake.calls().filter((c) => c.command === command && (cluster === undefined || c.argv[2] === cluster));

describe('k3d faults', () => {
  it('when k3d create exits 1 and rolls back, then the sandbox is FAILED with k3d’s reason, the rollback lines are kept as detail, and no cluster is left', async () => {
    const a = await startApp();
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL: 'sbx-rolled' });
    const requested = a.service.request(alice, { name: 'rolled' }, { via: 'slack' });
    a.service.approve(bob, requested.id);

    const failed = await waitFor(() => statusIs(a, requested.id, 'FAILED'), 'FAILED', 10_000);
    assert.match(
      failed.failureReason ?? '',
      /^creating sbx-rolled failed: Failed Cluster Start: .*failed to get ready/,
    );
    const [create] = callsOf('cluster create', 'sbx-rolled');
    assert.equal(create?.exitCode, 1);
    await a.events.idle();
    const event = events.find((e) => e.type === 'failed');
    assert.ok(event?.type === 'failed');
    assert.match(event.detail ?? '', /Rolling Back/);
    assert.match(event.detail ?? '', /all changes have been rolled back/);

    // The bot still cleans up after k3d (deleting a missing cluster succeeds), then holds no secret.
    assert.equal(callsOf('cluster delete', 'sbx-rolled').length, 1);
    assert.deepEqual(fake.clusters(), []);
    assert.equal(a.store.getKubeconfig(requested.id), undefined, 'no kubeconfig is stored');
    assert.deepEqual(auditActions(a, requested.id), ['requested', 'approved', 'creating', 'failed']);
    assert.equal(await metric('sandbox_requests_total{outcome="failed"}'), 1);
    assert.equal(callsOf('cluster create').length, 1, 'a failed create is not retried');
  });

  it('when k3d create fails before any container exists and its rollback fails too, then the sandbox is FAILED and the bot removes the network and volume k3d left', async () => {
    const a = await startApp();
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: 'sbx-unrolled' });
    const requested = a.service.request(alice, { name: 'unrolled' }, { via: 'slack' });
    a.service.approve(bob, requested.id);

    const failed = await waitFor(() => statusIs(a, requested.id, 'FAILED'), 'FAILED', 10_000);
    assert.match(
      failed.failureReason ?? '',
      /^creating sbx-unrolled failed: failed Cluster Creation: .*docker failed to pull image/,
    );
    await a.events.idle();
    const event = events.find((e) => e.type === 'failed');
    assert.match(event?.type === 'failed' ? (event.detail ?? '') : '', /also FAILED to rollback changes!/);
    // k3d left an unlisted network and volume (k3d-cli.md §1.6); the cleanup after the failure removed them.
    assert.deepEqual(
      { clusters: fake.clusters(), networks: fake.networks(), volumes: fake.volumes() },
      { clusters: [], networks: [], volumes: [] },
    );
    assert.equal(await metric('sandbox_leftover_cleanup_failures_total{kind="network"}'), 0);
  });

  it('when the Docker host is out of disk space, then the sandbox is FAILED saying so first, where the audit channel’s short line still shows it, and nothing k3d made is left', async () => {
    const a = await startApp();
    fake.setKnobs({ FAKE_K3D_DISK_FULL: true });
    const requested = a.service.request(alice, { name: 'full' }, { via: 'slack' });
    a.service.approve(bob, requested.id);

    const failed = await waitFor(() => statusIs(a, requested.id, 'FAILED'), 'FAILED', 10_000);
    assert.match(
      failed.failureReason ?? '',
      /^creating sbx-full failed: the Docker host is out of disk space \(failed Cluster Creation: .*no space left on device\)$/,
    );
    await a.events.idle();
    const event = events.find((e) => e.type === 'failed');
    assert.ok(event);
    assert.match(
      renderAuditLine(event),
      /failed: creating sbx-full failed: the Docker host is out of disk space/,
    );
    assert.deepEqual([fake.clusters(), fake.networks(), fake.volumes()], [[], [], []]);
  });

  it('when docker cannot remove a destroyed cluster’s network, then the destroy still succeeds, the failure is counted, and the next reconcile removes it', async () => {
    const docker = path.join(dataDir, 'docker'); // installed only later
    const a = await startApp({ DOCKER_BIN: docker });
    // A network left by an earlier failed create: k3d re-uses it, calls it external and keeps it on delete.
    fake.addLeftovers('sbx-reborn');
    const sandbox = await activeSandbox(a, 'reborn');
    a.service.destroy(alice, sandbox.id);

    await waitFor(() => statusIs(a, sandbox.id, 'DESTROYED'), 'DESTROYED', 10_000);
    assert.deepEqual(auditActions(a, sandbox.id).slice(-2), ['destroy_requested', 'destroyed']);
    assert.deepEqual(fake.clusters(), []);
    assert.deepEqual(fake.networks(), ['k3d-sbx-reborn'], 'k3d kept it, and docker was missing');
    assert.equal(await metric('sandbox_leftover_cleanup_failures_total{kind="network"}'), 1);

    await symlink(fake.dockerBinPath, docker);
    const report = await a.reconciler.run();
    assert.deepEqual(report.leftoversRemoved, ['sbx-reborn']);
    assert.deepEqual(fake.networks(), []);
    assert.deepEqual(fake.volumes(), []);
    assert.equal(a.store.get(sandbox.id)?.status, 'DESTROYED');
  });

  it('when k3d create hangs past SANDBOX_CREATE_TIMEOUT, then it is killed, the sandbox is FAILED saying so, and the partial cluster is deleted', async () => {
    const a = await startApp({ SANDBOX_CREATE_TIMEOUT: '2s' });
    fake.setKnobs({ FAKE_K3D_HANG: 'create' });
    const requested = a.service.request(alice, { name: 'stuck' }, { via: 'slack' });
    a.service.approve(bob, requested.id);

    // The hung create has made containers before hanging: a partial cluster exists while it waits.
    await waitFor(() => fake.clusters().includes('sbx-stuck'), 'the partial cluster', 10_000);
    const failed = await waitFor(() => statusIs(a, requested.id, 'FAILED'), 'FAILED', 15_000);
    assert.match(
      failed.failureReason ?? '',
      /creating sbx-stuck failed: .*did not finish within 2s and was killed/,
    );
    const [create] = callsOf('cluster create', 'sbx-stuck');
    assert.equal(create?.signal, 'SIGTERM');
    assert.deepEqual(fake.clusters(), [], 'the partial cluster was deleted');
    assert.deepEqual([fake.networks(), fake.volumes()], [[], []], 'with its network and volume');
    assert.ok(
      fake.calls().every((c) => c.end !== undefined || c.signal !== undefined),
      'no k3d process is left running',
    );
    assert.deepEqual(auditActions(a, requested.id), ['requested', 'approved', 'creating', 'failed']);
  });

  it('when k3d delete exits 0 but the cluster is still listed, then the sandbox stays DESTROYING, is retried until it is gone, and each failure is counted', async () => {
    const a = await startApp();
    const sandbox = await activeSandbox(a, 'sticky');
    fake.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: 2 });
    const destroying = a.service.destroy(alice, sandbox.id);
    assert.equal(destroying.status, 'DESTROYING');

    await waitFor(() => statusIs(a, sandbox.id, 'DESTROYED'), 'DESTROYED', 10_000);
    const deletes = callsOf('cluster delete', 'sbx-sticky');
    assert.equal(deletes.length, 3);
    assert.ok(
      deletes.every((c) => c.exitCode === 0),
      'k3d claimed success every time',
    );
    assert.deepEqual(fake.clusters(), []);
    const failures = a.store
      .listAudit({ sandboxId: sandbox.id, limit: 100 })
      .filter((e) => e.action === 'destroy_failed');
    assert.equal(failures.length, 2);
    for (const failure of failures) {
      assert.match(String(failure.details.error), /k3d reported success but the cluster is still there/);
    }
    assert.deepEqual(auditActions(a, sandbox.id).slice(-4), [
      'destroy_requested',
      'destroy_failed',
      'destroy_failed',
      'destroyed',
    ]);
    assert.equal(await metric('sandbox_destroy_failures_total'), 2);
    assert.equal(await metric('sandbox_requests_total{outcome="destroyed"}'), 1);
  });

  it('when deletes keep failing past the provisioner’s attempts, then the row stays DESTROYING (the cluster is still there) and the reconciler finishes it', async () => {
    const a = await startApp();
    const sandbox = await activeSandbox(a, 'stubborn');
    fake.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: 3 });
    a.service.destroy(alice, sandbox.id);

    await waitFor(
      () =>
        a.store.listAudit({ sandboxId: sandbox.id, limit: 100 }).filter((e) => e.action === 'destroy_failed')
          .length === 3 && !a.provisioner.isWorkingOn(sandbox.id),
      'the provisioner to give up',
      10_000,
    );
    assert.equal(a.store.get(sandbox.id)?.status, 'DESTROYING');
    assert.deepEqual(fake.clusters(), ['sbx-stubborn'], 'the database says what k3d shows');

    const report = await a.reconciler.run();
    assert.deepEqual(report.destroysResumed, [sandbox.id]);
    await waitFor(() => statusIs(a, sandbox.id, 'DESTROYED'), 'DESTROYED', 10_000);
    assert.deepEqual(fake.clusters(), []);
    assert.equal(await metric('sandbox_destroy_failures_total'), 3);
  });

  it('when k3d cluster list prints malformed JSON during a reconcile, then nothing is changed, and the next good list closes the gap', async () => {
    const a = await startApp();
    const kept = await activeSandbox(a, 'kept');
    // The start-up reconcile has listed by now (the create above took longer); plant an orphan after it.
    await waitFor(() => callsOf('cluster list').some((c) => c.end !== undefined), 'the first list');
    fake.addCluster('sbx-orphan', madeByTheBot);
    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: true });

    await assert.rejects(a.reconciler.run(), /k3d cluster list printed output that is not the expected JSON/);
    assert.equal(a.store.get(kept.id)?.status, 'ACTIVE', 'not marked lost on a picture it could not read');
    assert.deepEqual(fake.clusters(), ['sbx-kept', 'sbx-orphan'], 'nothing deleted on a wrong picture');
    assert.equal(callsOf('cluster delete').length, 0);

    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: null });
    const seeing = await a.reconciler.run();
    assert.deepEqual(seeing.orphansDeleted, ['sbx-orphan']);
    assert.deepEqual(fake.clusters(), ['sbx-kept']);
    assert.equal(a.store.get(kept.id)?.status, 'ACTIVE');
    const orphanAudit = a.store.listAudit({ limit: 100 }).filter((e) => e.action === 'orphan_deleted');
    assert.deepEqual(
      orphanAudit.map((e) => e.details.cluster),
      ['sbx-orphan'],
    );
  });

  it('when the Docker daemon is down (restarting), then approved sandboxes wait in the queue instead of failing, and are created once it answers', async () => {
    const { logger, warnings } = recordingLogger();
    const a = await startApp({ SANDBOX_PROVISION_CONCURRENCY: '1' }, logger);
    fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: true });
    const first = a.service.request(alice, { name: 'first' }, { via: 'slack' });
    const second = a.service.request(alice, { name: 'second' }, { via: 'slack' });
    a.service.approve(bob, first.id);
    a.service.approve(bob, second.id);

    await waitFor(() => auditActions(a, first.id).includes('requeued'), 'the create to meet Docker down');
    // Pumps meanwhile only ask whether Docker answers: no create is claimed while it does not.
    await waitFor(() => callsOf('cluster list').length >= 2, 'a probe after the failed create', 10_000);
    assert.deepEqual([a.store.get(first.id)?.status, a.store.get(second.id)?.status], ['QUEUED', 'QUEUED']);
    assert.equal(callsOf('cluster create').length, 1, 'one create met it; the queue waits');
    assert.equal(warnings.filter((w) => /Docker daemon cannot be reached/.test(w)).length, 1);

    fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: null });
    await waitFor(() => statusIs(a, first.id, 'ACTIVE'), 'first ACTIVE', 15_000);
    await waitFor(() => statusIs(a, second.id, 'ACTIVE'), 'second ACTIVE', 10_000);
    assert.deepEqual(auditActions(a, first.id).slice(2), ['creating', 'requeued', 'creating', 'ready']);
    assert.ok(!events.some((e) => e.type === 'failed'));
  });

  it('when an active sandbox’s cluster is stopped by hand (k3d cluster stop), then it is neither lost nor deleted, the operator is told once and when it runs again, and destroying it works', async () => {
    const { logger, warnings, logged } = recordingLogger();
    const a = await startApp({}, logger);
    const sandbox = await activeSandbox(a, 'halted');
    fake.stopCluster('sbx-halted');

    assert.deepEqual((await a.reconciler.run()).stopped, [sandbox.id]);
    await a.reconciler.run();
    const told = warnings.filter((w) => /cluster of an active sandbox is stopped/.test(w));
    assert.deepEqual(told, [
      'the cluster of an active sandbox is stopped, so its API does not answer; start it with `k3d cluster start sbx-halted`, or destroy the sandbox',
    ]);
    assert.equal(a.store.get(sandbox.id)?.status, 'ACTIVE');
    assert.deepEqual(callsOf('cluster delete'), []);

    fake.stopCluster('sbx-halted', true);
    assert.deepEqual((await a.reconciler.run()).stopped, []);
    assert.ok(logged.some((l) => /the cluster of an active sandbox runs again/.test(l)));

    fake.stopCluster('sbx-halted');
    a.service.destroy(alice, sandbox.id);
    await waitFor(() => statusIs(a, sandbox.id, 'DESTROYED'), 'DESTROYED', 10_000);
    assert.deepEqual([fake.clusters(), fake.networks(), fake.volumes()], [[], [], []]);
  });

  it('when a stopped cluster is then deleted by hand, then its sandbox is FAILED as lost, and nobody is told that it runs again', async () => {
    const a = await startApp();
    const sandbox = await activeSandbox(a, 'gone');
    fake.stopCluster('sbx-gone');
    assert.deepEqual((await a.reconciler.run()).stopped, [sandbox.id]);
    execFileSync(fake.binPath, ['cluster', 'delete', 'sbx-gone'], { env: process.env, stdio: 'pipe' });

    assert.deepEqual((await a.reconciler.run()).failed, [sandbox.id]);
    await a.events.idle();
    assert.deepEqual(
      events.filter((e) => e.sandbox.id === sandbox.id).map((e) => e.type),
      ['requested', 'approved', 'creating', 'ready', 'clusterStopped', 'failed'],
    );
    assert.equal(a.service.outages.problemOf(sandbox), undefined);
  });

  it('when someone creates clusters by hand, with the bot’s prefix or without, then the reconciler leaves them alone and says so once; one the bot made is deleted', async () => {
    const { logger, warnings } = recordingLogger();
    const a = await startApp({}, logger);
    await a.reconciler.run();
    fake.addCluster('sbx-by-hand');
    fake.addCluster('team-prod');
    fake.addCluster('sbx-orphan', madeByTheBot);

    assert.deepEqual((await a.reconciler.run()).orphansDeleted, ['sbx-orphan']);
    await a.reconciler.run();
    assert.deepEqual(fake.clusters(), ['sbx-by-hand', 'team-prod']);
    assert.deepEqual(callsOf('cluster delete', 'sbx-by-hand'), []);
    assert.deepEqual(
      warnings.filter((w) => /not created by the bot; it is left alone/.test(w)).length,
      1,
      warnings.join('\n'),
    );
  });

  it('when a sandbox is asked for with the name of a cluster made by hand, then it fails saying so and that cluster is left alone', async () => {
    const a = await startApp();
    fake.addCluster('sbx-taken');
    const requested = a.service.request(alice, { name: 'taken' }, { via: 'slack' });
    a.service.approve(bob, requested.id);

    const failed = await waitFor(() => statusIs(a, requested.id, 'FAILED'), 'FAILED', 10_000);
    assert.match(
      failed.failureReason ?? '',
      /a cluster with that name already exists; that cluster was not created by the bot and is left alone: pick another name/,
    );
    assert.deepEqual(callsOf('cluster delete'), []);
    assert.deepEqual(fake.clusters(), ['sbx-taken']);
    assert.equal(fake.cluster('sbx-taken')?.running, true);
    assert.deepEqual([fake.networks(), fake.volumes()], [['k3d-sbx-taken'], ['k3d-sbx-taken-images']]);

    // Nor when a crash interrupted its create: the stranger's cluster is not adopted as the sandbox's.
    const again = a.service.request(alice, { name: 'taken' }, { via: 'slack' });
    a.store.transition(again.id, ['PENDING_APPROVAL'], 'CREATING', { createAttempts: 1, apiPort: 6999 });
    await a.reconciler.run();
    await waitFor(() => statusIs(a, again.id, 'FAILED'), 'FAILED', 10_000);
    assert.deepEqual(auditActions(a, again.id), ['requested', 'requeued', 'creating', 'failed']);
    assert.deepEqual(callsOf('cluster delete'), []);
    assert.deepEqual(fake.clusters(), ['sbx-taken']);
  });

  it('when the list that confirms a delete is malformed, then the destroy is not believed: it stays DESTROYING with the reason, and finishes once k3d reads again', async () => {
    const a = await startApp();
    const sandbox = await activeSandbox(a, 'unsure');
    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: true });
    a.service.destroy(alice, sandbox.id);

    await waitFor(() => !a.provisioner.isWorkingOn(sandbox.id), 'the provisioner to give up', 10_000);
    const failures = a.store
      .listAudit({ sandboxId: sandbox.id, limit: 100 })
      .filter((e) => e.action === 'destroy_failed');
    assert.equal(failures.length, 3);
    assert.match(String(failures[0]?.details.error), /not the expected JSON/);
    assert.equal(a.store.get(sandbox.id)?.status, 'DESTROYING');

    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: null });
    await a.reconciler.run();
    await waitFor(() => statusIs(a, sandbox.id, 'DESTROYED'), 'DESTROYED', 10_000);
    assert.deepEqual(fake.clusters(), []);
  });

  it('when a host process listens on the API port given to a sandbox, then the create is retried on the next port, and later sandboxes skip that port', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      const a = await startApp({ SANDBOX_API_PORT_RANGE: `${taken}-${taken + 50}` });
      const first = await activeSandbox(a, 'squatted');
      assert.notEqual(first.apiPort, taken);
      assert.equal(first.createAttempts, 2);
      const [clash] = callsOf('cluster create', 'sbx-squatted');
      assert.equal(clash?.exitCode, 1, 'k3d met the bind error on the taken port');

      const second = await activeSandbox(a, 'after');
      assert.notEqual(second.apiPort, taken);
      assert.equal(second.createAttempts, 1, 'the taken port is not tried again');
    } finally {
      squatter.close();
    }
  });

  it('when a sandbox waited in the queue for the Docker daemon, then that wait costs none of its create attempts: port clashes after it are still retried', async () => {
    // Two ports in a row held by host processes.
    const [first, second] = [createServer(), createServer()];
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const taken = (first.address() as { port: number }).port;
    await new Promise<void>((resolve) => second.listen(taken + 1, '127.0.0.1', resolve));
    try {
      const a = await startApp({ SANDBOX_API_PORT_RANGE: `${taken}-${taken + 50}` });
      fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: true });
      const requested = a.service.request(alice, { name: 'patient' }, { via: 'slack' });
      a.service.approve(bob, requested.id);
      await waitFor(
        () => auditActions(a, requested.id).includes('requeued'),
        'the create to meet Docker down',
      );

      fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: null });
      const ready = await waitFor(
        () => statusIs(a, requested.id, 'ACTIVE') ?? statusIs(a, requested.id, 'FAILED'),
        'ACTIVE or FAILED',
        20_000,
      );
      assert.equal(ready.status, 'ACTIVE', ready.failureReason ?? '');
      assert.equal(ready.apiPort, taken + 2, 'both taken ports were tried');
    } finally {
      first.close();
      second.close();
    }
  });

  it('when the bot runs with LOG_LEVEL=debug, then k3d still runs at its default level: clean kubeconfigs and lists', async () => {
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'debug';
    try {
      const a = await startApp();
      const sandbox = await activeSandbox(a, 'verbose');
      assert.match(a.service.kubeconfig(admin, sandbox.id), /^apiVersion: v1\n/);
      await a.reconciler.run(); // rejects if k3d cluster list cannot be read
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });
});
