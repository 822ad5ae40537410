import type { Clock, ClusterInfo, ClusterRuntime, Logger } from './ports.js';
import type { Provisioner } from './provisioner.js';
import { repeatedFailures } from './repeated-failures.js';
import { LIVE_STATUSES, type Sandbox } from './sandbox.js';
import type { SandboxService } from './sandbox-service.js';

export interface ReconcilerDeps {
  service: SandboxService;
  runtime: ClusterRuntime;
  provisioner: Provisioner;
  clock: Clock;
  logger: Logger;
  clusterPrefix: string;
}

export interface ReconcileReport {
  adopted: string[];
  requeued: string[];
  failed: string[];
  orphansDeleted: string[];
  /** Clusters k3d no longer lists whose leftover network and volume were removed. */
  leftoversRemoved: string[];
  destroysResumed: string[];
  /** ACTIVE sandboxes whose kubeconfig was read again from k3d, having none stored. */
  kubeconfigsRestored: string[];
  /** ACTIVE sandboxes whose cluster is listed but stopped: no server or no load balancer runs, so no API. */
  stopped: string[];
}

const MINUTE = 60_000;
/** Creates a crash may interrupt before the sandbox is marked FAILED. */
const MAX_CREATE_ATTEMPTS = 3;

/**
 * Whether a cluster a crash left behind is the one the sandbox asked for, whole and running. k3d starts the
 * servers, then the agents, then the load balancer that publishes the API port; a create cut short between
 * them leaves nodes that never start, and a kubeconfig for that cluster would point at a port nobody serves.
 */
const isComplete = (c: ClusterInfo, s: Sandbox) =>
  c.serversCount === s.servers &&
  c.serversRunning === s.servers &&
  c.agentsCount === s.agents &&
  c.agentsRunning === s.agents &&
  c.loadBalancerRunning;

/**
 * Level-triggered reconciliation, like a Kubernetes controller: compares what should exist (the database)
 * with what does (`k3d cluster list`) and closes the gap. It acts only on clusters carrying the prefix,
 * and does nothing at all when the list cannot be read, since acting on a wrong picture would delete real work.
 */
export class Reconciler {
  /** Settles when the last pass asked for has ended: passes never overlap (see run). */
  private previous: Promise<unknown> = Promise.resolve();
  /** Why the last pass could not list leftovers, if it could not. */
  private leftoversProblem: string | undefined;
  /** Why each orphan still listed could not be deleted: the same failure is logged as an error once. */
  private readonly orphanFailures: ReturnType<typeof repeatedFailures>;
  /** Why each active sandbox's kubeconfig could not be read again: the same failure is logged as an error once. */
  private readonly kubeconfigFailures: ReturnType<typeof repeatedFailures>;
  /** Clusters with the prefix that the bot did not make, already told. */
  private foreignTold = new Set<string>();
  /** Destroys this process resumed and that have not finished: how often, and when to try again. */
  private readonly resumedDestroys = new Map<string, { times: number; nextAt: number }>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.orphanFailures = repeatedFailures(deps.logger);
    this.kubeconfigFailures = repeatedFailures(deps.logger);
  }

  /**
   * One pass, started after any pass in progress has finished (the start-up pass and the cron job may ask at
   * once). Two passes at a time would both take an interrupted create for their own and requeue it twice: the
   * second time, out from under the provisioner that had already claimed it again.
   */
  run(): Promise<ReconcileReport> {
    const pass = this.previous.then(() => this.pass());
    this.previous = pass.catch(() => {});
    return pass;
  }

  private async pass(): Promise<ReconcileReport> {
    const { service, runtime, provisioner, logger, clusterPrefix } = this.deps;
    const report: ReconcileReport = {
      adopted: [],
      requeued: [],
      failed: [],
      orphansDeleted: [],
      leftoversRemoved: [],
      destroysResumed: [],
      kubeconfigsRestored: [],
      stopped: [],
    };
    const listedAt = this.deps.clock.now();
    // A list that cannot be read rejects the pass before anything is changed: its caller logs and counts it.
    const clusters = await runtime.list();
    const existing = new Map(clusters.map((c) => [c.name, c]));
    const leftovers = await this.listLeftovers();

    // Rows are read after the list, so a cluster created meanwhile is never mistaken for an orphan.
    for (const sandbox of service.inStatus('CREATING')) {
      if (provisioner.isWorkingOn(sandbox.id)) continue;
      // One of that name the bot did not make is neither adopted nor deleted: the create, tried again, says so.
      const cluster = existing.get(sandbox.clusterName);
      await this.finishInterruptedCreate(sandbox, cluster?.ours ? cluster : undefined, report);
    }
    this.resumeDestroys(service.inStatus('DESTROYING'), report);
    const lacking: string[] = [];
    const active = service.inStatus('ACTIVE', 100_000);
    for (const sandbox of active) {
      const cluster = existing.get(sandbox.clusterName);
      // A sandbox that became ready after the list was taken is not in it yet, or is in it half-started.
      const listedReady = (sandbox.readyAt ?? 0) <= listedAt;
      if (!cluster && listedReady) {
        service.markFailed(sandbox.id, 'cluster disappeared: k3d no longer lists it');
        report.failed.push(sandbox.id);
        continue;
      }
      if (cluster && listedReady && (cluster.serversRunning === 0 || !cluster.loadBalancerRunning))
        report.stopped.push(sandbox.id);
      if (service.lacksKubeconfig(sandbox)) {
        lacking.push(sandbox.id);
        await this.restoreKubeconfig(sandbox, report);
      }
    }
    this.kubeconfigFailures.retain(lacking);
    // One just found lost is FAILED now: it neither runs again nor stays stopped.
    const lost = new Set(report.failed);
    this.tellStopped(
      active.filter((s) => !lost.has(s.id)),
      report.stopped,
    );

    const claimed = new Set(
      service
        .list({
          statuses: LIVE_STATUSES,
          limit: 100_000,
        })
        .map((s) => s.clusterName),
    );
    const unclaimed = clusters.filter((c) => c.name.startsWith(clusterPrefix) && !claimed.has(c.name));
    this.tellForeign(unclaimed.filter((c) => !c.ours).map((c) => c.name));
    const orphans = unclaimed.filter((c) => c.ours).map((c) => c.name);
    this.orphanFailures.retain(orphans);
    for (const name of orphans) {
      try {
        await runtime.delete(name);
        service.audit('system', 'orphan_deleted', null, { cluster: name });
        report.orphansDeleted.push(name);
        this.orphanFailures.succeeded(name, 'an orphan cluster that would not go is deleted', {
          cluster: name,
        });
      } catch (error) {
        // One that will not go (a container Docker cannot remove) fails at every pass, a minute apart.
        const what = 'deleting an orphan cluster failed; the reconciler retries';
        this.orphanFailures.failed(name, error, what, { cluster: name });
      }
    }
    for (const name of leftovers) {
      // A listed cluster is deleted above or is live; a live sandbox's create may be making its network now.
      if (!name.startsWith(clusterPrefix) || existing.has(name) || claimed.has(name)) continue;
      try {
        if (await runtime.removeLeftovers(name)) report.leftoversRemoved.push(name);
      } catch (error) {
        logger.error({ cluster: name, err: (error as Error).message }, 'removing leftovers failed');
      }
    }
    if (report.requeued.length > 0) provisioner.pump();
    return report;
  }

  /**
   * A cluster stopped by hand (`k3d cluster stop`) or that Docker did not start again stays listed, and the sandbox
   * ACTIVE, while its API does not answer: told once when seen (its owner too, through `Outages`), and again once
   * it runs.
   */
  private tellStopped(active: Sandbox[], stopped: string[]): void {
    const { logger, service } = this.deps;
    const changed = service.outages.clustersStopped(active, new Set(stopped));
    const fields = (s: Sandbox) => ({ sandbox: s.id, cluster: s.clusterName, owner: s.owner });
    for (const sandbox of changed.stopped) {
      logger.warn(
        fields(sandbox),
        `the cluster of an active sandbox is stopped, so its API does not answer; start it with \`k3d cluster start ${sandbox.clusterName}\`, or destroy the sandbox`,
      );
    }
    for (const sandbox of changed.running)
      logger.info(fields(sandbox), 'the cluster of an active sandbox runs again');
  }

  /**
   * A cluster made by hand (or by a bot version before the ownership label) is never deleted, even with the
   * prefix: it is told once, when first seen.
   */
  private tellForeign(names: string[]): void {
    for (const name of names) {
      if (this.foreignTold.has(name)) continue;
      this.deps.logger.warn(
        { cluster: name },
        'a cluster carries the bot’s prefix but was not created by the bot; it is left alone',
      );
    }
    this.foreignTold = new Set(names);
  }

  /**
   * Leftovers are listed with the clusters, before the rows are read, for the same reason as the clusters. A
   * failure (no docker CLI, say) is told once, and again only when its reason changes, not at every pass.
   */
  private async listLeftovers(): Promise<string[]> {
    try {
      const names = await this.deps.runtime.leftovers();
      this.leftoversProblem = undefined;
      return names;
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== this.leftoversProblem) {
        this.deps.logger.warn(
          { err: problem },
          'cannot list leftover networks and volumes; they are not cleaned up until this is fixed',
        );
      }
      this.leftoversProblem = problem;
      return [];
    }
  }

  /**
   * Resumes the destroys no one is running. One that keeps failing (Docker down) waits 1, 2, 4… up to 16 minutes
   * between resumes, so a long outage does not cost three k3d deletes and audit rows a minute per sandbox.
   */
  private resumeDestroys(destroying: Sandbox[], report: ReconcileReport): void {
    const { provisioner, clock } = this.deps;
    const now = clock.now();
    const ids = new Set(destroying.map((s) => s.id));
    for (const id of this.resumedDestroys.keys()) if (!ids.has(id)) this.resumedDestroys.delete(id);
    for (const sandbox of destroying) {
      const resumed = this.resumedDestroys.get(sandbox.id);
      if (provisioner.isWorkingOn(sandbox.id) || (resumed && now < resumed.nextAt)) continue;
      const times = (resumed?.times ?? 0) + 1;
      // A few seconds early still counts: the cron passes come a minute apart, give or take.
      const waitMs = Math.min(2 ** (times - 1), 16) * MINUTE - 5_000;
      this.resumedDestroys.set(sandbox.id, { times, nextAt: now + waitMs });
      provisioner.destroy(sandbox);
      report.destroysResumed.push(sandbox.id);
    }
  }

  /**
   * The stored kubeconfigs are cleared when the encryption key is lost (the start-up refusal says how), or to
   * change the key; the clusters still run, and k3d gives out their kubeconfig again. One that cannot be read
   * fails at every pass, a minute apart, for as long as the sandbox lives.
   */
  private async restoreKubeconfig(sandbox: Sandbox, report: ReconcileReport): Promise<void> {
    const { service, runtime } = this.deps;
    const fields = { sandbox: sandbox.id };
    try {
      const kubeconfig = await runtime.kubeconfig(sandbox.clusterName);
      if (service.restoreKubeconfig(sandbox.id, kubeconfig)) report.kubeconfigsRestored.push(sandbox.id);
      this.kubeconfigFailures.succeeded(
        sandbox.id,
        'the kubeconfig of an active sandbox is read again',
        fields,
      );
    } catch (error) {
      const what = 'reading the kubeconfig of an active sandbox again failed; the reconciler retries';
      // The message only, as before: never the whole error of a command whose output is a kubeconfig.
      this.kubeconfigFailures.failed(sandbox.id, (error as Error).message, what, fields);
    }
  }

  /** A CREATING row nobody works on: a crash cut its create short. Adopt the cluster, or retry, or give up. */
  private async finishInterruptedCreate(
    sandbox: Sandbox,
    cluster: ClusterInfo | undefined,
    report: ReconcileReport,
  ): Promise<void> {
    const { service, runtime, logger, clock } = this.deps;
    try {
      if (cluster && isComplete(cluster, sandbox)) {
        const kubeconfig = await runtime.kubeconfig(sandbox.clusterName);
        const since = clock.now() - (sandbox.creatingAt ?? clock.now());
        if (service.markReady(sandbox.id, kubeconfig, since, sandbox.createAttempts))
          report.adopted.push(sandbox.id);
        return;
      }
      if (cluster) await runtime.delete(sandbox.clusterName);
      if (sandbox.createAttempts < MAX_CREATE_ATTEMPTS) {
        if (
          service.requeue(
            sandbox.id,
            'its create was interrupted (the bot restarted)',
            sandbox.createAttempts,
          )
        )
          report.requeued.push(sandbox.id);
      } else {
        const why = `creation was interrupted ${sandbox.createAttempts} times; giving up`;
        if (service.markFailed(sandbox.id, why, null, sandbox.createAttempts)) report.failed.push(sandbox.id);
      }
    } catch (error) {
      logger.error(
        { sandbox: sandbox.id, err: (error as Error).message },
        'reconciling an interrupted create failed',
      );
    }
  }
}
