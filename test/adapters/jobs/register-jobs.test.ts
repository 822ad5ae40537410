import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerJobs } from '../../../src/adapters/jobs/register-jobs.js';
import { createMetrics } from '../../../src/adapters/metrics/metrics.js';
import { recordingLogger, waitFor } from '../../helpers/core-fixture.js';

describe('Scheduled jobs', () => {
  it('when a job fails, then it is logged and /metrics counts it apart from the runs that worked, so an operator can alert on it', async () => {
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
      const text = await waitFor(async () => {
        const t = await metrics.registry.metrics();
        return count(t, 'reap-expired', 'ok') > 0 && count(t, 'warn-expiring', 'failed') > 0 ? t : undefined;
      }, 'both jobs to run');
      assert.equal(count(text, 'reap-expired', 'failed'), 0);
      assert.equal(count(text, 'warn-expiring', 'ok'), 0);
      assert.ok(errors.includes('job failed'));
    } finally {
      await stop();
    }
  });
});
