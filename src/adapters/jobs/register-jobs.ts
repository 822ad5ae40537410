import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../core/ports.js';
import { repeatedFailures } from '../../core/repeated-failures.js';

export interface Job {
  name: string;
  run(): unknown;
}

/** How far the wall clock may step back, against the monotonic clock, before the tasks are re-armed. */
const STEP_BACK_MS = 1000;

/**
 * node-cron's own messages go to the bot's JSON log, not to the console. Its warnings are at debug level: the one
 * not suppressed below, a run skipped because the last one is still going, is what `noOverlap` asks for.
 */
const cronLogger = (logger: Logger, job: string) => ({
  debug: (message: string | Error) => logger.debug({ job }, String(message)),
  info: (message: string) => logger.debug({ job }, message),
  warn: (message: string) => logger.debug({ job }, message),
  error: (message: string | Error, err?: Error) =>
    logger.error({ job, err: err ?? message }, typeof message === 'string' ? message : 'node-cron failed'),
});

/** Told of every finished run: a run that throws is `failed`. */
export type JobObserver = (job: string, outcome: 'ok' | 'failed', durationMs: number) => void;

/**
 * Schedules the lifecycle jobs with node-cron (`noOverlap`, so a slow run is never joined by the next one), in
 * UTC: read in a zone with summer time, a schedule runs once through the hour that zone repeats when summer time
 * ends, so every-minute sweeps would stop for that hour (node-cron's README, "Timezones & DST").
 * A failure is logged as `repeatedFailures` does (an error when new, then at debug level while it repeats);
 * `observe` counts every run.
 * node-cron arms a timer for the next run's wall-clock time and, woken before that time, waits for it again: after
 * the wall clock steps back (an NTP correction), no job would run until the clock is back where it was. A check
 * each second re-arms the tasks from the new time (each once it is not running, so runs still never overlap).
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
      {
        name: job.name,
        noOverlap: true,
        timezone: 'UTC',
        // The runs a suspended process or a clock jumping ahead skipped: the next run does their work. node-cron
        // would print a warning for each, outside the JSON log (3,600 a job after an hour at one a second).
        suppressMissedWarning: true,
        logger: cronLogger(logger, job.name),
      },
    ),
  );
  const toRearm = new Set<ScheduledTask>();
  let wallAhead = Date.now() - performance.now();
  const stepWatch = setInterval(() => {
    const ahead = Date.now() - performance.now();
    if (ahead < wallAhead - STEP_BACK_MS) for (const task of tasks) toRearm.add(task);
    wallAhead = ahead;
    for (const task of toRearm) {
      if (task.isBusy()) continue;
      task.stop();
      task.start();
      toRearm.delete(task);
    }
  }, 1000);
  stepWatch.unref();
  return async () => {
    clearInterval(stepWatch);
    // Destroyed, not only stopped: node-cron keeps every task in a registry of its own until then, and a process
    // that loses and regains the lease schedules the jobs anew.
    await Promise.all(tasks.map((t) => t.destroy()));
    await Promise.allSettled([...running]);
  };
}
