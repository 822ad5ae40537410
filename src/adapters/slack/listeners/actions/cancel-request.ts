import type { SlackDeps } from '../../slack-deps.js';
import { cancelRequest as cancel } from '../operations.js';
import { onClick } from './button-args.js';

/** "Cancel request" in App Home: withdraws a request that has no cluster yet. */
export const cancelRequest = (deps: SlackDeps) =>
  onClick(deps, 'cancel', async (actor, id) => cancel(deps, actor, id));
