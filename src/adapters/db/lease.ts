import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from './open-database.js';

export interface LeaseHolder {
  holder: string;
  host: string;
  pid: number;
  expiresAt: number;
}

/** The lease of the process that runs the provisioner, the jobs and the reconciler: the one every bot seeks. */
export const PROVISIONER_LEASE = 'provisioner';

const SELECT_LEASE = 'SELECT holder, host, pid, expires_at AS expiresAt FROM leases WHERE name = ?';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lease is still held: not run out, and its holder is not a process gone from this host. */
function isHeld(lease: LeaseHolder, now: number): boolean {
  return lease.expiresAt > now && !(lease.host === hostname() && !isAlive(lease.pid));
}

/** The process holding the lease `name`, if one is: a bot running on this database now. */
export function leaseHolder(db: Db, name: string): LeaseHolder | undefined {
  const current = db.prepare<[string], LeaseHolder>(SELECT_LEASE).get(name);
  return current && isHeld(current, Date.now()) ? current : undefined;
}

/**
 * A named lease in the database, so exactly one process per DATA_DIR runs the provisioner, the jobs and
 * the reconciler (two would each take the other's creates for crashed ones). Other processes serve
 * requests only and take over when the lease expires, or at once when its holder's pid is gone on this host.
 * Expiry is wall-clock time because processes compare it through the database (a monotonic clock is per
 * process), so a holder paused past the TTL, or whose clock stepped, can find the lease taken: a renewal
 * that returns false means another process leads now, and the caller must stop leading.
 */
export function createLease(db: Db, name: string, ttlMs: number) {
  const me: Omit<LeaseHolder, 'expiresAt'> = {
    holder: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    host: hostname(),
    pid: process.pid,
  };
  const select = db.prepare<[string], LeaseHolder>(SELECT_LEASE);
  const upsert = db.prepare(
    `INSERT INTO leases (name, holder, host, pid, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid,
     expires_at = excluded.expires_at`,
  );
  const remove = db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?');

  return {
    /** Takes or renews the lease; false while another live process holds it. */
    tryAcquire(): boolean {
      return db
        .transaction(() => {
          const current = select.get(name);
          const now = Date.now();
          const free = !current || current.holder === me.holder || !isHeld(current, now);
          if (free) upsert.run(name, me.holder, me.host, me.pid, now + ttlMs);
          return free;
        })
        .immediate();
    },
    current: (): LeaseHolder | undefined => select.get(name),
    release(): void {
      remove.run(name, me.holder);
    },
  };
}
