import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Clock } from './ports.js';
import { formatDuration } from './sandbox.js';
import type { SandboxService } from './sandbox-service.js';

export interface SweepOptions {
  warnBeforeMs: number;
  approvalTimeoutMs: number;
  /** Rows changed per transaction (default 100); the sweep yields to the event loop between slices. */
  sliceSize?: number;
}

/**
 * The time-driven transitions: turns the configured durations into the cut-offs the service sweeps by.
 *
 * A sweep's cost is what is due: each slice takes the next due rows through a partial index, changes them
 * and writes their audit rows in one transaction. Slices keep a sweep that finds many rows due from holding
 * the event loop (and so Slack's acks) and the database's write lock for longer than one slice; the sweep
 * goes on until a slice comes back short. Warned sandboxes stay ACTIVE, so the warning sweep lists the rows
 * due once and warns them slice by slice instead.
 */
export class LifecycleSweeps {
  private readonly sliceSize: number;

  constructor(private readonly deps: { service: SandboxService; clock: Clock; options: SweepOptions }) {
    this.sliceSize = deps.options.sliceSize ?? 100;
  }

  /** Warns the owners of sandboxes that expire within SANDBOX_WARN_BEFORE. Resolves with how many were warned. */
  async warnExpiring(): Promise<number> {
    const { service, clock, options } = this.deps;
    const now = clock.now();
    const until = now + options.warnBeforeMs;
    const due = service.dueExpiryWarnings(now, until);
    let warned = 0;
    for (let from = 0; from < due.length; from += this.sliceSize) {
      if (from > 0) await yieldToEventLoop();
      warned += service.sweepExpiryWarnings(due.slice(from, from + this.sliceSize), now, until).length;
    }
    return warned;
  }

  /** Starts destroying every ACTIVE sandbox whose time is up. */
  reapExpired(): Promise<number> {
    const { service, clock } = this.deps;
    return this.inSlices((limit) => service.sweepExpired(clock.now(), limit));
  }

  /** Cancels requests nobody decided within SANDBOX_APPROVAL_TIMEOUT. */
  expireStaleRequests(): Promise<number> {
    const { service, clock, options } = this.deps;
    const note = `nobody approved it within ${formatDuration(options.approvalTimeoutMs)}`;
    return this.inSlices((limit) =>
      service.sweepStaleRequests(clock.now() - options.approvalTimeoutMs, note, limit),
    );
  }

  private async inSlices(slice: (limit: number) => readonly unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const changed = slice(this.sliceSize).length;
      total += changed;
      if (changed < this.sliceSize) return total;
      await yieldToEventLoop();
    }
  }
}
