import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/ports.js';
import type { Db } from './open-database.js';

/** Pages the WAL may hold before a commit checkpoints it itself: the fallback should the worker fail. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

// Plain JavaScript (a CommonJS script), so the worker needs no TypeScript loader under tsx or in dist/.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage(error instanceof Error ? error.message : String(error));
  }
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Copies the write-ahead log into the database file on a worker thread, with a connection of its own, every
 * `intervalMs`. Left to itself SQLite runs that checkpoint (and its fsync) inside whichever commit takes the
 * WAL past 1,000 pages: ~20 ms on the event loop, charged at random to a Slack ack or a sweep. This
 * connection's own threshold is raised to 10,000 pages rather than switched off, so the WAL stays bounded if
 * the worker fails. PASSIVE never waits for readers or writers; what it cannot copy now it copies next time.
 */
export function startWalCheckpointer(
  db: Db,
  { intervalMs, logger }: { intervalMs: number; logger: Logger },
): { stop(): Promise<void> } {
  if (db.memory) return { stop: async () => {} };
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      file: db.name,
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs,
    },
  });
  worker.unref();
  let warned = false;
  const warn = (reason: string) => {
    if (warned) return;
    warned = true;
    logger.warn(
      { err: reason },
      'WAL checkpoints in the background failed; commits will checkpoint the database themselves',
    );
  };
  worker.on('message', warn);
  worker.on('error', (error) => warn(error.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.ref(); // unref'd so it never keeps the process up; while stopping, its exit is what we wait for
      worker.postMessage('stop');
      await exited;
    },
  };
}
