import type { Clock } from './ports.js';
import { formatDuration } from './sandbox.js';
import type { SandboxService } from './sandbox-service.js';

export interface SweepOptions {
  warnBeforeMs: number;
  approvalTimeoutMs: number;
  /** Rows handled per sweep at most; the rest wait for the next one. */
  batchSize?: number;
}

/** The time-driven transitions: turns the configured durations into the cut-offs the service sweeps by. */
export class LifecycleSweeps {
  private readonly batchSize: number;

  constructor(private readonly deps: { service: SandboxService; clock: Clock; options: SweepOptions }) {
    this.batchSize = deps.options.batchSize ?? 1000;
  }

  /** Warns the owners of sandboxes that expire within SANDBOX_WARN_BEFORE. Returns how many were warned. */
  warnExpiring(): number {
    const { service, clock, options } = this.deps;
    return service.sweepExpiryWarnings(clock.now() + options.warnBeforeMs, this.batchSize).length;
  }

  /** Starts destroying every ACTIVE sandbox whose time is up. */
  reapExpired(): number {
    const { service, clock } = this.deps;
    return service.sweepExpired(clock.now(), this.batchSize).length;
  }

  /** Cancels requests nobody decided within SANDBOX_APPROVAL_TIMEOUT. */
  expireStaleRequests(): number {
    const { service, clock, options } = this.deps;
    const note = `nobody approved it within ${formatDuration(options.approvalTimeoutMs)}`;
    return service.sweepStaleRequests(clock.now() - options.approvalTimeoutMs, note, this.batchSize).length;
  }
}
