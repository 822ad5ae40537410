import type { LifecycleSweeps } from '../../core/lifecycle-sweeps.js';
import type { Job } from './register-jobs.js';

/** DMs owners whose sandbox expires within SANDBOX_WARN_BEFORE (the Slack notifier renders the DM). */
export const warnExpiringJob = (sweeps: LifecycleSweeps): Job => ({
  name: 'warn-expiring',
  run: () => sweeps.warnExpiring(),
});
