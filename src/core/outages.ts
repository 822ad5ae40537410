import type { SandboxEvents } from './events.js';
import type { Clock } from './ports.js';
import type { Sandbox } from './sandbox.js';

/** Something outside the bot that holds a sandbox up now, in words for its owner, and since when. */
export interface Problem {
  summary: string;
  since: number;
}

/**
 * What the provisioner and the reconciler found wrong outside the bot, which the database does not say: the
 * Docker daemon not answering (approved sandboxes wait in the queue) and active sandboxes whose cluster is
 * stopped. Each sandbox concerned is told once per outage (events `waitingForDocker`, `clusterStopped` and
 * `clusterRunning`), and status views read it here, without a k3d call. It lives in the process that provisions;
 * others know nothing of it.
 */
export class Outages {
  private dockerDownSince: number | undefined;
  /** Queued sandboxes told in this outage that they wait for Docker. */
  private toldWaiting = new Set<string>();
  /** Active sandboxes whose cluster the reconciler's last pass found stopped, and since when. */
  private stopped = new Map<string, number>();

  constructor(
    private readonly events: SandboxEvents,
    private readonly clock: Clock,
  ) {}

  get dockerIsDown(): boolean {
    return this.dockerDownSince !== undefined;
  }

  /** The Docker daemon did not answer a create. True when it answered until now. */
  dockerDown(): boolean {
    if (this.dockerDownSince !== undefined) return false;
    this.dockerDownSince = this.clock.now();
    return true;
  }

  /** Tells each of these queued sandboxes not told yet in this outage that it waits for Docker. */
  tellWaiting(queued: readonly Sandbox[]): void {
    for (const sandbox of queued) {
      if (this.toldWaiting.has(sandbox.id)) continue;
      this.toldWaiting.add(sandbox.id);
      this.events.emit({ type: 'waitingForDocker', sandbox });
    }
  }

  dockerAnswers(): void {
    this.dockerDownSince = undefined;
    this.toldWaiting.clear();
  }

  /** This process no longer provisions (shutdown, or the lease lost): what it knew goes stale, the leader's does not. */
  forget(): void {
    this.dockerAnswers();
    this.stopped.clear();
  }

  /**
   * The reconciler's view of the active sandboxes: those whose cluster is stopped now. Each one newly stopped
   * is told, and so is each one that runs again. Returns them, for the reconciler's log.
   */
  clustersStopped(
    active: readonly Sandbox[],
    stoppedIds: ReadonlySet<string>,
  ): { stopped: Sandbox[]; running: Sandbox[] } {
    const now = this.clock.now();
    const stopped = active.filter((s) => stoppedIds.has(s.id) && !this.stopped.has(s.id));
    const running = active.filter((s) => !stoppedIds.has(s.id) && this.stopped.has(s.id));
    this.stopped = new Map([...stoppedIds].map((id) => [id, this.stopped.get(id) ?? now]));
    for (const sandbox of stopped) this.events.emit({ type: 'clusterStopped', sandbox });
    for (const sandbox of running) this.events.emit({ type: 'clusterRunning', sandbox });
    return { stopped, running };
  }

  /** What holds this sandbox up now, if anything the bot knows of. */
  problemOf(sandbox: Sandbox): Problem | undefined {
    if (sandbox.status === 'QUEUED' && this.dockerDownSince !== undefined) {
      return {
        summary: 'The Docker daemon does not answer, so it waits in the queue until it does',
        since: this.dockerDownSince,
      };
    }
    const stoppedSince = this.stopped.get(sandbox.id);
    if (sandbox.status === 'ACTIVE' && stoppedSince !== undefined) {
      return { summary: 'Its cluster is stopped, so its API does not answer', since: stoppedSince };
    }
    return undefined;
  }
}
