import type { SandboxEvents } from './events.js';
import type { Clock } from './ports.js';
import type { Sandbox } from './sandbox.js';

/** Something outside the bot that holds a sandbox up now, in words for its owner, and since when. */
export interface Problem {
  summary: string;
  since: number;
}

/**
 * What the provisioner found wrong outside the bot, which the database does not say: the Docker daemon not
 * answering, so approved sandboxes wait in the queue. Each sandbox concerned is told once per outage (event
 * `waitingForDocker`), and status views read it here, without a k3d call. It lives in the process that
 * provisions; others know nothing of it.
 */
export class Outages {
  private dockerDownSince: number | undefined;
  /** Queued sandboxes told in this outage that they wait for Docker. */
  private toldWaiting = new Set<string>();

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

  /** What holds this sandbox up now, if anything the bot knows of. */
  problemOf(sandbox: Sandbox): Problem | undefined {
    if (sandbox.status === 'QUEUED' && this.dockerDownSince !== undefined) {
      return {
        summary: 'The Docker daemon does not answer, so it waits in the queue until it does',
        since: this.dockerDownSince,
      };
    }
    return undefined;
  }
}
