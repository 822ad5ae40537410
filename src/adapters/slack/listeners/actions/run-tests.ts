import { NotFound } from '../../../../core/errors.js';
import type { SlackDeps } from '../../slack-deps.js';
import { startTests } from '../operations.js';
import { describeError, notice, replyToAction } from '../replies.js';
import { type ButtonArgs, sandboxIdOf } from './button-args.js';

/** "Test" in App Home: runs the default suite; the result goes to the request's thread. */
export function runTests(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = deps.actors.resolve(body.user.id);
    deps.actors.refreshSoon();
    try {
      const id = sandboxIdOf(action);
      const sandbox = deps.service.get(id);
      if (!sandbox) throw new NotFound(`Sandbox ${id}`);
      await replyToAction(deps, body, respond, startTests(deps, actor, sandbox, undefined));
    } catch (error) {
      const text = describeError(error, deps, { action: 'test', user: actor.id });
      await replyToAction(deps, body, respond, notice(`:information_source: ${text}`));
    }
  };
}
