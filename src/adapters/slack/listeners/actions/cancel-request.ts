import type { SlackDeps } from '../../slack-deps.js';
import { cancelRequest as cancel } from '../operations.js';
import { describeError, notice, replyToAction } from '../replies.js';
import { type ButtonArgs, sandboxIdOf } from './button-args.js';

/** "Cancel request" in App Home: withdraws a request that has no cluster yet. */
export function cancelRequest(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = deps.actors.resolve(body.user.id);
    try {
      await replyToAction(deps, body, respond, cancel(deps, actor, sandboxIdOf(action)));
    } catch (error) {
      const text = describeError(error, deps, { action: 'cancel', user: actor.id });
      await replyToAction(deps, body, respond, notice(`:information_source: ${text}`));
    }
  };
}
