import type { LifecycleSweeps } from '../../core/lifecycle-sweeps.js';
import type { Job } from './register-jobs.js';

/** Cancels requests that waited longer than SANDBOX_APPROVAL_TIMEOUT. */
export const expireRequestsJob = (sweeps: LifecycleSweeps): Job => ({
  name: 'expire-requests',
  run: () => sweeps.expireStaleRequests(),
});
