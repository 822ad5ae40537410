import type { Reconciler } from '../../core/reconciler.js';
import type { Job } from './register-jobs.js';

/** Compares the database with `k3d cluster list` and closes the gap. */
export const reconcileJob = (reconciler: Reconciler): Job => ({
  name: 'reconcile',
  run: () => reconciler.run(),
});
