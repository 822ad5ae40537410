import type { SlackDeps } from '../../slack-deps.js';
import { destroySandbox as destroy } from '../operations.js';
import { onClick } from './button-args.js';

/**
 * Destroy, from the `/sandbox destroy` confirmation, the expiry warning ("Destroy now") or App Home (each
 * behind a confirmation). The confirmation message is replaced by the outcome so it cannot be clicked twice.
 */
export const destroySandbox = (deps: SlackDeps) =>
  onClick(deps, 'destroy', async (actor, id) => destroy(deps, actor, id), { replaceEphemeral: true });
