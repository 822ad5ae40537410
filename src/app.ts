import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDatabase } from './adapters/db/open-database.js';
import { createSandboxStore } from './adapters/db/sandbox-store.js';
import { createHttpApp } from './adapters/http/create-http-app.js';
import { expireRequestsJob } from './adapters/jobs/expire-requests.js';
import { reapExpiredJob } from './adapters/jobs/reap-expired.js';
import { reconcileJob } from './adapters/jobs/reconcile.js';
import { registerJobs } from './adapters/jobs/register-jobs.js';
import { warnExpiringJob } from './adapters/jobs/warn-expiring.js';
import { createK3dRuntime } from './adapters/k3d/k3d-runtime.js';
import { createMetrics } from './adapters/metrics/metrics.js';
import { createVault, loadEncryptionKey } from './adapters/vault/vault.js';
import type { Config } from './config.js';
import { SandboxEvents } from './core/events.js';
import { LifecycleSweeps } from './core/lifecycle-sweeps.js';
import { type Clock, type ClusterRuntime, type Logger, type SmokeTester, systemClock } from './core/ports.js';
import { Provisioner } from './core/provisioner.js';
import { Reconciler } from './core/reconciler.js';
import { SandboxService } from './core/sandbox-service.js';
import { TestRuns } from './core/test-runs.js';
import { createCommandRunner } from './lib/command-runner.js';
import { createLogger } from './lib/logger.js';

/** What a test may swap for a fake; everything else is built from the config. */
export interface AppOverrides {
  clock?: Clock;
  runtime?: ClusterRuntime;
  smokeTester?: SmokeTester;
  logger?: Logger;
  /** Backoff between delete retries (tests shorten it). */
  destroyBackoffMs?: number;
}

/**
 * The composition root: builds the adapters, the core and the doors from the config. Nothing starts until
 * `start()`; `stop()` undoes it in reverse order and never throws.
 */
export function buildApp(config: Config, overrides: AppOverrides = {}) {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const db = openDatabase(config.databaseFile);
  const store = createSandboxStore(db, () => clock.now());
  const vault = createVault(loadEncryptionKey(config.dataDir, config.encryptionKey));
  const events = new SandboxEvents(logger);
  const metrics = createMetrics(() => store.countByStatus());
  metrics.subscribe(events);
  const commands = createCommandRunner((o) => metrics.observeCommand(o));

  const runtime =
    overrides.runtime ??
    createK3dRuntime({
      run: commands.run,
      bin: config.k3dBin,
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

  // TODO(issue 5): the kubectl smoke tester replaces this default.
  const smokeTester: SmokeTester = overrides.smokeTester ?? {
    suites: () => [],
    run: () => Promise.reject(new Error('smoke tests are not available yet')),
  };
  const tests = new TestRuns({ service, store, tester: smokeTester, events });

  const http = createHttpApp({
    registry: metrics.registry,
    isReady: () => {
      try {
        db.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
  });

  let server: Server | undefined;
  let stopJobs: (() => Promise<void>) | undefined;

  /** A missing k3d or kubectl is reported, not fatal: the bot still serves requests and approvals. */
  async function warnAboutMissingTools(): Promise<void> {
    const tools = [
      { bin: config.k3dBin, args: ['version'], variable: 'K3D_BIN', hint: 'https://k3d.io/#installation' },
      {
        bin: config.kubectlBin,
        args: ['version', '--client'],
        variable: 'KUBECTL_BIN',
        hint: 'https://kubernetes.io/docs/tasks/tools/',
      },
    ];
    await Promise.all(
      tools.map(async ({ bin, args, variable, hint }) => {
        try {
          await commands.run(bin, args, { timeoutMs: 10_000 });
        } catch (error) {
          logger.warn(
            { bin, err: (error as Error).message },
            `${bin} is not usable, so sandboxes cannot be created or tested until it is: install it (${hint}) or point ${variable} at it`,
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

    /** Starts the HTTP server and the provisioner; resolves with the bound port. */
    async start(): Promise<{ port: number }> {
      server = await new Promise<Server>((resolve, reject) => {
        const s = http.listen(config.port, config.host, () => resolve(s));
        s.once('error', reject);
      });
      provisioner.start();
      void reconciler.run();
      stopJobs = registerJobs(
        config.jobs.sweepSchedule,
        [
          warnExpiringJob(sweeps),
          reapExpiredJob(sweeps),
          expireRequestsJob(sweeps),
          reconcileJob(reconciler),
        ],
        logger,
      );
      void warnAboutMissingTools();
      const { port } = server.address() as AddressInfo;
      return { port };
    },

    /** Stops taking requests, lets running k3d commands finish within `graceMs`, closes the database. */
    async stop(graceMs = 30_000): Promise<void> {
      await stopJobs?.();
      stopJobs = undefined;
      if (server) {
        const s = server;
        server = undefined;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        await provisioner.stop(graceMs);
        s.closeAllConnections();
        await closed;
      } else {
        await provisioner.stop(graceMs);
      }
      await events.idle();
      await commands.idle(graceMs);
      db.close();
    },
  };
}

export type App = ReturnType<typeof buildApp>;
