import type Database from 'better-sqlite3';
import { Conflict } from '../../core/errors.js';
import type { TestResultSummary } from '../../core/events.js';
import type { AuditEvent, ListFilter, NewSandbox, SandboxPatch, SandboxStore } from '../../core/ports.js';
import {
  FINAL_STATUSES,
  isFinal,
  SANDBOX_STATUSES,
  type Sandbox,
  type SandboxStatus,
} from '../../core/sandbox.js';
import type { Db } from './open-database.js';

/**
 * A sandbox row as better-sqlite3 returns it in raw mode: one array in the order of `COLUMNS`. Arrays rather
 * than objects because turning 27 columns into object properties was the largest cost of reading rows (a list
 * on the Slack ack path, a sweep's RETURNING).
 */
type SandboxRow = [
  id: string,
  approvalId: string,
  name: string,
  clusterName: string,
  owner: string,
  requestedBy: string,
  requestedVia: Sandbox['requestedVia'],
  servers: number,
  agents: number,
  ttlMs: number,
  reason: string | null,
  status: SandboxStatus,
  requestedAt: number,
  decidedAt: number | null,
  decidedBy: string | null,
  decisionNote: string | null,
  creatingAt: number | null,
  readyAt: number | null,
  expiresAt: number | null,
  destroyedAt: number | null,
  warnedForExpiresAt: number | null,
  failureReason: string | null,
  destroyReason: string | null,
  createAttempts: number,
  apiPort: number | null,
  approvalChannel: string | null,
  approvalTs: string | null,
];

/** A row a sweep is about to change: the sandbox's columns, then its rowid. */
type DueRow = [...SandboxRow, rowid: number];
const ROWID: SandboxRow['length'] = 27;

/** Every column but the encrypted kubeconfig, which is read only on purpose; in `SandboxRow`'s order. */
const COLUMNS = `id, approval_id, name, cluster_name, owner, requested_by, requested_via, servers, agents, ttl_ms, reason,
  status, requested_at, decided_at, decided_by, decision_note, creating_at, ready_at, expires_at, destroyed_at,
  warned_for_expires_at, failure_reason, destroy_reason, create_attempts, api_port, approval_channel, approval_ts`;

function toSandbox([
  id,
  approvalId,
  name,
  clusterName,
  owner,
  requestedBy,
  requestedVia,
  servers,
  agents,
  ttlMs,
  reason,
  status,
  requestedAt,
  decidedAt,
  decidedBy,
  decisionNote,
  creatingAt,
  readyAt,
  expiresAt,
  destroyedAt,
  warnedForExpiresAt,
  failureReason,
  destroyReason,
  createAttempts,
  apiPort,
  approvalChannel,
  approvalTs,
]: SandboxRow | DueRow): Sandbox {
  return {
    id,
    approvalId,
    name,
    clusterName,
    owner,
    requestedBy,
    requestedVia,
    servers,
    agents,
    ttlMs,
    reason,
    status,
    requestedAt,
    decidedAt,
    decidedBy,
    decisionNote,
    creatingAt,
    readyAt,
    expiresAt,
    destroyedAt,
    warnedForExpiresAt,
    failureReason,
    destroyReason,
    createAttempts,
    apiPort,
    approvalMessage: approvalChannel && approvalTs ? { channel: approvalChannel, ts: approvalTs } : null,
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

/**
 * Live rows: `closed_at` is set exactly when a row reaches a final status (see migration 7). SQLite uses the
 * partial indexes of live rows (`sandboxes_live`, `sandboxes_current_name`, `sandboxes_api_port`) only when
 * a query repeats their WHERE.
 */
const LIVE = 'closed_at IS NULL';
const FINAL = FINAL_STATUSES.map((s) => `'${s}'`).join(', ');
const onlyLive = (statuses: readonly SandboxStatus[]) => statuses.every((status) => !isFinal(status));

/**
 * A LIMIT clause with the limit written into the SQL, so one statement per limit (every limit is a constant of
 * the code). Bound as a parameter, a LIMIT makes SQLite prepare the statement again each time it runs: ~25 µs
 * for a Slack `list`, on the ack path.
 */
const limitTo = (limit: number) => {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`a row limit must be a whole number, not ${limit}`);
  }
  return `LIMIT ${limit}`;
};

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
  const sandboxRows = <P extends unknown[]>(sql: string) => db.prepare<P, SandboxRow>(sql).raw();
  /** `sql` with a LIMIT, prepared (by `prepare`) once per limit. */
  const limited = <S>(sql: string, prepare: (sql: string) => S) => {
    const byLimit = new Map<number, S>();
    return (limit: number): S => {
      let statement = byLimit.get(limit);
      if (!statement) {
        statement = prepare(`${sql} ${limitTo(limit)}`);
        byLimit.set(limit, statement);
      }
      return statement;
    };
  };
  const byId = sandboxRows<[string]>(`SELECT ${COLUMNS} FROM sandboxes WHERE id = ?`);
  const byApprovalId = sandboxRows<[string]>(`SELECT ${COLUMNS} FROM sandboxes WHERE approval_id = ?`);
  const currentByName = sandboxRows<[string]>(`SELECT ${COLUMNS} FROM sandboxes WHERE name = ? AND ${LIVE}`);
  const queued = limited(
    `SELECT ${COLUMNS} FROM sandboxes INDEXED BY sandboxes_queue WHERE status = 'QUEUED'
     ORDER BY decided_at, requested_at`,
    sandboxRows<[]>,
  );
  // The sweeps' transitions. Each reads a slice of due rows through a partial index (INDEXED BY pins it:
  // without statistics SQLite prefers others and would read every ACTIVE row instead of the due ones), changes
  // them by rowid in one statement and returns them as changed. Reading first is safe because the sweeps run
  // inside a transaction, and cheaper than UPDATE … RETURNING, which collects its result in a temporary table
  // before handing it over. OR FAIL: these updates cannot break a constraint and the caller's transaction rolls
  // back on any error, so SQLite is spared the statement journal (a copy of every page changed) of OR ABORT.
  const dueRows = <P extends unknown[]>(sql: string) => db.prepare<P, DueRow>(sql).raw();
  const changeRows = (set: string) =>
    db.prepare(
      `UPDATE OR FAIL sandboxes SET ${set}, updated_at = ? WHERE rowid IN (SELECT value FROM json_each(?))`,
    );
  const claim = (
    rows: DueRow[],
    update: Database.Statement,
    set: unknown[],
    changed: (s: Sandbox) => Sandbox,
  ) => {
    if (rows.length === 0) return [];
    update.run(...set, now(), JSON.stringify(rows.map((row) => row[ROWID])));
    return rows.map((row) => changed(toSandbox(row)));
  };
  // A warned row stays in the expiry index until it expires, so the warnings due are listed once per sweep and
  // claimed by rowid: claiming the next LIMIT rows again and again would re-read every row warned before them.
  const dueWarnings = db
    .prepare<[number, number], number>(
      `SELECT rowid FROM sandboxes INDEXED BY sandboxes_active_expiry WHERE status = 'ACTIVE'
       AND expires_at > ? AND expires_at <= ? AND warned_for_expires_at IS NOT expires_at ORDER BY expires_at`,
    )
    .pluck();
  const stillDueWarnings = dueRows<[string, number, number]>(
    `SELECT ${COLUMNS}, rowid FROM sandboxes WHERE rowid IN (SELECT value FROM json_each(?)) AND status = 'ACTIVE'
     AND expires_at > ? AND expires_at <= ? AND warned_for_expires_at IS NOT expires_at`,
  );
  const markWarned = changeRows('warned_for_expires_at = expires_at');
  const expired = limited(
    `SELECT ${COLUMNS}, rowid FROM sandboxes INDEXED BY sandboxes_active_expiry
     WHERE status = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at`,
    dueRows<[number]>,
  );
  const markExpired = changeRows(`status = 'DESTROYING', destroy_reason = 'expired'`);
  const stale = limited(
    `SELECT ${COLUMNS}, rowid FROM sandboxes INDEXED BY sandboxes_pending_since
     WHERE status = 'PENDING_APPROVAL' AND requested_at <= ? ORDER BY requested_at`,
    dueRows<[number]>,
  );
  const markCancelled = changeRows(
    `status = 'CANCELLED', decided_at = ?, decided_by = 'system', decision_note = ?, closed_at = ?`,
  );
  const ports = db.prepare<[], { api_port: number }>(
    // Only CREATING, ACTIVE and DESTROYING rows have a port among live ones (a requeue clears it).
    `SELECT api_port FROM sandboxes WHERE ${LIVE} AND api_port IS NOT NULL`,
  );
  // Two reads so each goes through its partial index: live rows are few, final rows only grow.
  const liveByStatus = db.prepare<[], { status: SandboxStatus; n: number }>(
    `SELECT status, count(*) AS n FROM sandboxes INDEXED BY sandboxes_live WHERE ${LIVE} GROUP BY status`,
  );
  const finalByStatus = db.prepare<[], { status: SandboxStatus; n: number }>(
    `SELECT status, count(*) AS n FROM sandboxes WHERE status IN (${FINAL}) GROUP BY status`,
  );
  const requestedSince = db
    .prepare<[string, number, string, number], number>(
      `SELECT (SELECT count(*) FROM sandboxes INDEXED BY sandboxes_owner_recent WHERE owner = ? AND requested_at > ?)
        + (SELECT count(*) FROM sandboxes INDEXED BY sandboxes_requester_recent
           WHERE requested_by = ? AND requested_by <> owner AND requested_at > ?)`,
    )
    .pluck();
  const getKubeconfig = db.prepare<[string], { kubeconfig_enc: string | null }>(
    'SELECT kubeconfig_enc FROM sandboxes WHERE id = ?',
  );
  // Only live sandboxes keep a kubeconfig (a final state clears it), so the index of live rows will do.
  const anyKubeconfig = db
    .prepare<[], string>(
      `SELECT kubeconfig_enc FROM sandboxes WHERE ${LIVE} AND kubeconfig_enc IS NOT NULL LIMIT 1`,
    )
    .pluck();
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
  const undelivered = limited(
    `SELECT ${COLUMNS} FROM sandboxes INDEXED BY sandboxes_kubeconfig_unsent
     WHERE status = 'ACTIVE' AND kubeconfig_sent_at IS NULL ORDER BY ready_at`,
    sandboxRows<[]>,
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

  // One wrapper for every transaction: better-sqlite3 builds a new one (and its variants) per db.transaction().
  const inTransaction = db.transaction((fn: () => unknown) => fn());

  const get = (id: string) => {
    const row = byId.get(id);
    return row ? toSandbox(row) : undefined;
  };

  return {
    transaction: <T>(fn: () => T) => inTransaction.immediate(fn) as T,

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
      // Filters on live states go through the index of live rows (few), not an owner's or the whole history.
      const live = filter.statuses !== undefined && onlyLive(filter.statuses);
      if (live) where.push(LIVE);
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
      const newest = `ORDER BY requested_at DESC ${limitTo(filter.limit ?? 200)}`;
      const who = filter.ownedOrAskedBy;
      if (who !== undefined && !live) {
        // Someone's history: the newest rows they own and the newest they asked for on another's behalf, each
        // read from its own index up to the limit. An OR of the two would read all history, newest first.
        const and = where.map((w) => ` AND ${w}`).join('');
        const sql = `SELECT ${COLUMNS} FROM sandboxes WHERE rowid IN (
          SELECT rowid FROM (SELECT rowid FROM sandboxes INDEXED BY sandboxes_owner_recent WHERE owner = ?${and} ${newest})
          UNION ALL SELECT rowid FROM (SELECT rowid FROM sandboxes INDEXED BY sandboxes_requester_recent
            WHERE requested_by = ? AND requested_by <> owner${and} ${newest})) ${newest}`;
        return (
          cached(sql)
            .raw()
            .all(who, ...params, who, ...params) as SandboxRow[]
        ).map(toSandbox);
      }
      if (who !== undefined) {
        where.push('(owner = ? OR requested_by = ?)');
        params.push(who, who);
      }
      const sql = `SELECT ${COLUMNS} FROM sandboxes ${live ? 'INDEXED BY sandboxes_live' : ''}
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${newest}`;
      return (
        cached(sql)
          .raw()
          .all(...params) as SandboxRow[]
      ).map(toSandbox);
    },

    count({ ownedOrAskedBy: who, statuses }) {
      const live = onlyLive(statuses) ? `INDEXED BY sandboxes_live WHERE ${LIVE} AND ` : 'WHERE ';
      const sql = `SELECT count(*) FROM sandboxes ${live}status IN (${placeholders(statuses)})${who === undefined ? '' : ' AND (owner = ? OR requested_by = ?)'}`;
      const params: unknown[] = who === undefined ? [...statuses] : [...statuses, who, who];
      return cached(sql)
        .pluck()
        .get(...params) as number;
    },

    countRequestedSince(who, since) {
      // Each side from its own index, as in `list`: an OR of the two would read every row in the time range.
      return requestedSince.get(who, since, who, since) as number;
    },

    countByStatus() {
      const counts = Object.fromEntries(SANDBOX_STATUSES.map((s) => [s, 0])) as Record<SandboxStatus, number>;
      for (const { status, n } of [...liveByStatus.all(), ...finalByStatus.all()]) counts[status] = n;
      return counts;
    },

    transition(id, from, to, patch, createAttempt) {
      const at = now();
      const sets: string[] = ['updated_at = ?'];
      const params: unknown[] = [at];
      if (to !== null) {
        sets.push('status = ?');
        params.push(to);
        if (isFinal(to)) {
          sets.push('closed_at = ?');
          params.push(at);
        }
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
      const attempt = createAttempt === undefined ? '' : ' AND create_attempts = ?';
      const result = cached(
        `UPDATE sandboxes SET ${sets.join(', ')} WHERE id = ? AND status IN (${placeholders(from)})${attempt}`,
      ).run(...params, id, ...from, ...(createAttempt === undefined ? [] : [createAttempt]));
      return result.changes === 1 ? get(id) : undefined;
    },

    queued: (limit) => queued(limit).all().map(toSandbox),
    portsInUse: () => new Set(ports.all().map((r) => r.api_port)),
    dueExpiryWarnings: (after, until) => dueWarnings.all(after, until),
    claimExpiryWarnings: (rows, after, until) =>
      claim(stillDueWarnings.all(JSON.stringify(rows), after, until), markWarned, [], (s) => ({
        ...s,
        warnedForExpiresAt: s.expiresAt,
      })),
    startExpiry: (at, limit) =>
      claim(expired(limit).all(at), markExpired, [], (s) => ({
        ...s,
        status: 'DESTROYING',
        destroyReason: 'expired',
      })),
    cancelPendingBefore(before, note, limit) {
      const at = now();
      return claim(stale(limit).all(before), markCancelled, [at, note, at], (s) => ({
        ...s,
        status: 'CANCELLED',
        decidedAt: at,
        decidedBy: 'system',
        decisionNote: note,
      }));
    },

    claimApprovalPost: (id, at, staleBefore) => claimPost.run(at, id, staleBefore).changes === 1,
    releaseApprovalPost(id) {
      releasePost.run(id);
    },
    claimKubeconfigDelivery: (id, at, staleBefore) => claimDelivery.run(at, id, staleBefore).changes === 1,
    finishKubeconfigDelivery(id, sentAt) {
      finishDelivery.run(sentAt, id);
    },
    undeliveredKubeconfigs: (limit) => undelivered(limit).all().map(toSandbox),

    setKubeconfig(id, encrypted) {
      setKubeconfig.run(encrypted, now(), id);
    },

    getKubeconfig: (id) => getKubeconfig.get(id)?.kubeconfig_enc ?? undefined,
    anyKubeconfig: () => anyKubeconfig.get(),

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
      const rows = cached(
        `SELECT at, actor, action, sandbox_id, details FROM audit_events ${sandboxId ? 'WHERE sandbox_id = ?' : ''} ORDER BY id DESC ${limitTo(limit)}`,
      ).all(...(sandboxId ? [sandboxId] : [])) as {
        at: number;
        actor: string;
        action: string;
        sandbox_id: string | null;
        details: string;
      }[];
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
