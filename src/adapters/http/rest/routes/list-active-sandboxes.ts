import { sandboxView } from '../../../../core/api-view.js';
import { LIVE_STATUSES } from '../../../../core/sandbox.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/** GET /list_active_sandboxes: the unfinished sandboxes the caller may see, newest first. */
export function listActiveSandboxes({ service, tests }: RestDeps): RestHandler {
  return ({ actor }) =>
    service
      .listVisible(actor, { statuses: LIVE_STATUSES, limit: 1000 })
      .map((sandbox) => sandboxView(sandbox, { service, tests }));
}
