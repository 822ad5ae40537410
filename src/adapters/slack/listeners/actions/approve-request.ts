import type { SlackDeps } from '../../slack-deps.js';
import { describeError, notice, replyToAction } from '../replies.js';
import { type ButtonArgs, sandboxIdOf } from './button-args.js';

/**
 * Approve, on the approval message or in App Home. The core refuses non-approvers and self-approval, and
 * its compare-and-set makes the second of two concurrent clicks lose; the loser is told who decided.
 * Success needs no answer: the notifier rewrites the message and App Home.
 */
export function approveRequest(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = deps.actors.resolve(body.user.id);
    deps.actors.refreshSoon();
    try {
      deps.service.approve(actor, sandboxIdOf(action));
    } catch (error) {
      const text = describeError(error, deps, { action: 'approve', user: actor.id });
      await replyToAction(deps, body, respond, notice(`:warning: ${text}`));
    }
  };
}
