/**
 * Append-only list of schema migrations; migration N brings the database to `PRAGMA user_version = N`.
 * Never edit a released entry: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: sandboxes and the audit log
  `
  CREATE TABLE sandboxes (
    id                    TEXT PRIMARY KEY,
    approval_id           TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    cluster_name          TEXT NOT NULL,
    owner                 TEXT NOT NULL,
    requested_by          TEXT NOT NULL,
    requested_via         TEXT NOT NULL,
    servers               INTEGER NOT NULL,
    agents                INTEGER NOT NULL,
    ttl_ms                INTEGER NOT NULL,
    reason                TEXT,
    status                TEXT NOT NULL,
    requested_at          INTEGER NOT NULL,
    decided_at            INTEGER,
    decided_by            TEXT,
    decision_note         TEXT,
    creating_at           INTEGER,
    ready_at              INTEGER,
    expires_at            INTEGER,
    destroyed_at          INTEGER,
    warned_for_expires_at INTEGER,
    failure_reason        TEXT,
    destroy_reason        TEXT,
    create_attempts       INTEGER NOT NULL DEFAULT 0,
    api_port              INTEGER,
    kubeconfig_enc        TEXT,
    approval_channel      TEXT,
    approval_ts           TEXT,
    updated_at            INTEGER NOT NULL
  ) STRICT;

  -- A name (and so a cluster name) belongs to at most one sandbox that is not final.
  CREATE UNIQUE INDEX sandboxes_current_name ON sandboxes (name)
    WHERE status NOT IN ('DESTROYED', 'FAILED', 'DENIED', 'CANCELLED');
  -- An API port is held while the cluster may exist.
  CREATE UNIQUE INDEX sandboxes_api_port ON sandboxes (api_port)
    WHERE status IN ('CREATING', 'ACTIVE', 'DESTROYING');
  -- The sweeps: their cost follows the number of due rows, not the table size.
  CREATE INDEX sandboxes_active_expiry ON sandboxes (expires_at) WHERE status = 'ACTIVE';
  CREATE INDEX sandboxes_unwarned_expiry ON sandboxes (expires_at)
    WHERE status = 'ACTIVE' AND warned_for_expires_at IS NOT expires_at;
  CREATE INDEX sandboxes_pending_since ON sandboxes (requested_at) WHERE status = 'PENDING_APPROVAL';
  CREATE INDEX sandboxes_status ON sandboxes (status, decided_at);
  CREATE INDEX sandboxes_owner ON sandboxes (owner, status);
  CREATE INDEX sandboxes_name_recent ON sandboxes (name, requested_at);
  CREATE INDEX sandboxes_recent ON sandboxes (requested_at);

  CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    sandbox_id TEXT,
    details    TEXT NOT NULL DEFAULT '{}'
  ) STRICT;
  CREATE INDEX audit_events_sandbox ON audit_events (sandbox_id, id);

  CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
  CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
  `,
  // 2: the last smoke-test result per sandbox
  `
  CREATE TABLE test_results (
    sandbox_id  TEXT PRIMARY KEY REFERENCES sandboxes (id),
    suite       TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    steps       TEXT NOT NULL
  ) STRICT;
  `,
  // 3: the lease that makes one process per database the provisioner
  `
  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 4: who is posting a request's approval message, so two processes never both post it
  `
  ALTER TABLE sandboxes ADD COLUMN approval_claimed_at INTEGER;
  `,
  // 5: whether the owner has the kubeconfig DM yet, so a failed or interrupted delivery is retried
  `
  ALTER TABLE sandboxes ADD COLUMN kubeconfig_sent_at INTEGER;
  ALTER TABLE sandboxes ADD COLUMN kubeconfig_claimed_at INTEGER;
  CREATE INDEX sandboxes_kubeconfig_unsent ON sandboxes (ready_at)
    WHERE status = 'ACTIVE' AND kubeconfig_sent_at IS NULL;
  `,
  // 6: fewer indexes for a state change to update. Every index whose key or WHERE names `status` is
  // rewritten by every transition; (status, decided_at) and (owner, status) were two of them. Live rows
  // (bounded by the quotas) get one covering index for quotas, the queue and the live lists; owners' lists
  // go by request time; final rows are indexed once, on their way in, for the state gauge. The warning sweep
  // reads the expiry index (skipping the few rows already warned within the window), so recording a warning
  // updates no index at all.
  `
  DROP INDEX sandboxes_status;
  DROP INDEX sandboxes_owner;
  DROP INDEX sandboxes_unwarned_expiry;
  CREATE INDEX sandboxes_live ON sandboxes (status, owner)
    WHERE status NOT IN ('DESTROYED', 'FAILED', 'DENIED', 'CANCELLED');
  CREATE INDEX sandboxes_owner_recent ON sandboxes (owner, requested_at);
  CREATE INDEX sandboxes_final ON sandboxes (status)
    WHERE status IN ('DESTROYED', 'FAILED', 'DENIED', 'CANCELLED');
  `,
  // 7: cheaper state changes, measured by the sweep benchmark. The indexes of live rows are partial on
  // `closed_at` (set once, when a sandbox reaches a final state) instead of `status`, and no longer keyed on
  // it, so a change between two live states (approve, create, ready, expire) leaves them alone; it updates
  // only the indexes of the states it leaves and enters (pending, queue, active expiry). Live rows are bounded
  // by the quotas, so queries by status among them read their rows. The audit log loses its per-sandbox index:
  // nothing in the bot reads the log by sandbox, and that index put every audit row on a random page (half the
  // pages a sweep wrote). Reading one sandbox's trail now scans the log.
  `
  ALTER TABLE sandboxes ADD COLUMN closed_at INTEGER;
  UPDATE sandboxes SET closed_at = updated_at WHERE status IN ('DESTROYED', 'FAILED', 'DENIED', 'CANCELLED');
  DROP INDEX sandboxes_current_name;
  DROP INDEX sandboxes_api_port;
  DROP INDEX sandboxes_live;
  CREATE UNIQUE INDEX sandboxes_current_name ON sandboxes (name) WHERE closed_at IS NULL;
  CREATE UNIQUE INDEX sandboxes_api_port ON sandboxes (api_port) WHERE closed_at IS NULL;
  CREATE INDEX sandboxes_live ON sandboxes (owner) WHERE closed_at IS NULL;
  CREATE INDEX sandboxes_queue ON sandboxes (decided_at, requested_at) WHERE status = 'QUEUED';
  DROP INDEX audit_events_sandbox;
  `,
  // 8: a caller's history (MCP list_sandboxes with include_finished, for a token that may not see all): what they
  // own goes by `sandboxes_owner_recent`, what they asked for on someone's behalf by this index, each read newest
  // first up to the limit. Without it the list read all history in time order, looking for their rows. Written
  // once per request, and only for a request filed on someone's behalf.
  `
  CREATE INDEX sandboxes_requester_recent ON sandboxes (requested_by, requested_at) WHERE requested_by <> owner;
  `,
];
