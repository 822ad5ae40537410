import type { Logger } from './ports.js';
import type { Sandbox } from './sandbox.js';

/**
 * What happened to a sandbox. Emitted after the transaction that made it true has committed. `actor` names who
 * acted where the sandbox row does not (approvals and denials are in `decidedBy`).
 */
export type SandboxEvent =
  | { type: 'requested'; sandbox: Sandbox }
  | { type: 'approved'; sandbox: Sandbox; queuePosition: number }
  | { type: 'denied'; sandbox: Sandbox }
  | { type: 'cancelled'; sandbox: Sandbox; actor: string }
  | { type: 'creating'; sandbox: Sandbox }
  /** An approved sandbox waits in the queue because the Docker daemon does not answer: once per outage. */
  | { type: 'waitingForDocker'; sandbox: Sandbox }
  | { type: 'ready'; sandbox: Sandbox; durationMs: number }
  /** The reconciler found an ACTIVE sandbox's cluster stopped (its API does not answer), or running again. */
  | { type: 'clusterStopped'; sandbox: Sandbox }
  | { type: 'clusterRunning'; sandbox: Sandbox }
  | { type: 'failed'; sandbox: Sandbox; detail: string | null }
  | { type: 'extended'; sandbox: Sandbox; previousExpiresAt: number; actor: string }
  | { type: 'expiring'; sandbox: Sandbox }
  | { type: 'destroying'; sandbox: Sandbox; actor: string }
  | {
      type: 'destroyFailed';
      sandbox: Sandbox;
      attempt: number;
      error: string;
      /** The provisioner's last attempt in a row: the delete now waits for the reconciler to resume it. */
      lastAttempt: boolean;
    }
  | { type: 'destroyed'; sandbox: Sandbox }
  | { type: 'testFinished'; sandbox: Sandbox; result: TestResultSummary; actor: string };

/** The part of a smoke-test result other components need; the full result lives with the smoke adapter. */
export interface TestResultSummary {
  suite: string;
  passed: boolean;
  steps: { name: string; passed: boolean; durationMs: number; detail?: string }[];
  startedAt: number;
  finishedAt: number;
}

export type SandboxEventListener = (event: SandboxEvent) => void | Promise<void>;

/**
 * A tiny typed event bus. Listeners run after the emitting call returns and never affect it: a failing
 * notifier must not undo or block a state change, so errors are logged and swallowed here.
 */
export class SandboxEvents {
  private readonly listeners = new Set<SandboxEventListener>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  on(listener: SandboxEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: SandboxEvent): void {
    for (const listener of this.listeners) {
      const run = (async () => listener(event))().catch((error: unknown) => {
        this.logger.error(
          { err: error, event: event.type, sandbox: event.sandbox.id },
          'event listener failed',
        );
      });
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  /** Resolves when every listener started so far has finished (used at shutdown and by tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
