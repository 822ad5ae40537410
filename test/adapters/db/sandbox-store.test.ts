import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/adapters/db/migrations.js';
import { openDatabase } from '../../../src/adapters/db/open-database.js';
import { createSandboxStore } from '../../../src/adapters/db/sandbox-store.js';
import { Conflict } from '../../../src/core/errors.js';
import { LIVE_STATUSES, QUOTA_STATUSES, type Sandbox } from '../../../src/core/sandbox.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A database as version 5 of the schema left it, with sandboxes of two owners in live and final states. */
function databaseAtVersion5(file: string): void {
  const db = new Database(file);
  for (const sql of MIGRATIONS.slice(0, 5)) db.exec(sql);
  db.pragma('user_version = 5');
  const insert = db.prepare(`INSERT INTO sandboxes (id, approval_id, name, cluster_name, owner, requested_by,
    requested_via, servers, agents, ttl_ms, status, requested_at, decided_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, 'slack', 1, 0, 3600000, ?, ?, ?, ?)`);
  const rows: [string, string, string][] = [
    ['old1', 'U0ALICE', 'DESTROYED'],
    ['old2', 'U0ALICE', 'FAILED'],
    ['old3', 'U0BOB', 'DENIED'],
    ['run1', 'U0ALICE', 'ACTIVE'],
    ['wait1', 'U0BOB', 'QUEUED'],
    ['wait2', 'U0ALICE', 'QUEUED'],
    ['ask1', 'U0BOB', 'PENDING_APPROVAL'],
  ];
  rows.forEach(([name, owner, status], i) => {
    insert.run(
      `sb-${name}`,
      `ap-${name}`,
      name,
      `sbx-${name}`,
      owner,
      owner,
      status,
      1000 + i,
      2000 - i,
      1000,
    );
  });
  db.prepare(`UPDATE sandboxes SET api_port = 6550 WHERE name = 'old1'`).run();
  db.prepare(`UPDATE sandboxes SET api_port = 6551 WHERE name = 'run1'`).run();
  db.close();
}

describe('the SQLite sandbox store', () => {
  it('when a database from schema version 5 is opened, then its rows, names and ports are kept and read the same through the new indexes', () => {
    const file = path.join(dir, 'v5.db');
    databaseAtVersion5(file);
    const db = openDatabase(file);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      const store = createSandboxStore(db);

      const counts = store.countByStatus();
      assert.deepEqual(
        { ...counts },
        {
          PENDING_APPROVAL: 1,
          QUEUED: 2,
          CREATING: 0,
          ACTIVE: 1,
          DESTROYING: 0,
          DESTROYED: 1,
          FAILED: 1,
          DENIED: 1,
          CANCELLED: 0,
        },
      );
      assert.equal(store.count({ ownedOrAskedBy: 'U0ALICE', statuses: QUOTA_STATUSES }), 2);
      assert.equal(store.count({ statuses: QUOTA_STATUSES }), 4);

      const names = (filter: Parameters<typeof store.list>[0]) => store.list(filter).map((s) => s.name);
      assert.deepEqual(names({ owner: 'U0ALICE', statuses: LIVE_STATUSES }), ['wait2', 'run1']);
      assert.deepEqual(names({ owner: 'U0ALICE' }), ['wait2', 'run1', 'old2', 'old1']);
      assert.deepEqual(names({ statuses: ['DESTROYED', 'DENIED'] }), ['old3', 'old1']);
      assert.deepEqual(names({ statuses: ['PENDING_APPROVAL'] }), ['ask1']);
      // The queue goes by approval time: wait2 was approved first.
      assert.deepEqual(
        store.queued(5).map((s) => s.name),
        ['wait2', 'wait1'],
      );

      // Names and ports of finished sandboxes are free; those of live ones are held.
      assert.deepEqual([...store.portsInUse()], [6551]);
      assert.equal(store.findCurrentByName('old1'), undefined);
      assert.equal(store.findCurrentByName('run1')?.status, 'ACTIVE');
      const again = (name: string) => ({
        ...(store.get(`sb-${name}`) as Sandbox),
        id: `sb-${name}-2`,
        approvalId: `ap-${name}-2`,
        status: 'PENDING_APPROVAL' as const,
      });
      assert.equal(store.insert(again('old1')).name, 'old1');
      assert.throws(() => store.insert(again('run1')), Conflict);
    } finally {
      db.close();
    }
  });

  it("when someone who may not see everything lists their history, then it reads their own rows through indexes, not the whole table's history", () => {
    const db = openDatabase(':memory:');
    try {
      // Everyone's finished sandboxes, one a minute; a few of them are the agent's, or filed by it for someone.
      const insert =
        db.prepare(`INSERT INTO sandboxes (id, approval_id, name, cluster_name, owner, requested_by,
        requested_via, servers, agents, ttl_ms, status, requested_at, updated_at, closed_at)
        VALUES (?, ?, ?, ?, ?, ?, 'api', 1, 0, 3600000, 'DESTROYED', ?, ?, ?)`);
      const mine = new Map([
        [10, ['api:agent', 'api:agent']],
        [500, ['U0ALICE', 'api:agent']],
        [1200, ['api:agent', 'U0BOB']],
        [1900, ['U0CAROL', 'api:agent']],
      ]);
      for (let i = 0; i < 2000; i++) {
        const [owner, requester] = mine.get(i) ?? [`U0USER${i % 50}`, `U0USER${i % 50}`];
        insert.run(
          `sb-${i}`,
          `ap-${i}`,
          `n${i}`,
          `sbx-n${i}`,
          owner,
          requester,
          i * 60_000,
          i * 60_000,
          i * 60_000,
        );
      }
      const statements: string[] = [];
      const prepare = db.prepare.bind(db);
      db.prepare = ((sql: string) => {
        statements.push(sql);
        return prepare(sql);
      }) as typeof db.prepare;
      const store = createSandboxStore(db);
      statements.length = 0;

      const history = store.list({ ownedOrAskedBy: 'api:agent', limit: 3 });

      assert.deepEqual(
        history.map((s) => s.name),
        ['n1900', 'n1200', 'n500'],
        'newest first, owned or asked for, up to the limit',
      );
      assert.deepEqual(
        store.list({ ownedOrAskedBy: 'api:agent', limit: 50 }).map((s) => s.name),
        ['n1900', 'n1200', 'n500', 'n10'],
      );
      for (const sql of statements) {
        const plan = prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all('api:agent', 'api:agent')
          .map((step) => (step as { detail: string }).detail);
        assert.ok(
          !plan.some((step) => /^SCAN sandboxes\b/.test(step)),
          `no scan of every row: ${plan.join(' | ')}`,
        );
      }
    } finally {
      db.close();
    }
  });
});
