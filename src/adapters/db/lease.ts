import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from './open-database.js';

export interface LeaseHolder {
  holder: string;
  host: string;
  pid: number;
  expiresAt: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A named lease in the database, so exactly one process per DATA_DIR runs the provisioner, the jobs and
 * the reconciler (two would each take the other's creates for crashed ones). Other processes serve
 * requests only and take over when the lease expires, or at once when its holder's pid is gone on this host.
 * Expiry is wall-clock time because processes compare it through the database (a monotonic clock is per
 * process), so a holder paused past the TTL, or whose clock stepped, can find the lease taken: a renewal
 * that returns false means another process leads now, and the caller must stop leading.
 */
export function createLease(db: Db, name: string, ttlMs: number, now: () => number = Date.now) {
  const me: Omit<LeaseHolder, 'expiresAt'> = {
    holder: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    host: hostname(),
    pid: process.pid,
  };
  const select = db.prepare<[string], LeaseHolder>(
    'SELECT holder, host, pid, expires_at AS expiresAt FROM leases WHERE name = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO leases (name, holder, host, pid, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid,
     expires_at = excluded.expires_at`,
  );
  const remove = db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?');

  return {
    holder: me.holder,
    /** Takes or renews the lease; false while another live process holds it. */
    tryAcquire(): boolean {
      return db
        .transaction(() => {
          const current = select.get(name);
          const free =
            !current ||
            current.holder === me.holder ||
            current.expiresAt <= now() ||
            (current.host === me.host && !isAlive(current.pid));
          if (free) upsert.run(name, me.holder, me.host, me.pid, now() + ttlMs);
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
