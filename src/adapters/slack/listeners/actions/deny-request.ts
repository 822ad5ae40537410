import { Conflict, NotFound } from '../../../../core/errors.js';
import { assertMayDecide } from '../../../../core/policy.js';
import { describeState } from '../../../../core/sandbox-service.js';
import { renderDenyModal } from '../../blocks/modals.js';
import type { SlackDeps } from '../../slack-deps.js';
import { onClick } from './button-args.js';

/**
 * Deny opens a modal asking for the reason; the denial itself happens when it is submitted. Someone who
 * could not deny (per the core's policy) or a request already decided is answered at once instead.
 */
export const denyRequest = (deps: SlackDeps) =>
  onClick(
    deps,
    'deny',
    async (actor, id, body) => {
      const sandbox = deps.service.get(id);
      if (!sandbox) throw new NotFound(`Sandbox ${id}`);
      assertMayDecide(actor, sandbox, deps.service.options, 'deny');
      if (sandbox.status !== 'PENDING_APPROVAL') {
        throw new Conflict(`Cannot deny ${sandbox.name}: it ${describeState(sandbox)}.`);
      }
      const view = renderDenyModal(sandbox, { sandboxId: sandbox.id });
      await deps.call('views.open', () => deps.client.views.open({ trigger_id: body.trigger_id, view }));
      return undefined;
    },
    { refusalIcon: ':warning:', decides: true },
  );
