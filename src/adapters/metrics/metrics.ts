import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SandboxEvents } from '../../core/events.js';
import { SYSTEM_ACTOR } from '../../core/policy.js';
import type { SandboxStatus } from '../../core/sandbox.js';
import type { CommandObservation } from '../../lib/command-runner.js';

/** The project's metrics, on a registry of their own per app (never prom-client's global default). */
export function createMetrics(countByStatus: () => Record<SandboxStatus, number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'sandbox_requests_total',
    help: 'Sandbox requests by outcome (requested, approved, denied, cancelled, timed_out: nobody decided in time, ready, failed, destroyed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'sandboxes',
    help: 'Sandboxes by state, read from the database at scrape time',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(countByStatus())) this.set({ state }, n);
    },
  });
  const provisionDuration = new Histogram({
    name: 'sandbox_provision_duration_seconds',
    help: 'From the start of k3d cluster create to a stored kubeconfig',
    buckets: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
    registers: [registry],
  });
  const approvalWait = new Histogram({
    name: 'sandbox_approval_wait_seconds',
    help: 'From a request to its approval or denial',
    buckets: [10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600],
    registers: [registry],
  });
  const expirations = new Counter({
    name: 'sandbox_expirations_total',
    help: 'Sandboxes destroyed because their time-to-live ran out',
    registers: [registry],
  });
  const destroyFailures = new Counter({
    name: 'sandbox_destroy_failures_total',
    help: 'Failed cluster delete attempts (each is retried)',
    registers: [registry],
  });
  const leftoverCleanupFailures = new Counter({
    name: 'sandbox_leftover_cleanup_failures_total',
    help: 'Docker networks and volumes of deleted clusters that could not be removed (the reconciler retries), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const commandDuration = new Histogram({
    name: 'sandbox_command_duration_seconds',
    help: 'Duration of k3d, kubectl and docker commands by command and outcome',
    labelNames: ['bin', 'command', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const testRuns = new Counter({
    name: 'sandbox_test_runs_total',
    help: 'Finished smoke-test runs by suite and verdict (passed, failed)',
    labelNames: ['suite', 'verdict'] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'sandbox_job_duration_seconds',
    help: 'Runs of the scheduled jobs (warn-expiring, reap-expired, expire-requests, reconcile) by outcome (ok, failed)',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const slackErrors = new Counter({
    name: 'slack_api_errors_total',
    help: 'Slack Web API calls that failed, by method and error',
    labelNames: ['method', 'error'] as const,
    registers: [registry],
  });

  const leader = new Gauge({
    name: 'sandbox_provisioner_leader',
    help: '1 while this process holds the provisioner lease and so runs the queue, the jobs and the reconciler of its database; 0 while it serves requests only',
    registers: [registry],
  });

  const logMessages = new Counter({
    name: 'sandbox_log_messages_total',
    help: 'Warnings and errors the bot logged (a failure that repeats the same way is logged once): alert on errors',
    labelNames: ['level'] as const,
    registers: [registry],
  });

  const slackRequests = new Histogram({
    name: 'slack_request_duration_seconds',
    help: 'From a Slack request reaching /slack/events to its answer (the ack; Slack gives up after 3 s), by payload type and HTTP status',
    labelNames: ['type', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
    registers: [registry],
  });

  return {
    registry,
    slackErrors,
    slackRequests,
    leftoverCleanupFailures,
    leader,
    logMessages,
    observeJob(job: string, outcome: 'ok' | 'failed', durationMs: number) {
      jobDuration.observe({ job, outcome }, durationMs / 1000);
    },
    observeCommand(o: CommandObservation) {
      const bin = o.bin.split('/').pop() ?? o.bin;
      commandDuration.observe({ bin, command: o.command, outcome: o.outcome }, o.durationMs / 1000);
    },
    /** Counts what the core reports; metrics never read state the events do not carry. */
    subscribe(events: SandboxEvents) {
      return events.on((event) => {
        switch (event.type) {
          case 'cancelled':
            // The bot itself cancels only requests nobody decided within SANDBOX_APPROVAL_TIMEOUT.
            requests.inc({ outcome: event.actor === SYSTEM_ACTOR.id ? 'timed_out' : 'cancelled' });
            break;
          case 'requested':
          case 'failed':
          case 'destroyed':
            requests.inc({ outcome: event.type });
            if (event.type === 'destroyed' && event.sandbox.destroyReason === 'expired') expirations.inc();
            break;
          case 'approved':
          case 'denied':
            requests.inc({ outcome: event.type });
            if (event.sandbox.decidedAt !== null) {
              approvalWait.observe((event.sandbox.decidedAt - event.sandbox.requestedAt) / 1000);
            }
            break;
          case 'ready':
            requests.inc({ outcome: 'ready' });
            provisionDuration.observe(event.durationMs / 1000);
            break;
          case 'destroyFailed':
            destroyFailures.inc();
            break;
          case 'testFinished':
            testRuns.inc({ suite: event.result.suite, verdict: event.result.passed ? 'passed' : 'failed' });
            break;
          default:
            break;
        }
      });
    },
  };
}
