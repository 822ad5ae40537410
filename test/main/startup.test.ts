import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/adapters/db/migrations.js';
import { alice, bob, waitFor } from '../helpers/core-fixture.js';
import { startTestApp } from '../helpers/test-app.js';

const MAIN = path.resolve('src/main.ts');

/** Runs the real entry point as a child process and collects what it printed and how it exited. */
function runMain(env: Record<string, string>, args: string[] = ['serve'], stopAfterMs?: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: '0',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stopAfterMs !== undefined && stdout.includes('listening'))
        setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'sandbox-start-'));

/** A DATA_DIR whose database an older version left at schema `version`, with one sandbox in it. */
function dataDirAtVersion(version: number): { dir: string; db: Database.Database } {
  const dir = tempDir();
  const db = new Database(path.join(dir, 'sandbox-bot.db'));
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  db.exec(`INSERT INTO sandboxes (id, approval_id, name, cluster_name, owner, requested_by, requested_via, servers,
    agents, ttl_ms, status, requested_at, updated_at)
    VALUES ('sb-old', 'ap-old', 'old', 'sbx-old', 'U0ALICE', 'U0ALICE', 'slack', 1, 0, 3600000, 'PENDING_APPROVAL', 1, 1)`);
  return { dir, db };
}

describe('start-up', () => {
  it('when started without Slack settings, then it serves and says which variables enable Slack, and stops cleanly on SIGTERM', async () => {
    const result = await runMain(
      { DATA_DIR: tempDir(), K3D_BIN: '/nonexistent/k3d', DOCKER_BIN: '/nonexistent/docker' },
      ['serve'],
      300,
    );
    assert.equal(result.code, 0, result.stderr);
    // Every variable the Slack app needs, so setting exactly these is enough.
    assert.match(
      result.stdout,
      /Slack is not configured.*Set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET \(or SLACK_APP_TOKEN for Socket Mode\), SLACK_APPROVERS_CHANNEL and SLACK_APPROVERS \(or SLACK_APPROVER_GROUP\) to enable/,
    );
    assert.match(result.stdout, /k3d is not usable.*install it \(https:\/\/k3d\.io/);
    assert.match(
      result.stdout,
      /docker is not usable, so the Docker networks and volumes k3d leaves behind are not removed/,
    );
    assert.match(result.stdout, /shutting down/);
  });

  it('when the configuration is invalid, then every problem is printed and it exits non-zero', async () => {
    const result = await runMain({
      DATA_DIR: tempDir(),
      SANDBOX_MAX_AGENTS: 'many',
      SANDBOX_DEFAULT_TTL: '2 hours',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Invalid configuration:/);
    assert.match(result.stderr, /SANDBOX_MAX_AGENTS: must be a whole number/);
    assert.match(result.stderr, /SANDBOX_DEFAULT_TTL: "2 hours" is not a duration/);
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  it('when the database cannot be created, then the error says what to check and it exits non-zero', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'sandbox-bot.db')); // a directory where the file should be
    const result = await runMain({ DATA_DIR: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot open the database .*sandbox-bot\.db/);
    assert.match(result.stderr, /writable by this user/);
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  it('when the database file is not a database, then it says so and exits non-zero', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'sandbox-bot.db'), 'this is not sqlite'.repeat(100));
    const result = await runMain({ DATA_DIR: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot open the database .*file is not a database/);
  });

  it('when another process holds the database locked, then it gives up with a clear error', async () => {
    const dir = tempDir();
    const holder = new Database(path.join(dir, 'sandbox-bot.db'));
    holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
    try {
      const result = await runMain({ DATA_DIR: dir });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Cannot open the database .*database is locked/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('when the database was written by a newer version (a rollback), then it says to run that version or restore the backup from before the upgrade, and changes nothing', async () => {
    const { dir, db } = dataDirAtVersion(MIGRATIONS.length);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const result = await runMain({ DATA_DIR: dir });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `at schema version ${MIGRATIONS.length + 1}, written by a newer version of k3d-sandbox-bot \\(this one knows up to ${MIGRATIONS.length}\\): run that version or a newer one; to go back to this version, restore the backup taken before the upgrade`,
      ),
    );
    assert.doesNotMatch(result.stderr, /writable by this user|holds a lock/, 'not a problem with the file');
    const after = new Database(path.join(dir, 'sandbox-bot.db'));
    assert.equal(after.pragma('user_version', { simple: true }), MIGRATIONS.length + 1);
    after.close();
  });

  it('when an older version still runs on the database (a rolling deploy), then the new one does not upgrade it under that process, says to stop it, and upgrades once it has stopped', async () => {
    const { dir, db } = dataDirAtVersion(MIGRATIONS.length - 1);
    // The older bot: a live process on this host holding the provisioner lease, as every `serve` does.
    const older = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    db.prepare(
      `INSERT INTO leases (name, holder, host, pid, expires_at) VALUES ('provisioner', ?, ?, ?, ?)`,
    ).run(`${hostname()}:${older.pid}:abcdef`, hostname(), older.pid, Date.now() + 15_000);
    db.close();
    try {
      const refused = await runMain({ DATA_DIR: dir, K3D_BIN: '/nonexistent/k3d' }, ['serve'], 0);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(
          `a bot is running on it \\(pid ${older.pid} on ${hostname()}\\) at schema version ${MIGRATIONS.length - 1}, which this version would upgrade to ${MIGRATIONS.length} under it\\. Stop every k3d-sandbox-bot process on this DATA_DIR \\(serve and mcp\\), then start this version`,
        ),
      );
      assert.doesNotMatch(refused.stderr, /writable by this user|\n\s+at /);
      const file = new Database(path.join(dir, 'sandbox-bot.db'));
      assert.equal(file.pragma('user_version', { simple: true }), MIGRATIONS.length - 1, 'not upgraded');
      file.close();
    } finally {
      older.kill();
      await new Promise((resolve) => older.once('exit', resolve));
    }

    // Stopped (here: gone without releasing its lease): the upgrade goes ahead, and the sandbox is still there.
    const started = await runMain({ DATA_DIR: dir, K3D_BIN: '/nonexistent/k3d' }, ['serve'], 0);
    assert.equal(started.code, 0, started.stderr);
    const file = new Database(path.join(dir, 'sandbox-bot.db'));
    assert.equal(file.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.deepEqual(file.prepare('SELECT name, status FROM sandboxes').all(), [
      { name: 'old', status: 'PENDING_APPROVAL' },
    ]);
    file.close();
  });

  it('when the port is taken, then it names the address and what to set, and exits non-zero without a stack trace', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const result = await runMain({ DATA_DIR: tempDir(), PORT: String(port) });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: .*in use.*set PORT`));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      holder.close();
    }
  });

  it('when the encryption key file is damaged, then it says what to restore and exits non-zero without a stack trace', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'encryption.key'), 'not a key\n');
    const result = await runMain({ DATA_DIR: dir });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /encryption\.key does not hold a base64 32-byte key; restore it from a backup/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('when the encryption key file cannot be read, then it says so and exits non-zero without a stack trace', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'encryption.key')); // a directory where the file should be
    const result = await runMain({ DATA_DIR: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot read the encryption key .*encryption\.key/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('when the encryption key file is lost or replaced while the database holds kubeconfigs, then it refuses to start, says to restore the key, and makes no new one', async () => {
    const dir = tempDir();
    const keyFile = path.join(dir, 'encryption.key');
    const first = await startTestApp({ dataDir: dir });
    const s = first.app.service.request(alice, { name: 'keyed' }, { via: 'slack' });
    first.app.service.approve(bob, s.id);
    await waitFor(() => first.app.store.get(s.id)?.status === 'ACTIVE', 'ACTIVE');
    await first.stop();
    const key = readFileSync(keyFile, 'utf8');

    // Deleted while the bot ran (it had read it at start): a new key would leave every stored kubeconfig unreadable.
    rmSync(keyFile);
    const missing = await runMain({ DATA_DIR: dir }, ['serve'], 0);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /encryption\.key is missing, but .*sandbox-bot\.db holds kubeconfigs encrypted with it: restore it from a backup/,
    );
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(keyFile), false, 'no new key was made');

    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const replaced = await runMain({ DATA_DIR: dir }, ['serve'], 0);
    assert.equal(replaced.code, 1);
    assert.match(replaced.stderr, /does not open the kubeconfigs stored in .*encrypted with another key/);

    writeFileSync(keyFile, key, { mode: 0o600 });
    const restored = await startTestApp({ dataDir: dir });
    try {
      assert.match(restored.app.service.kubeconfig(alice, s.id), /^apiVersion: v1/);
    } finally {
      await restored.stop();
    }
  });

  it('when an unknown command is given, then the usage is printed and it exits 2', async () => {
    const result = await runMain({ DATA_DIR: tempDir() }, ['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command "frobnicate"/);
  });
});
