/**
 * Benchmark 3: one expiry-warning sweep and one TTL-reaper sweep over tables of 1k, 10k and 100k sandboxes,
 * 1% of them due. Target: flat with table size, below 20 ms at 100k. Reports the whole sweep and its longest
 * slice (the sweeps change at most 100 rows per transaction and yield to the event loop in between).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/adapters/db/open-database.js';
import { createSandboxStore } from '../src/adapters/db/sandbox-store.js';
import { createVault } from '../src/adapters/vault/vault.js';
import { SandboxEvents } from '../src/core/events.js';
import { LifecycleSweeps } from '../src/core/lifecycle-sweeps.js';
import { SandboxService } from '../src/core/sandbox-service.js';
import { percentile, report, round } from './lib/report.js';

const SIZES = [1_000, 10_000, 100_000];
const REPETITIONS = 15;
const NOW = Date.UTC(2026, 10, 24, 12);
const MINUTE = 60_000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function seed(file: string, rows: number) {
  const db = openDatabase(file);
  const insert = db.prepare(`INSERT INTO sandboxes (id, approval_id, name, cluster_name, owner, requested_by,
    requested_via, servers, agents, ttl_ms, status, requested_at, ready_at, expires_at, updated_at)
    VALUES (?, ?, ?, ?, 'U0OWNER', 'U0OWNER', 'slack', 1, 0, 3600000, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      // 1% due (expiring within the warning window or already expired), 9% active later, 90% history.
      const kind = i % 100 === 0 ? 'due' : i % 10 === 0 ? 'active' : 'old';
      const status = kind === 'old' ? 'DESTROYED' : 'ACTIVE';
      const expires =
        kind === 'due'
          ? NOW - MINUTE
          : kind === 'active'
            ? NOW + 10 * 60 * MINUTE
            : NOW - 30 * 24 * 60 * MINUTE;
      insert.run(
        `sb-${i}`,
        `ap-${i}`,
        `n${i}`,
        `sbx-n${i}`,
        status,
        NOW - 2 * 60 * MINUTE,
        NOW - 60 * MINUTE,
        expires,
        NOW,
      );
    }
  })();
  return db;
}

/**
 * Times one sweep, and each of its slices (one transaction each: the longest time the event loop, and so a
 * Slack ack, can be held up by it).
 */
async function timeSweep(
  db: ReturnType<typeof openDatabase>,
  service: SandboxService,
  sweep: () => Promise<number>,
): Promise<{ ms: number[]; sliceMs: number[]; handled: number }> {
  const ms: number[] = [];
  const sliceMs: number[] = [];
  let handled = 0;
  for (const method of ['sweepExpiryWarnings', 'sweepExpired'] as const) {
    const original = service[method].bind(service);
    service[method] = (cutoff, limit) => {
      const started = performance.now();
      try {
        return original(cutoff, limit);
      } finally {
        sliceMs.push(performance.now() - started);
      }
    };
  }
  for (let rep = 0; rep < REPETITIONS; rep++) {
    db.exec('BEGIN'); // every repetition sees the same due rows: the sweep's work is rolled back after timing
    const started = performance.now();
    handled = await sweep();
    ms.push(performance.now() - started);
    db.exec('ROLLBACK');
  }
  return { ms: ms.sort((a, b) => a - b), sliceMs: sliceMs.sort((a, b) => a - b), handled };
}

const rows: Record<string, string | number>[] = [];
for (const size of SIZES) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sweep-bench-'));
  const db = seed(path.join(dir, 'bench.db'), size);
  const store = createSandboxStore(db, () => NOW);
  const service = new SandboxService({
    store,
    events: new SandboxEvents(quiet),
    clock: { now: () => NOW },
    vault: createVault(Buffer.alloc(32)),
    options: {
      clusterPrefix: 'sbx-',
      maxServers: 3,
      maxAgents: 3,
      defaultTtlMs: 2 * 60 * MINUTE,
      maxTtlMs: 24 * 60 * MINUTE,
      maxLifetimeMs: 72 * 60 * MINUTE,
      maxPerUser: 3,
      maxTotal: 20,
      extendByMs: 60 * MINUTE,
      allowSelfApproval: false,
      apiPortRange: { from: 6550, to: 6999 },
    },
  });
  const sweeps = new LifecycleSweeps({
    service,
    clock: { now: () => NOW },
    options: { warnBeforeMs: 15 * MINUTE, approvalTimeoutMs: 24 * 60 * MINUTE },
  });
  for (const [name, sweep] of [
    ['warn-expiring', () => sweeps.warnExpiring()],
    ['reap-expired', () => sweeps.reapExpired()],
  ] as const) {
    const { ms, sliceMs, handled } = await timeSweep(db, service, sweep);
    rows.push({
      sweep: name,
      rows: size,
      due: handled,
      'p50 ms': round(percentile(ms, 50)),
      'max ms': round(ms.at(-1) ?? 0),
      'µs per due row': round((percentile(ms, 50) * 1000) / Math.max(1, handled), 1),
      'longest slice ms': round(sliceMs.at(-1) ?? 0),
    });
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
report('sweep-cost', rows, {
  command: 'npm run bench sweep-cost',
  target: 'flat with table size; below 20 ms at 100k rows (1% due)',
  sliceSize: 100,
});
