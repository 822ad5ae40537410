import type { SlackDeps } from '../../slack-deps.js';
import { destroySandbox as destroy } from '../operations.js';
import { describeError, notice, replyToAction } from '../replies.js';
import { type ButtonArgs, onEphemeral, sandboxIdOf } from './button-args.js';

/**
 * Destroy, from the `/sandbox destroy` confirmation, the expiry warning ("Destroy now") or App Home (each
 * behind a confirmation). The confirmation message is replaced by the outcome so it cannot be clicked twice.
 */
export function destroySandbox(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = deps.actors.resolve(body.user.id);
    const replaceOriginal = onEphemeral(body);
    try {
      await replyToAction(deps, body, respond, destroy(deps, actor, sandboxIdOf(action)), {
        replaceOriginal,
      });
    } catch (error) {
      const text = describeError(error, deps, { action: 'destroy', user: actor.id });
      await replyToAction(deps, body, respond, notice(`:information_source: ${text}`), { replaceOriginal });
    }
  };
}
