import { sandboxView } from '../../../../core/api-view.js';
import type { RestContracts } from '../contracts.js';
import { parseOrThrow } from '../http-errors.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/** GET /get_sandbox_status/{id}: the sandbox with its last test result. */
export function getSandboxStatus(
  { service, tests }: RestDeps,
  contract: RestContracts['getSandboxStatus'],
): RestHandler {
  return ({ req, actor }) => {
    const { id } = parseOrThrow(contract.params, req.params, 'path');
    const sandbox = service.view(actor, id);
    return sandboxView(sandbox, { service, tests });
  };
}
