import { SandboxError } from './errors.js';
import { SYSTEM_ACTOR } from './policy.js';
import type { Clock, Logger, SandboxStore } from './ports.js';
import { formatDuration } from './sandbox.js';
import type { SandboxService } from './sandbox-service.js';

export interface SweepOptions {
  warnBeforeMs: number;
  approvalTimeoutMs: number;
  /** Rows handled per sweep; the rest wait for the next one. */
  batchSize?: number;
}

export interface SweepDeps {
  service: SandboxService;
  store: SandboxStore;
  clock: Clock;
  logger: Logger;
  options: SweepOptions;
}

/**
 * The time-driven transitions. Each sweep reads only the rows that are due, through a partial index,
 * so its cost follows what is due and not the size of the table. A failure on one row is logged and the
 * sweep carries on with the next.
 */
export class LifecycleSweeps {
  private readonly batchSize: number;

  constructor(private readonly deps: SweepDeps) {
    this.batchSize = deps.options.batchSize ?? 500;
  }

  /** Warns the owners of sandboxes that expire within SANDBOX_WARN_BEFORE, once per expiry time. */
  warnExpiring(): number {
    const { store, service, clock, options } = this.deps;
    const due = store.unwarnedExpiringBy(clock.now() + options.warnBeforeMs, this.batchSize);
    return this.each(due, (s) => service.warnExpiring(s.id) !== undefined);
  }

  /** Starts destroying every ACTIVE sandbox whose time is up. */
  reapExpired(): number {
    const { store, service, clock } = this.deps;
    return this.each(
      store.activeExpiringBy(clock.now(), this.batchSize),
      (s) => service.expire(s.id) !== undefined,
    );
  }

  /** Cancels requests nobody decided within SANDBOX_APPROVAL_TIMEOUT. */
  expireStaleRequests(): number {
    const { store, service, clock, options } = this.deps;
    const stale = store.pendingRequestedBefore(clock.now() - options.approvalTimeoutMs, this.batchSize);
    const note = `nobody approved it within ${formatDuration(options.approvalTimeoutMs)}`;
    return this.each(stale, (s) => service.cancel(SYSTEM_ACTOR, s.id, note).status === 'CANCELLED');
  }

  private each<T extends { id: string }>(rows: T[], act: (row: T) => boolean): number {
    let done = 0;
    for (const row of rows) {
      try {
        if (act(row)) done++;
      } catch (error) {
        // A lost race (someone acted first) is normal; anything else is worth a log line.
        if (!(error instanceof SandboxError))
          this.deps.logger.error({ err: error, sandbox: row.id }, 'sweep step failed');
      }
    }
    return done;
  }
}
