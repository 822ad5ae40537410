import type { SlackDeps } from '../../slack-deps.js';
import { extendSandbox as extend } from '../operations.js';
import { describeError, notice, replyToAction } from '../replies.js';
import { type ButtonArgs, sandboxIdOf } from './button-args.js';

/**
 * Extend (by SANDBOX_EXTEND_BY), from the expiry warning DM or App Home. Past the lifetime cap the core
 * refuses with the cap and when it is reached; on a sandbox that is gone the answer says so politely.
 */
export function extendSandbox(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = deps.actors.resolve(body.user.id);
    try {
      await replyToAction(deps, body, respond, extend(deps, actor, sandboxIdOf(action)));
    } catch (error) {
      const text = describeError(error, deps, { action: 'extend', user: actor.id });
      await replyToAction(deps, body, respond, notice(`:information_source: ${text}`));
    }
  };
}
