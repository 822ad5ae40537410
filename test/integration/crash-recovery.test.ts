import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { OWNER_LABEL } from '../../src/adapters/k3d/k3d-output.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createFakeK3d, type FakeK3d } from '../fakes/k3d/fake-k3d.js';
import { alice, bob, silentLogger, waitFor } from '../helpers/core-fixture.js';

const MAIN = path.resolve('src/main.ts');
let fake: FakeK3d;
const children: ChildProcess[] = [];

beforeEach(() => {
  fake = createFakeK3d();
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  // A k3d the killed bot left hanging would otherwise outlive the test.
  for (const call of fake.calls()) if (call.end === undefined) killQuietly(call.pid);
  fake.cleanup();
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** Files a request and approves it without starting any provisioner: a QUEUED row, as a crash would leave it. */
async function queuedSandbox(dataDir: string, name: string): Promise<string> {
  const app = buildApp(
    loadConfig({ DATA_DIR: dataDir, K3D_BIN: fake.binPath, DOCKER_BIN: fake.dockerBinPath }),
    { logger: silentLogger },
  );
  const s = app.service.request(alice, { name }, { via: 'slack' });
  app.service.approve(bob, s.id);
  await app.stop(0);
  return s.id;
}

/** The real bot, as `npm start` runs it, in a child process. */
function startBot(dataDir: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    env: {
      ...process.env,
      ...fake.env,
      DATA_DIR: dataDir,
      PORT: '0',
      K3D_BIN: fake.binPath,
      DOCKER_BIN: fake.dockerBinPath,
      KUBECTL_BIN: '/nonexistent/kubectl',
      SANDBOX_AUTO_SMOKE_TEST: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

function statusOf(dataDir: string, id: string): string | undefined {
  const db = new Database(path.join(dataDir, 'sandbox-bot.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], { status: string }>('SELECT status FROM sandboxes WHERE id = ?').get(id)
      ?.status;
  } finally {
    db.close();
  }
}

const exited = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));
const createRunning = () => fake.calls().some((c) => c.command === 'cluster create' && c.end === undefined);

describe('crash recovery', () => {
  it('when the bot is killed with SIGKILL during a hung create, then the next start ends ACTIVE with one cluster', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-crash-'));
    const id = await queuedSandbox(dataDir, 'crashy');
    fake.setKnobs({ FAKE_K3D_HANG: 'create' });
    const first = startBot(dataDir);
    await waitFor(
      () => createRunning() && fake.clusters().includes('sbx-crashy'),
      'a create in progress',
      20_000,
    );
    first.kill('SIGKILL');
    await exited(first);
    assert.equal(statusOf(dataDir, id), 'CREATING');

    fake.setKnobs({ FAKE_K3D_HANG: null });
    const second = startBot(dataDir);
    await waitFor(() => statusOf(dataDir, id) === 'ACTIVE', 'ACTIVE after restart', 30_000);
    assert.deepEqual(fake.clusters(), ['sbx-crashy']);
    assert.equal(fake.cluster('sbx-crashy')?.running, true);
    second.kill('SIGTERM');
    assert.equal(await exited(second), 0);
  });

  it('when the bot dies after k3d created the cluster but before it recorded it, then the next start adopts the cluster without a second create', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-crash-'));
    const id = await queuedSandbox(dataDir, 'adopted');
    fake.setKnobs({ FAKE_K3D_HANG: 'kubeconfig' });
    const first = startBot(dataDir);
    const kubeconfigGet = () =>
      fake.calls().find((c) => c.command === 'kubeconfig get' && c.end === undefined);
    const hung = await waitFor(kubeconfigGet, 'the create done and the kubeconfig being read', 20_000);
    first.kill('SIGKILL');
    await exited(first);
    process.kill(hung.pid, 'SIGKILL');
    assert.equal(statusOf(dataDir, id), 'CREATING');

    fake.setKnobs({ FAKE_K3D_HANG: null });
    const second = startBot(dataDir);
    await waitFor(() => statusOf(dataDir, id) === 'ACTIVE', 'ACTIVE after restart', 30_000);
    assert.equal(fake.calls().filter((c) => c.command === 'cluster create').length, 1);
    assert.deepEqual(fake.clusters(), ['sbx-adopted']);
    second.kill('SIGTERM');
    await exited(second);
  });

  it('when the bot gets SIGTERM during a create, then it lets the create finish, records it and exits 0', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-crash-'));
    const id = await queuedSandbox(dataDir, 'graceful');
    fake.setKnobs({ FAKE_K3D_DELAY_MS: 1500 });
    const bot = startBot(dataDir);
    await waitFor(createRunning, 'a create in progress', 20_000);
    bot.kill('SIGTERM');
    assert.equal(await exited(bot), 0);
    assert.equal(statusOf(dataDir, id), 'ACTIVE');
    assert.equal(fake.calls().filter((c) => c.command === 'cluster create').length, 1);
  });

  it('when a cluster the bot made has no sandbox, then the start-up reconcile deletes it and leaves others alone, prefixed or not', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-crash-'));
    fake.addCluster('sbx-orphan', { labels: { [OWNER_LABEL]: 'sbx-' } });
    fake.addCluster('sbx-by-hand');
    fake.addCluster('team-prod');
    const bot = startBot(dataDir);
    await waitFor(() => !fake.clusters().includes('sbx-orphan'), 'the orphan deleted', 20_000);
    assert.deepEqual(fake.clusters(), ['sbx-by-hand', 'team-prod']);
    bot.kill('SIGTERM');
    await exited(bot);
  });
});
