import type { LifecycleSweeps } from '../../core/lifecycle-sweeps.js';
import type { Job } from './register-jobs.js';

/** Destroys sandboxes whose time-to-live has run out. */
export const reapExpiredJob = (sweeps: LifecycleSweeps): Job => ({
  name: 'reap-expired',
  run: () => sweeps.reapExpired(),
});
