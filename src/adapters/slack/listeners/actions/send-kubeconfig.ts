import type { SlackDeps } from '../../slack-deps.js';
import { sendKubeconfig as send } from '../operations.js';
import { describeError, notice, replyToAction } from '../replies.js';
import { type ButtonArgs, sandboxIdOf } from './button-args.js';

/** "Kubeconfig" in App Home: the file goes to the clicker's DMs (the core checks they may have it). */
export function sendKubeconfig(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = deps.actors.resolve(body.user.id);
    try {
      await replyToAction(deps, body, respond, await send(deps, actor, sandboxIdOf(action)));
    } catch (error) {
      const text = describeError(error, deps, { action: 'kubeconfig', user: actor.id });
      await replyToAction(deps, body, respond, notice(`:information_source: ${text}`));
    }
  };
}
