/**
 * Benchmark 3: one expiry-warning sweep and one TTL-reaper sweep over tables of 1k, 10k and 100k sandboxes,
 * 1% of them due. Target: flat with table size, below 20 ms at 100k. Reports the whole sweep and its longest
 * slice (the sweeps change at most 100 rows per transaction and yield to the event loop in between).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/adapters/db/open-database.js';
import { createSandboxStore } from '../src/adapters/db/sandbox-store.js';
import { startWalCheckpointer } from '../src/adapters/db/wal-checkpointer.js';
import { createVault } from '../src/adapters/vault/vault.js';
import { SandboxEvents } from '../src/core/events.js';
import { LifecycleSweeps } from '../src/core/lifecycle-sweeps.js';
import { SandboxService } from '../src/core/sandbox-service.js';
import { percentile, report, round } from './lib/report.js';

const SIZES = [1_000, 10_000, 100_000];
const REPETITIONS = 15;
const NOW = Date.UTC(2026, 10, 24, 12);
const MINUTE = 60_000;
const DUE_AT = NOW - MINUTE;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Rows as the bot writes them: decided, created, and for ACTIVE ones a port, a delivered kubeconfig (~1.7 KB
 * encrypted) and an approval message; finished ones destroyed with their kubeconfig dropped. 1% are due
 * (the warning sweep runs two minutes before they expire, the reaper one minute after), 9% are active until
 * later, 90% are history.
 * Each has the audit rows of its life so far (4 live, 6 finished), so a sweep's audit rows go into an audit
 * log of realistic size.
 */
function seed(file: string, rows: number) {
  const db = openDatabase(file);
  const insert = db.prepare(`INSERT INTO sandboxes (id, approval_id, name, cluster_name, owner, requested_by,
    requested_via, servers, agents, ttl_ms, reason, status, requested_at, decided_at, decided_by, creating_at,
    ready_at, expires_at, destroyed_at, destroy_reason, create_attempts, api_port, kubeconfig_enc,
    kubeconfig_sent_at, approval_channel, approval_ts, updated_at, closed_at)
    VALUES (@id, @id, @name, @cluster, @owner, @owner, 'slack', 1, 2, 14400000, 'load test', @status, @requested,
    @decided, 'U0APPROVER', @decided, @ready, @expires, @destroyed, @destroyReason, 1, @port, @kubeconfig,
    @sent, 'C0APPROVERS', @approvalTs, @updated, @closed)`);
  const audit = db.prepare(`INSERT INTO audit_events (at, actor, action, sandbox_id, details)
    VALUES (?, ?, ?, ?, ?)`);
  const kubeconfig = randomBytes(1280).toString('base64');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const kind = i % 100 === 0 ? 'due' : i % 10 === 0 ? 'active' : 'old';
      const live = kind !== 'old';
      const expires =
        kind === 'due' ? DUE_AT : kind === 'active' ? NOW + 10 * 60 * MINUTE : NOW - 30 * 24 * 60 * MINUTE;
      const requested = expires - 4 * 60 * MINUTE - 2 * MINUTE;
      const id = `sb-${i.toString(36).padStart(6, '0')}`;
      const life = [
        ['U0USER', 'requested', requested],
        ['U0APPROVER', 'approved', requested + MINUTE],
        ['system', 'creating', requested + MINUTE],
        ['system', 'ready', requested + 2 * MINUTE],
        ...(live
          ? []
          : [
              ['system', 'destroy_requested', expires],
              ['system', 'destroyed', expires + MINUTE],
            ]),
      ] as const;
      for (const [actor, action, at] of life) {
        audit.run(at, actor, action, id, JSON.stringify({ name: `n${i}`, status: 'ACTIVE', note: null }));
      }
      insert.run({
        id,
        name: `n${i}`,
        cluster: `sbx-n${i}`,
        owner: `U0USER${i % 300}`,
        status: live ? 'ACTIVE' : 'DESTROYED',
        requested,
        decided: requested + MINUTE,
        ready: requested + 2 * MINUTE,
        expires,
        destroyed: live ? null : expires + MINUTE,
        destroyReason: live ? null : 'expired',
        port: live ? 10_000 + i / 10 : 6550 + (i % 450),
        kubeconfig: live ? kubeconfig : null,
        sent: requested + 2 * MINUTE,
        approvalTs: `${Math.floor(requested / 1000)}.000100`,
        updated: live ? requested + 2 * MINUTE : expires + MINUTE,
        closed: live ? null : expires + MINUTE,
      });
    }
  })();
  return db;
}

/**
 * Times one sweep, and each of its slices (one committed transaction each: the longest time the event loop, and
 * so a Slack ack, can be held up by it). Between repetitions, untimed, the due rows are put back as they were
 * and the WAL is checkpointed, so every repetition does the same work from the same start.
 */
async function timeSweep(
  db: ReturnType<typeof openDatabase>,
  service: SandboxService,
  sweep: () => Promise<number>,
): Promise<{ ms: number[]; sliceMs: number[]; handled: number }> {
  const ms: number[] = [];
  const sliceMs: number[] = [];
  let handled = 0;
  const timed =
    <A extends unknown[], R>(slice: (...args: A) => R) =>
    (...args: A): R => {
      const started = performance.now();
      try {
        return slice(...args);
      } finally {
        sliceMs.push(performance.now() - started);
      }
    };
  service.sweepExpiryWarnings = timed(service.sweepExpiryWarnings.bind(service));
  service.sweepExpired = timed(service.sweepExpired.bind(service));
  const restore = db.prepare(`UPDATE sandboxes SET status = 'ACTIVE', destroy_reason = NULL,
    warned_for_expires_at = NULL WHERE expires_at = ${DUE_AT}`);
  for (let rep = 0; rep < REPETITIONS; rep++) {
    const started = performance.now();
    handled = await sweep();
    ms.push(performance.now() - started);
    restore.run();
    db.pragma('wal_checkpoint(RESTART)');
  }
  return { ms: ms.sort((a, b) => a - b), sliceMs: sliceMs.sort((a, b) => a - b), handled };
}

const rows: Record<string, string | number>[] = [];
for (const size of SIZES) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sweep-bench-'));
  const db = seed(path.join(dir, 'bench.db'), size);
  // As in the bot: WAL checkpoints on a worker thread, not inside a sweep's commits.
  const checkpointer = startWalCheckpointer(db, { intervalMs: 1000, logger: quiet });
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
  const sweepsAt = (now: number) =>
    new LifecycleSweeps({
      service,
      clock: { now: () => now },
      options: { warnBeforeMs: 15 * MINUTE, approvalTimeoutMs: 24 * 60 * MINUTE },
    });
  const warnSweeps = sweepsAt(DUE_AT - 2 * MINUTE);
  const reapSweeps = sweepsAt(NOW);
  for (const [name, sweep] of [
    ['warn-expiring', () => warnSweeps.warnExpiring()],
    ['reap-expired', () => reapSweeps.reapExpired()],
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
  await checkpointer.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
report('sweep-cost', rows, {
  command: 'npm run bench sweep-cost',
  target: 'flat with table size; below 20 ms at 100k rows (1% due)',
  sliceSize: 100,
});
