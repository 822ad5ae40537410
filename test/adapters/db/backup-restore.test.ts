// The README's backup and restore (Operating: Backups), done to a real bot: a backup taken while it runs, and a
// restore after a crash left its write-ahead log behind.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startBotProcess } from '../../helpers/bot-process.js';
import { callApi } from '../../helpers/http-client.js';

const env = (dataDir: string) => ({
  DATA_DIR: dataDir,
  K3D_BIN: path.join(dataDir, 'no-k3d'),
  KUBECTL_BIN: path.join(dataDir, 'no-kubectl'),
  DOCKER_BIN: path.join(dataDir, 'no-docker'),
  SANDBOX_MAX_PER_USER: '100',
  SANDBOX_MAX_TOTAL: '100',
});

const names = async (url: string) =>
  ((await callApi(url, 'GET', '/list_active_sandboxes')).body as { name: string }[])
    .map((s) => s.name)
    .sort();

describe('backing up and restoring DATA_DIR', () => {
  it('when a backup taken while the bot ran is restored as the README says after a crash, then the bot starts on it whole, with the sandboxes it held', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sandbox-backup-'));
    const backupDir = mkdtempSync(path.join(tmpdir(), 'sandbox-backup-copy-'));
    const file = path.join(dataDir, 'sandbox-bot.db');
    const bot = await startBotProcess(env(dataDir));
    const create = (name: string) =>
      callApi(bot.url, 'POST', '/create_sandbox', { body: { name, reason: 'x'.repeat(500) } });
    const before = Array.from({ length: 30 }, (_, i) => `before-${i}`);
    for (const name of before) assert.equal((await create(name)).status, 200);

    // `sqlite3 sandbox-bot.db ".backup …"` is SQLite's online backup, as better-sqlite3's backup() is.
    const reader = new Database(file, { readonly: true });
    await reader.backup(path.join(backupDir, 'sandbox-bot.db'));
    reader.close();
    copyFileSync(path.join(dataDir, 'encryption.key'), path.join(backupDir, 'encryption.key'));

    for (let i = 0; i < 60; i++) assert.equal((await create(`after-${i}`)).status, 200);
    bot.child.kill('SIGKILL');
    await bot.stop();

    // The README's restore: with every process stopped, the crash's -wal and -shm go, then the backup goes in.
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    copyFileSync(path.join(backupDir, 'sandbox-bot.db'), file);
    copyFileSync(path.join(backupDir, 'encryption.key'), path.join(dataDir, 'encryption.key'));

    const restored = await startBotProcess(env(dataDir));
    try {
      assert.deepEqual(await names(restored.url), [...before].sort());
    } finally {
      assert.equal(await restored.stop(), 0, restored.output());
    }
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
    check.close();
  });
});
