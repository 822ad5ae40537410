import cron from 'node-cron';
import type { Logger } from '../../core/ports.js';

export interface Job {
  name: string;
  run(): unknown;
}

/** Told of every finished run: a run that throws is `failed`. */
export type JobObserver = (job: string, outcome: 'ok' | 'failed', durationMs: number) => void;

/**
 * Schedules the lifecycle jobs with node-cron (`noOverlap`, so a slow run is never joined by the next one).
 * A failure is logged as an error when it is new; the same failure again at each tick (k3d missing, a disk
 * full) only at debug level, until the job works again, which is logged too. `observe` counts every run.
 * Returns a stop function that waits for running jobs to finish.
 */
export function registerJobs(
  schedule: string,
  jobs: Job[],
  logger: Logger,
  observe: JobObserver = () => {},
): () => Promise<void> {
  const running = new Set<Promise<unknown>>();
  const failing = new Map<string, string>();
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
          if (failing.delete(job.name)) logger.info({ job: job.name }, 'job works again');
        } catch (error) {
          observe(job.name, 'failed', performance.now() - started);
          const message = error instanceof Error ? error.message : String(error);
          const again = failing.get(job.name) === message;
          failing.set(job.name, message);
          if (again) logger.debug({ job: job.name, err: message }, 'job failed again, the same way');
          else logger.error({ job: job.name, err: error }, 'job failed');
        } finally {
          running.delete(run);
        }
      },
      { name: job.name, noOverlap: true },
    ),
  );
  return async () => {
    await Promise.all(tasks.map((t) => t.stop()));
    await Promise.allSettled([...running]);
  };
}
