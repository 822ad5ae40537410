import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type Db, openDatabase } from '../../../src/adapters/db/open-database.js';
import { startWalCheckpointer } from '../../../src/adapters/db/wal-checkpointer.js';
import { recordingLogger, silentLogger, waitFor } from '../../helpers/core-fixture.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDatabase(): { db: Db; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'wal-checkpointer-'));
  dirs.push(dir);
  const file = path.join(dir, 'sandboxes.db');
  return { db: openDatabase(file), file };
}

/** Commits ~2,500 pages (10 MB of audit rows) in one transaction. */
function writeManyPages(db: Db): void {
  const insert = db.prepare(
    "INSERT INTO audit_events (at, actor, action, sandbox_id, details) VALUES (0, 'test', 'bulk', NULL, ?)",
  );
  const details = JSON.stringify({ padding: 'x'.repeat(4000) });
  db.transaction(() => {
    for (let i = 0; i < 2500; i++) insert.run(details);
  })();
}

/** Frames in the WAL after one small commit: the commit starts the log over once all of it is in the database. */
function framesAfterASmallCommit(db: Db): number {
  db.prepare("INSERT INTO audit_events (at, actor, action, details) VALUES (0, 'test', 'small', '{}')").run();
  const [result] = db.pragma('wal_checkpoint(NOOP)') as { log: number }[];
  return result?.log ?? Number.NaN;
}

describe('background WAL checkpoints', () => {
  it('when many pages are committed, then the worker copies them into the database and the WAL starts over', async () => {
    const { db } = tempDatabase();
    const checkpointer = startWalCheckpointer(db, { intervalMs: 20, logger: silentLogger });
    try {
      writeManyPages(db);
      await waitFor(() => framesAfterASmallCommit(db) < 10, 'the WAL to be checkpointed and restarted');
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('when nothing checkpoints in the background, then the commit leaves the pages in the WAL (the fallback threshold is higher)', async () => {
    const { db } = tempDatabase();
    const checkpointer = startWalCheckpointer(db, { intervalMs: 60_000, logger: silentLogger });
    try {
      writeManyPages(db);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(framesAfterASmallCommit(db) > 2000, 'the commit did not checkpoint on the event loop');
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('when the worker cannot open the database, then a warning says commits will checkpoint themselves', async () => {
    const { db, file } = tempDatabase();
    rmSync(file);
    const { logger, warnings } = recordingLogger();
    const checkpointer = startWalCheckpointer(db, { intervalMs: 20, logger });
    try {
      await waitFor(() => warnings.length > 0, 'a warning');
      assert.match(warnings[0] ?? '', /commits will checkpoint the database themselves/);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });
});
