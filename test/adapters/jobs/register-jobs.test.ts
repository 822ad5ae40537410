import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cron from 'node-cron';
import { registerJobs } from '../../../src/adapters/jobs/register-jobs.js';
import { createMetrics } from '../../../src/adapters/metrics/metrics.js';
import { recordingLogger, silentLogger, waitFor } from '../../helpers/core-fixture.js';

describe('Scheduled jobs', () => {
  it('when a job fails at every tick, then it is logged once and /metrics counts every failure apart from the runs that worked', async () => {
    const metrics = createMetrics(() => ({}) as never);
    const { logger, errors } = recordingLogger();
    const stop = registerJobs(
      '* * * * * *', // every second
      [
        { name: 'reap-expired', run: () => 3 },
        {
          name: 'warn-expiring',
          run: () => {
            throw new Error('SQLITE_IOERR: disk I/O error');
          },
        },
      ],
      logger,
      metrics.observeJob,
    );
    try {
      const count = (text: string, job: string, outcome: string) =>
        Number(
          new RegExp(
            `^sandbox_job_duration_seconds_count\\{job="${job}",outcome="${outcome}"\\} (\\d+)$`,
            'm',
          ).exec(text)?.[1] ?? 0,
        );
      const text = await waitFor(
        async () => {
          const t = await metrics.registry.metrics();
          return count(t, 'reap-expired', 'ok') > 0 && count(t, 'warn-expiring', 'failed') > 0
            ? t
            : undefined;
        },
        'both jobs to run',
        10_000,
      );
      assert.equal(count(text, 'reap-expired', 'failed'), 0);
      assert.equal(count(text, 'warn-expiring', 'ok'), 0);
      // The same failure at every tick is logged once; the metric counts each run.
      await waitFor(
        async () => count(await metrics.registry.metrics(), 'warn-expiring', 'failed') >= 3,
        'two more failed runs',
        10_000,
      );
      assert.deepEqual(errors, ['job failed']);
    } finally {
      await stop();
    }
  });

  it('when a process loses and regains the lease again and again, then node-cron keeps none of the stopped jobs', async () => {
    const before = cron.getTasks().size;
    for (let i = 0; i < 5; i++) {
      const stop = registerJobs('* * * * *', [{ name: 'reap-expired', run: () => 0 }], silentLogger);
      await stop();
    }
    assert.equal(cron.getTasks().size, before);
  });
});
