import type Database from 'better-sqlite3';
import { Conflict } from '../../core/errors.js';
import type { TestResultSummary } from '../../core/events.js';
import type { AuditEvent, ListFilter, NewSandbox, SandboxPatch, SandboxStore } from '../../core/ports.js';
import { SANDBOX_STATUSES, type Sandbox, type SandboxStatus } from '../../core/sandbox.js';
import type { Db } from './open-database.js';

interface SandboxRow {
  id: string;
  approval_id: string;
  name: string;
  cluster_name: string;
  owner: string;
  requested_by: string;
  requested_via: string;
  servers: number;
  agents: number;
  ttl_ms: number;
  reason: string | null;
  status: string;
  requested_at: number;
  decided_at: number | null;
  decided_by: string | null;
  decision_note: string | null;
  creating_at: number | null;
  ready_at: number | null;
  expires_at: number | null;
  destroyed_at: number | null;
  warned_for_expires_at: number | null;
  failure_reason: string | null;
  destroy_reason: string | null;
  create_attempts: number;
  api_port: number | null;
  approval_channel: string | null;
  approval_ts: string | null;
}

/** Every column but the encrypted kubeconfig, which is read only on purpose. */
const COLUMNS = `id, approval_id, name, cluster_name, owner, requested_by, requested_via, servers, agents, ttl_ms, reason,
  status, requested_at, decided_at, decided_by, decision_note, creating_at, ready_at, expires_at, destroyed_at,
  warned_for_expires_at, failure_reason, destroy_reason, create_attempts, api_port, approval_channel, approval_ts`;

function toSandbox(row: SandboxRow): Sandbox {
  return {
    id: row.id,
    approvalId: row.approval_id,
    name: row.name,
    clusterName: row.cluster_name,
    owner: row.owner,
    requestedBy: row.requested_by,
    requestedVia: row.requested_via as Sandbox['requestedVia'],
    servers: row.servers,
    agents: row.agents,
    ttlMs: row.ttl_ms,
    reason: row.reason,
    status: row.status as SandboxStatus,
    requestedAt: row.requested_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    decisionNote: row.decision_note,
    creatingAt: row.creating_at,
    readyAt: row.ready_at,
    expiresAt: row.expires_at,
    destroyedAt: row.destroyed_at,
    warnedForExpiresAt: row.warned_for_expires_at,
    failureReason: row.failure_reason,
    destroyReason: row.destroy_reason,
    createAttempts: row.create_attempts,
    apiPort: row.api_port,
    approvalMessage:
      row.approval_channel && row.approval_ts ? { channel: row.approval_channel, ts: row.approval_ts } : null,
  };
}

/** Maps a patch onto column assignments; `approvalMessage` spans two columns. */
const PATCH_COLUMNS: Record<Exclude<keyof SandboxPatch, 'approvalMessage'>, string> = {
  decidedAt: 'decided_at',
  decidedBy: 'decided_by',
  decisionNote: 'decision_note',
  creatingAt: 'creating_at',
  readyAt: 'ready_at',
  expiresAt: 'expires_at',
  destroyedAt: 'destroyed_at',
  warnedForExpiresAt: 'warned_for_expires_at',
  failureReason: 'failure_reason',
  destroyReason: 'destroy_reason',
  createAttempts: 'create_attempts',
  apiPort: 'api_port',
};

const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(', ');

/** The SQLite implementation of the core's SandboxStore (better-sqlite3, synchronous). */
export function createSandboxStore(db: Db, now: () => number = Date.now): SandboxStore {
  // Statements whose SQL depends on the call's shape (filters, patched columns) are prepared once per shape.
  const prepared = new Map<string, Database.Statement<unknown[]>>();
  const cached = (sql: string) => {
    let statement = prepared.get(sql);
    if (!statement) {
      statement = db.prepare<unknown[]>(sql);
      prepared.set(sql, statement);
    }
    return statement;
  };
  const byId = db.prepare<[string], SandboxRow>(`SELECT ${COLUMNS} FROM sandboxes WHERE id = ?`);
  const byApprovalId = db.prepare<[string], SandboxRow>(
    `SELECT ${COLUMNS} FROM sandboxes WHERE approval_id = ?`,
  );
  const currentByName = db.prepare<[string], SandboxRow>(
    `SELECT ${COLUMNS} FROM sandboxes WHERE name = ? AND status NOT IN ('DESTROYED', 'FAILED', 'DENIED', 'CANCELLED')`,
  );
  const queued = db.prepare<[number], SandboxRow>(
    `SELECT ${COLUMNS} FROM sandboxes WHERE status = 'QUEUED' ORDER BY decided_at, requested_at LIMIT ?`,
  );
  // The sweeps' set-based transitions: one statement for every due row. INDEXED BY pins the partial indexes:
  // without statistics SQLite prefers (status, …) and would read every ACTIVE row instead of the due ones.
  const claimWarnings = db.prepare<[number, number, number], SandboxRow>(
    `UPDATE sandboxes SET warned_for_expires_at = expires_at, updated_at = ?
     WHERE id IN (SELECT id FROM sandboxes INDEXED BY sandboxes_unwarned_expiry
                  WHERE status = 'ACTIVE' AND warned_for_expires_at IS NOT expires_at
                  AND expires_at <= ? ORDER BY expires_at LIMIT ?)
     RETURNING ${COLUMNS}`,
  );
  const startExpiry = db.prepare<[number, number, number], SandboxRow>(
    `UPDATE sandboxes SET status = 'DESTROYING', destroy_reason = 'expired', updated_at = ?
     WHERE id IN (SELECT id FROM sandboxes INDEXED BY sandboxes_active_expiry
                  WHERE status = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at LIMIT ?)
     RETURNING ${COLUMNS}`,
  );
  const cancelStale = db.prepare<[number, string, number, number, number], SandboxRow>(
    `UPDATE sandboxes SET status = 'CANCELLED', decided_at = ?, decided_by = 'system', decision_note = ?, updated_at = ?
     WHERE id IN (SELECT id FROM sandboxes INDEXED BY sandboxes_pending_since
                  WHERE status = 'PENDING_APPROVAL' AND requested_at <= ?
                  ORDER BY requested_at LIMIT ?)
     RETURNING ${COLUMNS}`,
  );
  const ports = db.prepare<[], { api_port: number }>(
    `SELECT api_port FROM sandboxes WHERE status IN ('CREATING', 'ACTIVE', 'DESTROYING') AND api_port IS NOT NULL`,
  );
  const byStatus = db.prepare<[], { status: string; n: number }>(
    'SELECT status, count(*) AS n FROM sandboxes GROUP BY status',
  );
  const getKubeconfig = db.prepare<[string], { kubeconfig_enc: string | null }>(
    'SELECT kubeconfig_enc FROM sandboxes WHERE id = ?',
  );
  const claimPost = db.prepare(
    `UPDATE sandboxes SET approval_claimed_at = ? WHERE id = ? AND status = 'PENDING_APPROVAL'
     AND approval_channel IS NULL AND (approval_claimed_at IS NULL OR approval_claimed_at < ?)`,
  );
  const releasePost = db.prepare('UPDATE sandboxes SET approval_claimed_at = NULL WHERE id = ?');
  const claimDelivery = db.prepare(
    `UPDATE sandboxes SET kubeconfig_claimed_at = ? WHERE id = ? AND status = 'ACTIVE'
     AND kubeconfig_sent_at IS NULL AND (kubeconfig_claimed_at IS NULL OR kubeconfig_claimed_at < ?)`,
  );
  const finishDelivery = db.prepare(
    'UPDATE sandboxes SET kubeconfig_sent_at = ?, kubeconfig_claimed_at = NULL WHERE id = ?',
  );
  const undelivered = db.prepare<[number, number], SandboxRow>(
    `SELECT ${COLUMNS} FROM sandboxes INDEXED BY sandboxes_kubeconfig_unsent
     WHERE status = 'ACTIVE' AND kubeconfig_sent_at IS NULL AND ready_at <= ? ORDER BY ready_at LIMIT ?`,
  );
  const setKubeconfig = db.prepare('UPDATE sandboxes SET kubeconfig_enc = ?, updated_at = ? WHERE id = ?');
  const upsertResult =
    db.prepare(`INSERT INTO test_results (sandbox_id, suite, passed, started_at, finished_at, steps)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sandbox_id) DO UPDATE SET suite = excluded.suite, passed = excluded.passed,
    started_at = excluded.started_at, finished_at = excluded.finished_at, steps = excluded.steps`);
  const selectResult = db.prepare<
    [string],
    { suite: string; passed: number; started_at: number; finished_at: number; steps: string }
  >('SELECT suite, passed, started_at, finished_at, steps FROM test_results WHERE sandbox_id = ?');
  const insertAudit = db.prepare(
    'INSERT INTO audit_events (at, actor, action, sandbox_id, details) VALUES (?, ?, ?, ?, ?)',
  );
  const insert = db.prepare(`INSERT INTO sandboxes (id, approval_id, name, cluster_name, owner, requested_by,
    requested_via, servers, agents, ttl_ms, reason, status, requested_at, create_attempts, updated_at)
    VALUES (@id, @approvalId, @name, @clusterName, @owner, @requestedBy, @requestedVia, @servers, @agents, @ttlMs,
    @reason, @status, @requestedAt, 0, @requestedAt)`);

  const get = (id: string) => {
    const row = byId.get(id);
    return row ? toSandbox(row) : undefined;
  };

  return {
    transaction: (fn) => db.transaction(fn).immediate(),

    insert(sandbox: NewSandbox) {
      try {
        insert.run(sandbox);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new Conflict(`A sandbox named ${sandbox.name} already exists; pick another name.`);
        }
        throw error;
      }
      return get(sandbox.id) as Sandbox;
    },

    get,

    getByApprovalId(approvalId) {
      const row = byApprovalId.get(approvalId);
      return row ? toSandbox(row) : undefined;
    },

    findCurrentByName(name) {
      const row = currentByName.get(name);
      return row ? toSandbox(row) : undefined;
    },

    list(filter: ListFilter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.owner !== undefined) {
        where.push('owner = ?');
        params.push(filter.owner);
      }
      if (filter.name !== undefined) {
        where.push('name = ?');
        params.push(filter.name);
      }
      if (filter.statuses) {
        where.push(`status IN (${placeholders(filter.statuses)})`);
        params.push(...filter.statuses);
      }
      const sql = `SELECT ${COLUMNS} FROM sandboxes ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY requested_at DESC LIMIT ?`;
      return (cached(sql).all(...params, filter.limit ?? 200) as SandboxRow[]).map(toSandbox);
    },

    count({ owner, statuses }) {
      const sql = `SELECT count(*) AS n FROM sandboxes WHERE status IN (${placeholders(statuses)})${owner === undefined ? '' : ' AND owner = ?'}`;
      const params: unknown[] = owner === undefined ? [...statuses] : [...statuses, owner];
      return (cached(sql).get(...params) as { n: number }).n;
    },

    countByStatus() {
      const counts = Object.fromEntries(SANDBOX_STATUSES.map((s) => [s, 0])) as Record<SandboxStatus, number>;
      for (const { status, n } of byStatus.all()) counts[status as SandboxStatus] = n;
      return counts;
    },

    transition(id, from, to, patch) {
      const sets: string[] = ['updated_at = ?'];
      const params: unknown[] = [now()];
      if (to !== null) {
        sets.push('status = ?');
        params.push(to);
      }
      for (const [key, value] of Object.entries(patch)) {
        if (key === 'approvalMessage') {
          const message = value as SandboxPatch['approvalMessage'];
          sets.push('approval_channel = ?', 'approval_ts = ?');
          params.push(message?.channel ?? null, message?.ts ?? null);
        } else {
          sets.push(`${PATCH_COLUMNS[key as keyof typeof PATCH_COLUMNS]} = ?`);
          params.push(value);
        }
      }
      const result = cached(
        `UPDATE sandboxes SET ${sets.join(', ')} WHERE id = ? AND status IN (${placeholders(from)})`,
      ).run(...params, id, ...from);
      return result.changes === 1 ? get(id) : undefined;
    },

    queued: (limit) => queued.all(limit).map(toSandbox),
    portsInUse: () => new Set(ports.all().map((r) => r.api_port)),
    claimExpiryWarnings: (until, limit) => claimWarnings.all(now(), until, limit).map(toSandbox),
    startExpiry: (at, limit) => startExpiry.all(now(), at, limit).map(toSandbox),
    cancelPendingBefore: (before, note, limit) =>
      cancelStale.all(now(), note, now(), before, limit).map(toSandbox),

    claimApprovalPost: (id, at, staleBefore) => claimPost.run(at, id, staleBefore).changes === 1,
    releaseApprovalPost(id) {
      releasePost.run(id);
    },
    claimKubeconfigDelivery: (id, at, staleBefore) => claimDelivery.run(at, id, staleBefore).changes === 1,
    finishKubeconfigDelivery(id, sentAt) {
      finishDelivery.run(sentAt, id);
    },
    undeliveredKubeconfigs: (readyBefore, limit) => undelivered.all(readyBefore, limit).map(toSandbox),

    setKubeconfig(id, encrypted) {
      setKubeconfig.run(encrypted, now(), id);
    },

    getKubeconfig: (id) => getKubeconfig.get(id)?.kubeconfig_enc ?? undefined,

    saveTestResult(sandboxId, result) {
      upsertResult.run(
        sandboxId,
        result.suite,
        result.passed ? 1 : 0,
        result.startedAt,
        result.finishedAt,
        JSON.stringify(result.steps),
      );
    },

    getTestResult(sandboxId) {
      const row = selectResult.get(sandboxId);
      if (!row) return undefined;
      return {
        suite: row.suite,
        passed: row.passed === 1,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        steps: JSON.parse(row.steps) as TestResultSummary['steps'],
      };
    },

    appendAudit(event: AuditEvent) {
      insertAudit.run(event.at, event.actor, event.action, event.sandboxId, JSON.stringify(event.details));
    },

    listAudit({ sandboxId, limit = 100 }) {
      const rows = db
        .prepare<
          unknown[],
          { at: number; actor: string; action: string; sandbox_id: string | null; details: string }
        >(
          `SELECT at, actor, action, sandbox_id, details FROM audit_events ${sandboxId ? 'WHERE sandbox_id = ?' : ''} ORDER BY id DESC LIMIT ?`,
        )
        .all(...(sandboxId ? [sandboxId, limit] : [limit]));
      return rows.map((r) => ({
        at: r.at,
        actor: r.actor,
        action: r.action,
        sandboxId: r.sandbox_id,
        details: JSON.parse(r.details) as Record<string, unknown>,
      }));
    },
  };
}
