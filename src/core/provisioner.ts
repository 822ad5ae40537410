import type { SandboxEvents } from './events.js';
import { type Clock, ClusterError, type ClusterRuntime, type Logger } from './ports.js';
import type { Sandbox } from './sandbox.js';
import type { SandboxService } from './sandbox-service.js';

export interface ProvisionerOptions {
  /** Creates that may run at once. */
  concurrency: number;
  /** Delete attempts in a row before a destroy is left for the reconciler to retry. */
  destroyAttempts?: number;
  /** First backoff between delete attempts; doubles each time. */
  destroyBackoffMs?: number;
}

export interface ProvisionerDeps {
  service: SandboxService;
  runtime: ClusterRuntime;
  events: SandboxEvents;
  logger: Logger;
  options: ProvisionerOptions;
  clock: Clock;
}

/** How often a port clash sends a sandbox back to the queue before it fails. */
const MAX_CREATE_ATTEMPTS = 3;
/**
 * How long a port that k3d found taken by another process is first skipped when allocating; each clash again
 * doubles it, up to a day.
 */
const CLASHED_PORT_MS = 10 * 60_000;
const DAY_MS = 24 * 3_600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Works the durable queue: the rows in QUEUED, at most `concurrency` creates at a time, oldest approval first.
 * It is woken by `approved` and `destroying` events and resumes what the database says at start-up, so a
 * restart loses nothing. All state lives in the database; the sets here only stop one process doing a job twice.
 */
export class Provisioner {
  private readonly service: SandboxService;
  private readonly runtime: ClusterRuntime;
  private readonly events: SandboxEvents;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly destroyAttempts: number;
  private readonly destroyBackoffMs: number;
  private readonly clock: Clock;
  private readonly creating = new Set<string>();
  private readonly destroying = new Set<string>();
  private readonly work = new Set<Promise<void>>();
  /** Ports k3d found taken by something else: when they may be tried again, and how long they were skipped. */
  private readonly clashedPorts = new Map<number, { until: number; skippedMs: number }>();
  private running = false;
  private probing = false;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: ProvisionerDeps) {
    this.service = deps.service;
    this.runtime = deps.runtime;
    this.events = deps.events;
    this.logger = deps.logger;
    this.concurrency = deps.options.concurrency;
    this.destroyAttempts = deps.options.destroyAttempts ?? 3;
    this.destroyBackoffMs = deps.options.destroyBackoffMs ?? 2000;
    this.clock = deps.clock;
  }

  /** Starts listening and resumes queued creates and unfinished destroys. CREATING rows are the reconciler's. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.events.on((event) => {
      if (event.type === 'approved') this.pump();
      if (event.type === 'destroying') this.destroy(event.sandbox);
    });
    for (const sandbox of this.service.inStatus('DESTROYING')) this.destroy(sandbox);
    this.pump();
  }

  /** Stops taking new work and waits up to `graceMs` for running k3d commands to finish. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.service.outages.forget();
    this.unsubscribe?.();
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.work]), timer]);
  }

  /** Resolves when no create or destroy is running (tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** True while this process is creating or destroying the sandbox. */
  isWorkingOn(id: string): boolean {
    return this.creating.has(id) || this.destroying.has(id);
  }

  get activeCreates(): number {
    return this.creating.size;
  }

  /**
   * Claims queued sandboxes while there is a free slot. While Docker cannot be reached, nothing is claimed until a
   * `k3d cluster list` works (`probe`), and each queued sandbox (those approved meanwhile too) is told it waits.
   */
  pump(): void {
    // Stopped (shut down, or the lease lost): the process that provisions now tells the queue and works it.
    if (!this.running) return;
    const { outages } = this.service;
    if (outages.dockerIsDown) {
      outages.tellWaiting(this.service.inStatus('QUEUED'));
      this.probe();
      return;
    }
    while (this.creating.size < this.concurrency) {
      const sandbox = this.service.claimNextQueued(this.portsToAvoid());
      if (!sandbox) return;
      this.creating.add(sandbox.id);
      this.track(
        this.create(sandbox).finally(() => {
          this.creating.delete(sandbox.id);
          this.pump();
        }),
      );
    }
  }

  /** Deletes the cluster of a DESTROYING sandbox, retrying with backoff; the reconciler retries what is left. */
  destroy(sandbox: Sandbox): void {
    if (!this.running || this.destroying.has(sandbox.id)) return;
    this.destroying.add(sandbox.id);
    this.track(this.runDestroy(sandbox).finally(() => this.destroying.delete(sandbox.id)));
  }

  /**
   * Asks k3d whether Docker answers again (each pump while it does not: every few seconds), and then carries on
   * with the queue. A list is cheap, and fails at once while the daemon is down.
   */
  private probe(): void {
    if (this.probing) return;
    this.probing = true;
    this.track(
      this.runtime.list().then(
        () => {
          this.probing = false;
          this.service.outages.dockerAnswers();
          this.logger.info({}, 'the Docker daemon answers again; creating the queued sandboxes');
          this.pump();
        },
        () => {
          this.probing = false;
        },
      ),
    );
  }

  /** Clashed ports still skipped; a port whose holder may have let go is offered again. */
  private portsToAvoid(): ReadonlySet<number> {
    const now = this.clock.now();
    return new Set([...this.clashedPorts].filter(([, clash]) => clash.until > now).map(([port]) => port));
  }

  /** A holder that lets go soon gets its port back soon; one that keeps it is asked less and less often. */
  private portClashed(port: number): void {
    const before = this.clashedPorts.get(port);
    const skippedMs = before ? Math.min(before.skippedMs * 2, DAY_MS) : CLASHED_PORT_MS;
    this.clashedPorts.set(port, { until: this.clock.now() + skippedMs, skippedMs });
  }

  private track(promise: Promise<void>): void {
    const tracked = promise.catch((error: unknown) =>
      this.logger.error({ err: error }, 'provisioner work failed'),
    );
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  private async create(sandbox: Sandbox): Promise<void> {
    const started = performance.now();
    const log = { sandbox: sandbox.id, cluster: sandbox.clusterName };
    const attempt = sandbox.createAttempts;
    let kubeconfig: string;
    try {
      await this.runtime.create({
        clusterName: sandbox.clusterName,
        servers: sandbox.servers,
        agents: sandbox.agents,
        apiPort: sandbox.apiPort as number,
      });
      kubeconfig = await this.runtime.kubeconfig(sandbox.clusterName);
    } catch (error) {
      await this.createFailed(sandbox, error);
      return;
    }
    if (this.service.markReady(sandbox.id, kubeconfig, performance.now() - started, attempt)) {
      this.logger.info({ ...log, ms: Math.round(performance.now() - started) }, 'sandbox ready');
    } else {
      // Another process took this attempt over meanwhile (this one lost the lease): the cluster is its now.
      this.logger.warn(log, 'the sandbox moved on while its cluster was created; the cluster is left to it');
    }
  }

  private async createFailed(sandbox: Sandbox, error: unknown): Promise<void> {
    const log = { sandbox: sandbox.id, cluster: sandbox.clusterName };
    const attempt = sandbox.createAttempts;
    const clusterError =
      error instanceof ClusterError
        ? error
        : new ClusterError(error instanceof Error ? error.message : String(error), '');
    this.logger.warn({ ...log, err: clusterError.message, kind: clusterError.kind }, 'create failed');
    if (!this.service.isCreateAttempt(sandbox.id, attempt)) {
      // Whoever moved the row on (a process that took the lease over) also owns the cluster of that name.
      this.logger.warn(log, 'the sandbox moved on while its cluster was created; the cluster is left to it');
      return;
    }
    if (clusterError.kind === 'docker_down') {
      // A daemon restarting (or stopped) would otherwise fail the whole queue in seconds; k3d made nothing.
      this.service.requeue(sandbox.id, 'the Docker daemon could not be reached', attempt, true);
      if (this.running && this.service.outages.dockerDown()) {
        this.logger.warn(
          { err: clusterError.message },
          'the Docker daemon cannot be reached; approved sandboxes wait in the queue until it answers',
        );
      }
      return;
    }
    if (await this.isForeign(sandbox.clusterName)) {
      const why = `${clusterError.message}; that cluster was not created by the bot and is left alone: pick another name`;
      this.service.markFailed(sandbox.id, why, clusterError.detail, attempt);
      return;
    }
    const cleanupError = await this.deleteQuietly(sandbox.clusterName);
    // Whoever holds the port (a host process, most likely) may keep it a while: later creates skip it too.
    if (clusterError.kind === 'port_in_use' && sandbox.apiPort !== null) this.portClashed(sandbox.apiPort);
    if (clusterError.kind === 'port_in_use' && attempt < MAX_CREATE_ATTEMPTS && !cleanupError) {
      this.service.requeue(sandbox.id, `API port ${sandbox.apiPort} was taken by another process`, attempt);
      return;
    }
    // When k3d cannot be run at all (not installed, not executable), it made nothing to clean up either.
    const nothingMade = clusterError.kind === 'unavailable' && cleanupError?.kind === 'unavailable';
    const reason =
      cleanupError && !nothingMade
        ? `${clusterError.message} (cleaning up the partial cluster also failed)`
        : clusterError.message;
    this.service.markFailed(sandbox.id, reason, clusterError.detail, attempt);
  }

  /** Whether k3d lists a cluster of this name that the bot did not create (made by hand): never to be deleted. */
  private async isForeign(clusterName: string): Promise<boolean> {
    try {
      return (await this.runtime.list()).some((c) => c.name === clusterName && !c.ours);
    } catch {
      return false; // k3d cannot list (Docker down): the delete fails as well, and says so
    }
  }

  /** Deletes what a failed create left; returns why that failed, if it did. */
  private async deleteQuietly(clusterName: string): Promise<ClusterError | undefined> {
    try {
      await this.runtime.delete(clusterName);
      return undefined;
    } catch (error) {
      this.logger.error(
        { cluster: clusterName, err: (error as Error).message },
        'cleanup after a failed create failed',
      );
      return error instanceof ClusterError ? error : new ClusterError(String(error), '');
    }
  }

  private async runDestroy(sandbox: Sandbox): Promise<void> {
    for (let attempt = 1; attempt <= this.destroyAttempts; attempt++) {
      try {
        await this.runtime.delete(sandbox.clusterName);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.warn({ sandbox: sandbox.id, attempt, err: message }, 'delete failed');
        const lastAttempt = attempt === this.destroyAttempts || !this.running;
        this.service.recordDestroyFailure(sandbox.id, attempt, message, lastAttempt);
        if (!lastAttempt) await sleep(this.destroyBackoffMs * 2 ** (attempt - 1));
        if (!this.running) return;
        continue;
      }
      // The cluster is gone. A database that cannot record it now (locked, full) is not a failed delete: the row
      // stays DESTROYING and the reconciler, finding no cluster, finishes it.
      this.service.markDestroyed(sandbox.id);
      return;
    }
  }
}
