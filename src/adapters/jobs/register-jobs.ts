import cron from 'node-cron';
import type { Logger } from '../../core/ports.js';

export interface Job {
  name: string;
  run(): unknown;
}

/**
 * Schedules the lifecycle jobs with node-cron (`noOverlap`, so a slow run is never joined by the next one).
 * Returns a stop function that waits for running jobs to finish.
 */
export function registerJobs(schedule: string, jobs: Job[], logger: Logger): () => Promise<void> {
  const running = new Set<Promise<unknown>>();
  const tasks = jobs.map((job) =>
    cron.schedule(
      schedule,
      async () => {
        const started = performance.now();
        const run = (async () => job.run())();
        running.add(run);
        try {
          const result = await run;
          logger.debug(
            { job: job.name, ms: Math.round(performance.now() - started), result },
            'job finished',
          );
        } catch (error) {
          logger.error({ job: job.name, err: error }, 'job failed');
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
