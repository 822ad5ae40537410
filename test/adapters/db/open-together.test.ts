// Two processes opening one new DATA_DIR at the same moment (a `serve` and an `mcp` started together after an
// install or an upgrade): both must come up on the same schema and the same encryption key.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MIGRATIONS } from '../../../src/adapters/db/migrations.js';
import { runNode } from '../../helpers/node-child.js';

const OPEN = path.resolve('src/adapters/db/open-database.ts');
const VAULT = path.resolve('src/adapters/vault/vault.ts');

/** A child that waits until `startAt` (wall clock), then opens the database (unless `keyOnly`) and loads the key. */
function openAt(
  dataDir: string,
  startAt: number,
  keyOnly = false,
): Promise<{ code: number | null; output: string }> {
  const script = `
    import { openDatabase } from ${JSON.stringify(OPEN)};
    import { loadEncryptionKey } from ${JSON.stringify(VAULT)};
    while (Date.now() < ${startAt}) {}
    const db = ${keyOnly} ? undefined : openDatabase(${JSON.stringify(path.join(dataDir, 'sandbox-bot.db'))});
    const none = { sample: undefined, databaseFile: '' };
    const key = loadEncryptionKey(${JSON.stringify(dataDir)}, undefined, none).toString('base64');
    console.log(JSON.stringify({ version: db?.pragma('user_version', { simple: true }), key }));
    db?.close();`;
  return runNode(['--import', 'tsx', '--input-type=module', '-e', script]);
}

describe('opening a new DATA_DIR from two processes at once', () => {
  it('when two processes open a new database together, then both migrate it once and share one key', async () => {
    for (let round = 0; round < 3; round++) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'sandbox-together-'));
      const startAt = Date.now() + 2000;
      const results = await Promise.all([openAt(dataDir, startAt), openAt(dataDir, startAt)]);
      for (const { code, output } of results) assert.equal(code, 0, output);
      const [a, b] = results.map((r) => JSON.parse(r.output) as { version: number; key: string });
      assert.equal(a?.version, MIGRATIONS.length);
      assert.equal(b?.version, MIGRATIONS.length);
      assert.equal(a?.key, b?.key, 'one key for both');
    }
  });

  it('when two processes generate the encryption key at the same instant, then both get the same whole key', async () => {
    for (let round = 0; round < 4; round++) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'sandbox-together-'));
      const startAt = Date.now() + 2000;
      const results = await Promise.all([openAt(dataDir, startAt, true), openAt(dataDir, startAt, true)]);
      for (const { code, output } of results) assert.equal(code, 0, output);
      const [a, b] = results.map((r) => JSON.parse(r.output) as { key: string });
      assert.equal(a?.key, b?.key);
      assert.deepEqual(readdirSync(dataDir), ['encryption.key'], 'no draft is left behind');
    }
  });
});
