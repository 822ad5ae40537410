import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type App, type AppOverrides, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { InvalidInput } from '../../src/core/errors.js';
import type { Sandbox } from '../../src/core/sandbox.js';
import { createFakeK3d, type FakeK3d } from '../fakes/k3d/fake-k3d.js';
import { type BotProcess, startBotProcess } from '../helpers/bot-process.js';
import { alice, bob, carol, recordingLogger, silentLogger, waitFor } from '../helpers/core-fixture.js';

// A fresh fake Docker host per test, so one test's clusters (and their API ports) do not meet the next's.
let fake: FakeK3d;
beforeEach(() => {
  fake = createFakeK3d();
  Object.assign(process.env, fake.env);
});
afterEach(() => fake.cleanup());

async function newApp(env: Record<string, string> = {}, dataDir?: string, overrides: AppOverrides = {}) {
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'sandbox-prov-')));
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: '0',
    K3D_BIN: fake.binPath,
    DOCKER_BIN: fake.dockerBinPath,
    KUBECTL_BIN: path.join(dir, 'no-kubectl'),
    SANDBOX_AUTO_SMOKE_TEST: 'false',
    SANDBOX_MAX_PER_USER: '10',
    ...env,
  });
  return buildApp(config, { logger: silentLogger, destroyBackoffMs: 10, ...overrides });
}

/** The sandbox `id` once it is in `status`. */
const inStatus = (app: App, id: string, status: Sandbox['status']) =>
  waitFor(() => (app.store.get(id)?.status === status ? app.store.get(id) : undefined), status, 10_000);

/** The value of sandbox_provisioner_leader on the /metrics of the bot at `port`. */
const leaderSample = async (port: number) =>
  /^sandbox_provisioner_leader (\d+)$/m.exec(
    await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
  )?.[1];

/** Blocks this whole process, the way a VM or container pause would, until `done()` or `timeoutMs`. */
function pauseUntil(done: () => boolean, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!done() && Date.now() < deadline) Atomics.wait(cell, 0, 0, 50);
}
const creates = (cluster: string) =>
  fake.calls().filter((c) => c.command === 'cluster create' && c.argv[2] === cluster).length;

describe('provisioning through the fake k3d', () => {
  it('when a request is approved, then the cluster is created and the stored kubeconfig is what k3d printed', async () => {
    const app = await newApp();
    await app.start();
    try {
      const s = app.service.request(alice, { name: 'happy', agents: 1 }, { via: 'slack' });
      app.service.approve(bob, s.id);
      await waitFor(() => app.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE', 10_000);
      const kubeconfig = app.service.kubeconfig(alice, s.id);
      const key = fake.cluster('sbx-happy')?.kubeconfig.clientKeyData ?? 'missing';
      assert.match(kubeconfig, new RegExp(`client-key-data: ${key}`));
      assert.match(kubeconfig, /server: https:\/\/127\.0\.0\.1:6550/);
      assert.equal(creates('sbx-happy'), 1);

      // Nothing under DATA_DIR holds the key in plain text: not the database, its WAL, nor the key file.
      for (const file of readdirSync(app.config.dataDir)) {
        const bytes = readFileSync(path.join(app.config.dataDir, file)).toString('latin1');
        assert.equal(bytes.includes(key), false, `${file} contains the client key`);
        assert.equal(bytes.includes('client-key-data'), false, `${file} contains a kubeconfig`);
      }
    } finally {
      await app.stop(1000);
    }
  });

  it('when the encryption key is lost and the stored kubeconfigs are cleared as the start-up refusal says, then the bot reads them from k3d again and the owner gets theirs', async () => {
    const first = await newApp();
    await first.start();
    const s = first.service.request(alice, { name: 'rekeyed' }, { via: 'slack' });
    first.service.approve(bob, s.id);
    await waitFor(() => first.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE', 10_000);
    await first.stop(1000);
    const { dataDir, databaseFile } = first.config;
    rmSync(path.join(dataDir, 'encryption.key'));
    const db = new Database(databaseFile);
    db.exec('UPDATE sandboxes SET kubeconfig_enc = NULL');
    db.close();

    const second = await newApp({}, dataDir);
    await second.start();
    try {
      await waitFor(
        () => second.store.getKubeconfig(s.id) !== undefined,
        'the kubeconfig stored again',
        10_000,
      );
      const key = fake.cluster('sbx-rekeyed')?.kubeconfig.clientKeyData ?? 'missing';
      assert.match(second.service.kubeconfig(alice, s.id), new RegExp(`client-key-data: ${key}`));
      assert.equal(second.store.get(s.id)?.status, 'ACTIVE');
    } finally {
      await second.stop(1000);
    }
  });

  it('when two bot processes race to create the same approved sandbox, then exactly one create runs', async () => {
    const first = await newApp();
    const second = await newApp({}, first.config.dataDir);
    await Promise.all([first.start(), second.start()]);
    try {
      const s = first.service.request(alice, { name: 'race' }, { via: 'slack' });
      const decisions = await Promise.allSettled([
        Promise.resolve().then(() => first.service.approve(bob, s.id)),
        Promise.resolve().then(() => second.service.approve(carol, s.id)),
      ]);
      assert.equal(decisions.filter((d) => d.status === 'fulfilled').length, 1);
      const loser = decisions.find((d) => d.status === 'rejected');
      assert.match(String(loser?.status === 'rejected' ? loser.reason : ''), /already approved by U0BOB/);
      second.provisioner.pump(); // the other process looks at the queue too
      await waitFor(() => first.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE', 10_000);
      assert.equal(creates('sbx-race'), 1);
    } finally {
      await Promise.all([first.stop(1000), second.stop(1000)]);
    }
  });

  it('when a create fails and k3d cannot roll back, then the sandbox is FAILED with the reason and nothing k3d made is left', async () => {
    const app = await newApp();
    await app.start();
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: 'sbx-doomed' });
    try {
      const s = app.service.request(alice, { name: 'doomed' }, { via: 'slack' });
      app.service.approve(bob, s.id);
      const failed = await inStatus(app, s.id, 'FAILED');
      assert.match(
        failed.failureReason ?? '',
        /creating sbx-doomed failed: failed Cluster Creation: .*docker failed to pull image/,
      );
      // k3d failed before any container existed and could not roll back: the bot's clean-up removed the rest.
      assert.equal(fake.cluster('sbx-doomed'), undefined);
      assert.deepEqual(
        [fake.networks(), fake.volumes()],
        [[], []],
        'the network and volume k3d left are gone',
      );
    } finally {
      fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: null });
      await app.stop(1000);
    }
  });

  it('when k3d is not installed, then the sandbox is FAILED saying so, and not that a clean-up failed', async () => {
    const app = await newApp({ K3D_BIN: path.join(tmpdir(), 'no-k3d-here') });
    await app.start();
    try {
      const s = app.service.request(alice, { name: 'nok3d' }, { via: 'slack' });
      app.service.approve(bob, s.id);
      const failed = await inStatus(app, s.id, 'FAILED');
      assert.equal(
        failed.failureReason,
        `creating sbx-nok3d failed: ${path.join(tmpdir(), 'no-k3d-here')} was not found; install it or set its path`,
      );
    } finally {
      await app.stop(1000);
    }
  });

  it('when the bot restarts with sandboxes QUEUED, then it creates them, never more than the limit at once', async () => {
    const stopped = await newApp({ SANDBOX_PROVISION_CONCURRENCY: '2' });
    const ids = ['q1', 'q2', 'q3', 'q4', 'q5'].map((name) => {
      const s = stopped.service.request(alice, { name }, { via: 'slack' });
      return stopped.service.approve(bob, s.id).id;
    });
    await stopped.stop(0); // never started: the approvals are only rows in the database

    fake.setKnobs({ FAKE_K3D_DELAY_MS: 400 });
    const restarted = await newApp({ SANDBOX_PROVISION_CONCURRENCY: '2' }, stopped.config.dataDir);
    await restarted.start();
    try {
      await waitFor(
        () => ids.every((id) => restarted.store.get(id)?.status === 'ACTIVE'),
        'all ACTIVE',
        20_000,
      );
      assert.equal(fake.maxConcurrent('create'), 2);
    } finally {
      fake.setKnobs({ FAKE_K3D_DELAY_MS: null });
      await restarted.stop(1000);
    }
  });

  it('when a second process shares the database, then only the first runs the provisioner until it is gone', async () => {
    const first = await newApp();
    const second = await newApp({}, first.config.dataDir);
    await first.start();
    await second.start();
    try {
      const s = second.service.request(alice, { name: 'standby' }, { via: 'slack' });
      second.service.approve(bob, s.id); // approved in the standby process: only a row reaches the leader
      first.provisioner.pump();
      await waitFor(() => first.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE', 10_000);
      assert.equal(second.provisioner.activeCreates, 0);
    } finally {
      await first.stop(1000);
      await second.stop(1000);
    }
  });

  it('when two processes share the database, then /metrics of each says which one leads, and the standby says so once it has taken over', async () => {
    const first = await newApp({}, undefined, { leaseTtlMs: 900 });
    const second = await newApp({}, first.config.dataDir, { leaseTtlMs: 900 });
    const { port: firstPort } = await first.start();
    const { port: secondPort } = await second.start();
    let firstRunning = true;
    try {
      assert.equal(await leaderSample(firstPort), '1');
      assert.equal(await leaderSample(secondPort), '0');

      await first.stop(1000); // releases the lease
      firstRunning = false;
      await waitFor(
        async () => (await leaderSample(secondPort)) === '1',
        'the standby to report that it leads',
      );
    } finally {
      if (firstRunning) await first.stop(1000);
      await second.stop(1000);
    }
  });

  it('when the leader is paused past its lease and another process takes it, then the old leader stops provisioning until it can lead again', async () => {
    const { logger, warnings } = recordingLogger();
    const first = await newApp({}, undefined, { logger, leaseTtlMs: 900 });
    const { port: firstPort } = await first.start();
    const holder = () =>
      first.db.prepare<[], { holder: string }>("SELECT holder FROM leases WHERE name = 'provisioner'").get()
        ?.holder;
    const firstHolder = holder();
    let second: BotProcess | undefined;
    try {
      // A second process starts while the leader is paused past its lease, and takes the lease.
      const starting = startBotProcess({
        DATA_DIR: first.config.dataDir,
        K3D_BIN: fake.binPath,
        DOCKER_BIN: fake.dockerBinPath,
        KUBECTL_BIN: path.join(first.config.dataDir, 'no-kubectl'),
        SANDBOX_AUTO_SMOKE_TEST: 'false',
      });
      pauseUntil(() => holder() !== firstHolder, 30_000);
      second = await starting;
      assert.notEqual(holder(), firstHolder, 'the second process did not take the expired lease');

      // The old leader wakes up, its renewal fails, and it leaves the queue to the new one.
      await waitFor(
        () => warnings.some((w) => /lost the provisioner lease/.test(w)),
        'the old leader to step down',
      );
      assert.equal(await leaderSample(firstPort), '0');
      const s = first.service.request(alice, { name: 'after-pause' }, { via: 'slack' });
      first.service.approve(bob, s.id);
      assert.equal(first.provisioner.activeCreates, 0, 'the old leader claimed a create the new one owns');
      await waitFor(() => first.store.get(s.id)?.status === 'ACTIVE', 'the new leader to create it', 15_000);
      assert.equal(creates('sbx-after-pause'), 1);

      // The new leader stops and releases the lease: the old one leads again, and leaves the first sandbox be.
      assert.equal(await second.stop(), 0);
      second = undefined;
      const t = first.service.request(alice, { name: 'leads-again' }, { via: 'slack' });
      first.service.approve(bob, t.id);
      await waitFor(() => first.store.get(t.id)?.status === 'ACTIVE', 'the old leader to lead again', 10_000);
      assert.equal(first.store.get(s.id)?.status, 'ACTIVE');
    } finally {
      await second?.stop();
      await first.stop(1000);
    }
  });

  it('when another writer holds the database past its busy timeout, then the bot logs it and carries on, and provisions once the lock is gone', async () => {
    const { logger, errors } = recordingLogger();
    const app = await newApp({}, undefined, { logger, leaseTtlMs: 300 });
    await app.start();
    try {
      const locker = new Database(path.join(app.config.dataDir, 'sandbox-bot.db'));
      locker.exec('BEGIN EXCLUSIVE');
      // A lease renewal waits out its 1 s busy timeout and fails; the lock goes once that has happened.
      let released = false;
      setTimeout(() => {
        locker.exec('COMMIT');
        locker.close();
        released = true;
      }, 250);
      await waitFor(
        () => released && errors.some((e) => /lease check failed; trying again/.test(e)),
        'a failed tick, then the lock released',
        20_000,
      );
      const s = app.service.request(alice, { name: 'after-lock' }, { via: 'slack' });
      app.service.approve(bob, s.id);
      await waitFor(() => app.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE', 10_000);
    } finally {
      await app.stop(1000);
    }
  });

  it('when another writer holds the database while the bot starts, then it starts and serves, logs the failing lease check once, counts it on /metrics, is not ready, and leads once the lock is gone', async () => {
    const { logger, errors, logged } = recordingLogger();
    const app = await newApp({}, undefined, { logger, leaseTtlMs: 300 });
    const locker = new Database(path.join(app.config.dataDir, 'sandbox-bot.db'));
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const { port } = await app.start(); // rejected here before: "database is locked" from taking the lease
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.ok(
        errors.some((e) => /lease check failed; trying again/.test(e)),
        errors.join('\n'),
      );
      // Each tick fails the same way while the lock lasts: one error, then debug lines, then one line once it works.
      const lines = (pattern: RegExp) => logged.filter((l) => pattern.test(l)).length;
      await waitFor(
        () => lines(/^debug .*lease check failed.*\(again, the same way\)/) > 0,
        'a repeated failure',
      );
      assert.equal(errors.filter((e) => /lease check failed/.test(e)).length, 1, errors.join('\n'));
      // What the log tells, /metrics counts, for an alert.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^sandbox_log_messages_total\{level="error"\} [1-9]/m);
      // A load balancer or orchestrator sees that the bot cannot write, and why.
      const notReady = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(notReady.status, 503);
      assert.deepEqual(await notReady.json(), {
        status: 'database unavailable',
        reason: 'it cannot be written: database is locked',
      });
      locker.exec('COMMIT');
      await waitFor(async () => (await leaderSample(port)) === '1', 'the lease taken', 10_000);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      await waitFor(() => lines(/^info the provisioner lease check works again/) === 1, 'works again');
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await app.stop(1000);
    }
  });

  it('when the bot stops while another writer holds the database, then it still stops cleanly, leaving the lease to run out', async () => {
    const { logger, warnings } = recordingLogger();
    const app = await newApp({}, undefined, { logger });
    const { port } = await app.start();
    assert.equal(await leaderSample(port), '1');
    const locker = new Database(path.join(app.config.dataDir, 'sandbox-bot.db'));
    locker.exec('BEGIN EXCLUSIVE');
    try {
      await app.stop(1000); // rejected here before: "database is locked" from releasing the lease
      assert.ok(
        warnings.some((w) => /could not release the provisioner lease/.test(w)),
        warnings.join('\n'),
      );
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
  });

  it('when a sandbox becomes ACTIVE and later expires, then /readyz is ready and /metrics counts the provisioning, the wait, the k3d create and the expiry', async () => {
    const app = await newApp();
    const { port } = await app.start();
    const base = `http://127.0.0.1:${port}`;
    const metrics = async () => {
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      return res.text();
    };
    try {
      const s = app.service.request(alice, { name: 'counted', ttl: 30 * 60_000 }, { via: 'slack' });
      app.service.approve(bob, s.id);
      const active = await inStatus(app, s.id, 'ACTIVE');

      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready' });

      const text = await metrics();
      for (const sample of [
        'sandboxes{state="ACTIVE"} 1',
        'sandbox_provision_duration_seconds_count 1',
        'sandbox_approval_wait_seconds_count 1',
        'sandbox_command_duration_seconds_count{bin="k3d",command="cluster create",outcome="ok"} 1',
        'sandbox_expirations_total 0',
      ]) {
        assert.ok(text.split('\n').includes(sample), `/metrics has the sample ${sample}:\n${text}`);
      }

      // Past its time-to-live, the expiry sweep destroys it and the counter says why it went.
      const expired = app.service.sweepExpired((active.expiresAt ?? Date.now()) + 1000, 10);
      assert.deepEqual(
        expired.map((e) => e.id),
        [s.id],
      );
      await waitFor(() => app.store.get(s.id)?.status === 'DESTROYED', 'DESTROYED', 10_000);
      assert.equal(fake.cluster('sbx-counted'), undefined);
      const after = await waitFor(async () => {
        const t = await metrics();
        return t.split('\n').includes('sandbox_expirations_total 1') ? t : undefined;
      }, 'sandbox_expirations_total 1');
      assert.ok(after.split('\n').includes('sandboxes{state="ACTIVE"} 0'), after);
      assert.ok(after.split('\n').includes('sandboxes{state="DESTROYED"} 1'), after);
    } finally {
      await app.stop(1000);
    }
  });

  it('when names are invalid, then each is refused naming the rule and k3d is never asked to create', async () => {
    const app = await newApp();
    // Started, so the provisioner is running and would create anything that slipped through.
    await app.start();
    const createdClusters = () =>
      fake.calls().flatMap((c) => (c.command === 'cluster create' ? [c.argv[2]] : []));
    try {
      for (const name of ['My_Cluster', 'a;rm -rf /', '-x', '', 'x'.repeat(40)]) {
        assert.throws(
          () => app.service.request(alice, { name }, { via: 'slack' }),
          (e: Error) => e instanceof InvalidInput && /^name: /.test(e.message),
        );
      }
      assert.equal(app.store.list({}).length, 0);

      // A valid request filed afterwards is created: the provisioner has looked at the queue, and that one
      // is the only cluster k3d was asked for.
      const valid = app.service.request(alice, { name: 'valid-after' }, { via: 'slack' });
      app.service.approve(bob, valid.id);
      await waitFor(() => app.store.get(valid.id)?.status === 'ACTIVE', 'ACTIVE', 10_000);
      assert.deepEqual(createdClusters(), ['sbx-valid-after']);
    } finally {
      await app.stop(1000);
    }
  });
});
