import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StartupError } from '../../lib/startup-error.js';
import { leaseHolder, PROVISIONER_LEASE } from './lease.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * How long a write waits for another process's write lock once the database is open. better-sqlite3 waits
 * synchronously, and the whole process with it: every Slack ack, request and /healthz. The bots' own
 * transactions hold the lock for milliseconds; one held longer is an outside writer (a sqlite3 shell, a backup
 * tool) that waiting would not outlast. At 5 s, the lease and queue timers alone kept the bot frozen for as
 * long as such a writer held on; at 1 s a command has room for a timer's wait and its own within Slack's 3 s
 * for an ack. Opening and migrating wait 5 s, before anything is served.
 */
const WRITE_LOCK_WAIT_MS = 1000;

/** Raised when the database cannot be opened or migrated; main.ts prints its message and exits non-zero. */
class DatabaseOpenError extends StartupError {
  override name = 'DatabaseOpenError';
}

/** A schema this version must not change now; its message says what to do, which is not about the file. */
class SchemaRefused extends Error {}

/** The migration that made the lease table: before it, another process on the database cannot be seen. */
const LEASES_SINCE = 3;

/**
 * Opens (creating if needed) the SQLite database, sets the pragmas the bot relies on and applies pending
 * migrations. `:memory:` gives a private in-memory database for tests.
 */
export function openDatabase(file: string): Db {
  let db: Db | undefined;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('busy_timeout = 5000');
    useWal(db);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A statement that changes many rows inside a transaction keeps its undo journal here, not in a temp file.
    db.pragma('temp_store = MEMORY');
    migrate(db);
    db.pragma(`busy_timeout = ${WRITE_LOCK_WAIT_MS}`);
    return db;
  } catch (error) {
    db?.close();
    const reason = error instanceof Error ? error.message : String(error);
    const check =
      error instanceof SchemaRefused
        ? ''
        : ' Check that DATA_DIR exists, is writable by this user, and that no other process holds a lock on it.';
    throw new DatabaseOpenError(`Cannot open the database ${file}: ${reason}.${check}`);
  }
}

/**
 * Switching a new database to WAL needs it to itself for a moment, and SQLite answers "database is locked" at
 * once rather than wait (busy_timeout does not apply) when another process is opening it too: retried for 5 s.
 */
function useWal(db: Db): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY');
      if (!busy || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/**
 * Applies every migration newer than `PRAGMA user_version`, each in its own write transaction. The version is
 * read again inside it: a second process (a `serve` and an `mcp` started together after an upgrade) may have
 * applied that migration while this one waited for the lock. None is applied under a bot still running on the
 * database (an older version left running in a rolling deploy): it would go on writing rows the way its own
 * schema wants (a sandbox destroyed by version 6 after migration 7 kept its name for good).
 */
function migrate(db: Db): void {
  const schemaVersion = () => db.pragma('user_version', { simple: true }) as number;
  const current = schemaVersion();
  if (current > MIGRATIONS.length) {
    throw new SchemaRefused(
      `it is at schema version ${current}, written by a newer version of k3d-sandbox-bot (this one knows up to ${MIGRATIONS.length}): run that version or a newer one; to go back to this version, restore the backup taken before the upgrade`,
    );
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    const sql = MIGRATIONS[version - 1] as string;
    db.transaction(() => {
      if (schemaVersion() >= version) return;
      const running = version > LEASES_SINCE ? leaseHolder(db, PROVISIONER_LEASE) : undefined;
      if (running) {
        throw new SchemaRefused(
          `a bot is running on it (pid ${running.pid} on ${running.host}) at schema version ${version - 1}, which this version would upgrade to ${MIGRATIONS.length} under it. Stop every k3d-sandbox-bot process on this DATA_DIR (serve and mcp), then start this version (if that process is already gone, its lease runs out at ${new Date(running.expiresAt).toISOString()})`,
        );
      }
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}
