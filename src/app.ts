import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLease, PROVISIONER_LEASE } from './adapters/db/lease.js';
import { openDatabase } from './adapters/db/open-database.js';
import { createSandboxStore } from './adapters/db/sandbox-store.js';
import { startWalCheckpointer } from './adapters/db/wal-checkpointer.js';
import { createHttpApp, mountFallbacks } from './adapters/http/create-http-app.js';
import { mountApi } from './adapters/http/mount-api.js';
import { expireRequestsJob } from './adapters/jobs/expire-requests.js';
import { reapExpiredJob } from './adapters/jobs/reap-expired.js';
import { reconcileJob } from './adapters/jobs/reconcile.js';
import { registerJobs } from './adapters/jobs/register-jobs.js';
import { warnExpiringJob } from './adapters/jobs/warn-expiring.js';
import { createK3dRuntime } from './adapters/k3d/k3d-runtime.js';
import { createKubectlSmokeTester } from './adapters/kubectl/kubectl-smoke-tester.js';
import { createMcpServer } from './adapters/mcp/create-mcp-server.js';
import { createMcpHttpHandler } from './adapters/mcp/handle-mcp-http.js';
import { createMetrics } from './adapters/metrics/metrics.js';
import { createSlackApp, SLACK_EVENTS_PATH } from './adapters/slack/create-slack-app.js';
import { createVault, loadEncryptionKey } from './adapters/vault/vault.js';
import type { Config } from './config.js';
import { SandboxEvents } from './core/events.js';
import { LifecycleSweeps } from './core/lifecycle-sweeps.js';
import { type Actor, SYSTEM_ACTOR } from './core/policy.js';
import { type Clock, type ClusterRuntime, type Logger, type SmokeTester, systemClock } from './core/ports.js';
import { Provisioner } from './core/provisioner.js';
import { Reconciler } from './core/reconciler.js';
import { repeatedFailures } from './core/repeated-failures.js';
import { SandboxService } from './core/sandbox-service.js';
import { TestRuns } from './core/test-runs.js';
import { createCommandRunner } from './lib/command-runner.js';
import { countingLogger, createLogger } from './lib/logger.js';
import { StartupError } from './lib/startup-error.js';

const LEASE_TTL_MS = 15_000;
const LEASE_CHECK = 'the provisioner lease check';
const QUEUE_POLL_MS = 5_000;
const WAL_CHECKPOINT_MS = 1_000;

/** What a test may swap for a fake; everything else is built from the config. */
export interface AppOverrides {
  clock?: Clock;
  runtime?: ClusterRuntime;
  smokeTester?: SmokeTester;
  logger?: Logger;
  /** Backoff between delete retries (tests shorten it). */
  destroyBackoffMs?: number;
  /** How often the lease holder looks for work other processes left in the database (tests shorten it). */
  queuePollMs?: number;
  /** How often the WAL is checkpointed in the background (tests shorten it). */
  walCheckpointMs?: number;
  /** How long the provisioner lease lasts unless renewed; it is renewed every third of that (tests shorten it). */
  leaseTtlMs?: number;
}

/**
 * The composition root: builds the adapters, the core and the doors from the config. Nothing starts until
 * `start()`; `stop()` undoes it in reverse order and never throws.
 */
export function buildApp(config: Config, overrides: AppOverrides = {}) {
  // The store's counts are read at scrape time; the metrics come first so that every warning and error is counted.
  const metrics = createMetrics(() => store.countByStatus());
  const logger = countingLogger(overrides.logger ?? createLogger(config.logLevel), metrics.logMessages);
  const clock = overrides.clock ?? systemClock;
  const db = openDatabase(config.databaseFile);
  const store = createSandboxStore(db, () => clock.now());
  const vault = createVault(
    loadEncryptionKey(config.dataDir, config.encryptionKey, {
      sample: store.anyKubeconfig(),
      databaseFile: config.databaseFile,
    }),
  );
  const events = new SandboxEvents(logger);
  metrics.subscribe(events);
  const commands = createCommandRunner((o) => metrics.observeCommand(o));

  const runtime =
    overrides.runtime ??
    createK3dRuntime({
      run: commands.run,
      bin: config.k3dBin,
      dockerBin: config.dockerBin,
      logger,
      onLeftoverFailure: (kind) => metrics.leftoverCleanupFailures.inc({ kind }),
      prefix: config.sandbox.clusterPrefix,
      apiHost: config.sandbox.apiHost,
      createTimeoutMs: config.sandbox.createTimeoutMs,
    });
  const service = new SandboxService({ store, events, clock, vault, options: config.sandbox });
  const provisioner = new Provisioner({
    service,
    runtime,
    events,
    logger,
    clock,
    options: {
      concurrency: config.sandbox.provisionConcurrency,
      ...(overrides.destroyBackoffMs === undefined ? {} : { destroyBackoffMs: overrides.destroyBackoffMs }),
    },
  });

  const sweeps = new LifecycleSweeps({ service, clock, options: config.jobs });
  const reconciler = new Reconciler({
    service,
    runtime,
    provisioner,
    clock,
    logger,
    clusterPrefix: config.sandbox.clusterPrefix,
  });

  const smokeTester: SmokeTester & { stop?: () => void } =
    overrides.smokeTester ??
    createKubectlSmokeTester({
      run: commands.run,
      kubectlBin: config.kubectlBin,
      image: config.smoke.image,
      suitesDir: config.smoke.suitesDir,
      logger,
    });
  const tests = new TestRuns({ service, store, tester: smokeTester, events });
  let stopping = false;
  let stopped: Promise<void> | undefined;
  if (config.smoke.autoRun) {
    // The default suite runs once a sandbox is ACTIVE. Listeners run after the transition has committed and
    // cannot block or undo it; a refusal (say, a run already going) is only logged.
    events.on(async (event) => {
      if (event.type !== 'ready' || stopping) return;
      try {
        await tests.run(SYSTEM_ACTOR, event.sandbox.id, 'smoke');
      } catch (error) {
        logger.warn(
          { sandbox: event.sandbox.id, err: (error as Error).message },
          'the automatic smoke test did not run',
        );
      }
    });
  }

  const http = createHttpApp({
    registry: metrics.registry,
    notReady: () => {
      try {
        db.prepare('SELECT name FROM leases LIMIT 1').get();
      } catch (error) {
        return `it cannot be read: ${(error as Error).message}`;
      }
      // Every process takes the write lock at each lease check, and the holder writes its renewal.
      const writeError = tickFailures.failing(LEASE_CHECK);
      return writeError && `it cannot be written: ${writeError}`;
    },
  });

  // Slack (when configured, in HTTP mode) answers /slack/events itself, ahead of express: the ack path.
  const { botToken, approversChannel } = config.slack;
  const slack =
    botToken && approversChannel
      ? createSlackApp({
          settings: { ...config.slack, botToken, approversChannel },
          service,
          tests,
          events,
          clock,
          logger,
          slackErrors: metrics.slackErrors,
          slackRequests: metrics.slackRequests,
        })
      : undefined;

  /** An MCP server acting as `actor`: per request on POST /mcp, once for the stdio mode. */
  const mcpServerFor = (actor: Actor) =>
    createMcpServer({
      service,
      tests,
      actor,
      logger,
      approvalTimeoutMs: config.jobs.approvalTimeoutMs,
    });
  mountApi(http, {
    service,
    tests,
    logger,
    tokens: config.api.tokens,
    limits: config.sandbox,
    handleMcp: createMcpHttpHandler(mcpServerFor, logger),
  });
  // Last, after every route: JSON answers for unknown paths and for errors no route handled.
  mountFallbacks(http, logger);

  let server: Server | undefined;
  let stopJobs: (() => Promise<void>) | undefined;
  let checkpointer: ReturnType<typeof startWalCheckpointer> | undefined;
  let firstReconcile: Promise<unknown> = Promise.resolve();
  let leaseTimer: NodeJS.Timeout | undefined;
  let pumpTimer: NodeJS.Timeout | undefined;
  let posting: Promise<unknown> | undefined;
  let leading = false;
  /** The lease holder this process last said it defers to (said once per holder, not every renewal). */
  let followed: string | undefined;
  let leadershipEnded: Promise<unknown> = Promise.resolve();
  const leaseTtlMs = overrides.leaseTtlMs ?? LEASE_TTL_MS;
  const lease = createLease(db, PROVISIONER_LEASE, leaseTtlMs);

  /**
   * The provisioner, the jobs and the reconciler run in one process per database: the lease holder. Others
   * serve requests and take over when the holder is gone. Runs every third of the lease's time-to-live.
   */
  function leadIfFree(): void {
    if (lease.tryAcquire()) {
      if (!leading) lead();
    } else if (leading) {
      stepDown();
    } else {
      const holder = lease.current()?.holder;
      if (holder !== followed) {
        logger.info(
          { holder },
          'another process runs the provisioner for this database; serving requests only',
        );
      }
      followed = holder;
    }
  }

  /**
   * A timer's work, which must not end the process: an error (the database locked past its busy timeout by
   * another writer, say) is logged as `repeatedFailures` does, and the next tick tries again.
   */
  const tickFailures = repeatedFailures(logger);
  function eachTick(what: string, work: () => void): void {
    try {
      work();
      tickFailures.succeeded(what, `${what} works again`);
    } catch (error) {
      tickFailures.failed(what, error, `${what} failed; trying again at the next tick`);
    }
  }

  function lead(): void {
    leading = true;
    metrics.leader.set(1);
    followed = undefined;
    provisioner.start();
    // Finishes what a previous run left (interrupted creates, destroys, orphans) without delaying start-up.
    firstReconcile = reconciler
      .run()
      .catch((error: unknown) => logger.error({ err: error }, 'reconcile failed'));
    stopJobs = registerJobs(
      config.jobs.sweepSchedule,
      [warnExpiringJob(sweeps), reapExpiredJob(sweeps), expireRequestsJob(sweeps), reconcileJob(reconciler)],
      logger,
      metrics.observeJob,
    );
    // Approvals made by other processes (a second bot, the MCP stdio server) reach the queue as rows only.
    // Requests filed there (the MCP stdio server) get their approval message here, and Slack calls that
    // failed (an approval message, its rewrite once decided, a kubeconfig DM) are tried again.
    pumpTimer = setInterval(
      () =>
        eachTick('the queue and Slack retry pump', () => {
          provisioner.pump();
          if (slack && !posting) {
            posting = Promise.all([
              slack.notifier.postMissingApprovalRequests(),
              slack.notifier.rewriteFailedApprovals(),
              slack.notifier.deliverMissingKubeconfigs(),
            ])
              .catch((error: unknown) => logger.error({ err: error }, 'retrying Slack posts failed'))
              .finally(() => {
                posting = undefined;
              });
          }
        }),
      overrides.queuePollMs ?? QUEUE_POLL_MS,
    );
    pumpTimer.unref();
  }

  /**
   * Another process took the lease because this one did not renew it in time (it was paused, or the wall
   * clock jumped): two leaders would take each other's creates for crashed ones, so this one stops leading.
   * Creates and deletes already running finish and record their outcome; anything they leave is a row the
   * new leader's reconciler resumes. The lease is still sought, so this process can lead again later.
   */
  function stepDown(): void {
    leading = false;
    metrics.leader.set(0);
    logger.warn(
      { holder: lease.current()?.holder, leaseTtlMs },
      'lost the provisioner lease to another process (it was not renewed in time); stopped provisioning, jobs and reconciling here, serving requests only',
    );
    clearInterval(pumpTimer);
    leadershipEnded = Promise.allSettled([stopJobs?.(), provisioner.stop(0)]);
    stopJobs = undefined;
  }

  /** A missing k3d or kubectl is reported, not fatal: the bot still serves requests and approvals. */
  async function warnAboutMissingTools(): Promise<void> {
    const unusable = 'sandboxes cannot be created or tested';
    const tools = [
      {
        bin: config.k3dBin,
        args: ['version'],
        variable: 'K3D_BIN',
        hint: 'https://k3d.io/#installation',
        unusable,
      },
      {
        bin: config.kubectlBin,
        args: ['version', '--client', '-o', 'json'],
        variable: 'KUBECTL_BIN',
        hint: 'https://kubernetes.io/docs/tasks/tools/',
        unusable,
      },
      {
        bin: config.dockerBin,
        args: ['--version'],
        variable: 'DOCKER_BIN',
        hint: 'https://docs.docker.com/engine/install/',
        unusable: 'the Docker networks and volumes k3d leaves behind are not removed',
      },
    ];
    await Promise.all(
      tools.map(async ({ bin, args, variable, hint, unusable }) => {
        try {
          await commands.run(bin, args, { timeoutMs: 10_000 });
        } catch (error) {
          logger.warn(
            { bin, err: (error as Error).message },
            `${bin} is not usable, so ${unusable} until it is: install it (${hint}) or point ${variable} at it`,
          );
        }
      }),
    );
  }

  return {
    config,
    logger,
    db,
    store,
    service,
    events,
    metrics,
    provisioner,
    runtime,
    tests,
    sweeps,
    reconciler,
    http,
    mcpServerFor,
    slack,

    /** Starts the HTTP server and the provisioner; resolves with the bound port. */
    async start(): Promise<{ port: number }> {
      server = await new Promise<Server>((resolve, reject) => {
        const receiver = slack?.receiver;
        const s = createServer((req, res) => {
          const url = req.url ?? '';
          if (receiver && (url === SLACK_EVENTS_PATH || url.startsWith(`${SLACK_EVENTS_PATH}?`)))
            receiver.handle(req, res);
          else http(req, res);
        });
        s.listen(config.port, config.host, () => resolve(s));
        s.once('error', (error: NodeJS.ErrnoException) =>
          reject(listenError(error, config.host, config.port)),
        );
      });
      checkpointer = startWalCheckpointer(db, {
        intervalMs: overrides.walCheckpointMs ?? WAL_CHECKPOINT_MS,
        logger,
      });
      // Another writer holding the database (a sqlite3 shell) must not stop the start: the next tick tries again.
      eachTick(LEASE_CHECK, leadIfFree);
      leaseTimer = setInterval(() => eachTick(LEASE_CHECK, leadIfFree), leaseTtlMs / 3);
      leaseTimer.unref();
      // auth.test and the approver group; a Slack failure is logged and retried, never fatal.
      await slack?.start();
      void warnAboutMissingTools();
      const { port } = server.address() as AddressInfo;
      return { port };
    },

    /**
     * Stops taking requests, lets running k3d commands finish within `graceMs`, closes the database. A second
     * call (a second SIGTERM) waits for the first.
     */
    stop(graceMs = 30_000): Promise<void> {
      stopped ??= (async () => {
        // Test runs wind down (their temporary namespaces still deleted) rather than run to the end.
        stopping = true;
        smokeTester.stop?.();
        clearInterval(leaseTimer);
        clearInterval(pumpTimer);
        // 1. Stop taking requests (requests in flight still get their answer).
        const s = server;
        server = undefined;
        const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
        s?.closeIdleConnections();
        // 2. Let what is running finish, all within one grace period; the reconciler resumes the rest at the next start.
        const deadlineAt = Date.now() + graceMs;
        const left = () => Math.max(0, deadlineAt - Date.now());
        const timeUp = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([
          (async () => {
            await Promise.allSettled([
              posting,
              stopJobs?.(),
              leadershipEnded,
              firstReconcile,
              provisioner.stop(left()),
            ]);
            // Slack listeners still working after their ack, and the notifications of the work above.
            await slack?.stop(left());
            await events.idle();
            await tests.idle();
            await commands.idle(left());
          })(),
          timeUp,
        ]);
        stopJobs = undefined;
        s?.closeAllConnections();
        await closed;
        try {
          if (leading) lease.release();
        } catch (error) {
          // The database is locked or failing: the lease then runs out by itself, and another process takes over.
          logger.warn({ err: error }, 'could not release the provisioner lease; it expires by itself');
        }
        await checkpointer?.stop();
        db.close();
      })();
      return stopped;
    },
  };
}

export type App = ReturnType<typeof buildApp>;

/** Why the HTTP server could not bind, and which variable fixes it. */
const LISTEN_HINTS: Record<string, string> = {
  EADDRINUSE:
    'the address is in use (another k3d-sandbox-bot serve?); stop that process or set PORT to a free port',
  EACCES: 'permission denied (ports below 1024 need privileges); set PORT to 1024 or above',
  EADDRNOTAVAIL: 'HOST is not an address of this machine; set HOST, e.g. 127.0.0.1 or 0.0.0.0',
  ENOTFOUND: 'HOST is not a known host name; set HOST, e.g. 127.0.0.1 or 0.0.0.0',
};

function listenError(error: NodeJS.ErrnoException, host: string, port: number): StartupError {
  const why = LISTEN_HINTS[error.code ?? ''] ?? `${error.message}; check PORT and HOST`;
  return new StartupError(`Cannot listen on ${host}:${port}: ${why}`);
}
