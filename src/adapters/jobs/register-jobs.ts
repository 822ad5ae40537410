import cron from 'node-cron';
import type { Logger } from '../../core/ports.js';
import { repeatedFailures } from '../../core/repeated-failures.js';

export interface Job {
  name: string;
  run(): unknown;
}

/** Told of every finished run: a run that throws is `failed`. */
export type JobObserver = (job: string, outcome: 'ok' | 'failed', durationMs: number) => void;

/**
 * Schedules the lifecycle jobs with node-cron (`noOverlap`, so a slow run is never joined by the next one), in
 * UTC: read in a zone with summer time, a schedule runs once through the hour that zone repeats when summer time
 * ends, so every-minute sweeps would stop for that hour (node-cron's README, "Timezones & DST").
 * A failure is logged as `repeatedFailures` does (an error when new, then at debug level while it repeats);
 * `observe` counts every run.
 * Returns a stop function that waits for running jobs to finish.
 */
export function registerJobs(
  schedule: string,
  jobs: Job[],
  logger: Logger,
  observe: JobObserver = () => {},
): () => Promise<void> {
  const running = new Set<Promise<unknown>>();
  const failures = repeatedFailures(logger);
  const tasks = jobs.map((job) =>
    cron.schedule(
      schedule,
      async () => {
        const started = performance.now();
        const run = (async () => job.run())();
        running.add(run);
        try {
          const result = await run;
          const ms = performance.now() - started;
          observe(job.name, 'ok', ms);
          logger.debug({ job: job.name, ms: Math.round(ms), result }, 'job finished');
          failures.succeeded(job.name, 'job works again', { job: job.name });
        } catch (error) {
          observe(job.name, 'failed', performance.now() - started);
          failures.failed(job.name, error, 'job failed', { job: job.name });
        } finally {
          running.delete(run);
        }
      },
      { name: job.name, noOverlap: true, timezone: 'UTC' },
    ),
  );
  return async () => {
    await Promise.all(tasks.map((t) => t.stop()));
    await Promise.allSettled([...running]);
  };
}
