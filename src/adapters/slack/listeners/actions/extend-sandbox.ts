import type { SlackDeps } from '../../slack-deps.js';
import { extendSandbox as extend } from '../operations.js';
import { onClick } from './button-args.js';

/**
 * Extend (by SANDBOX_EXTEND_BY, or what the lifetime cap leaves), from the expiry warning DM or App Home. At the
 * cap the core refuses with when it is reached; on a sandbox that is gone the answer says so politely.
 */
export const extendSandbox = (deps: SlackDeps) =>
  onClick(deps, 'extend', async (actor, id) => extend(deps, actor, id));
