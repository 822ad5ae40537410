import { toSpecInput } from '../../../../core/api-view.js';
import type { RestContracts } from '../contracts.js';
import { parseOrThrow } from '../http-errors.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/** POST /create_sandbox: files a request for approval; the owner is the caller or the Slack user it names. */
export function createSandbox({ service }: RestDeps, contract: RestContracts['createSandbox']): RestHandler {
  return ({ req, actor }) => {
    const body = parseOrThrow(contract.body, req.body ?? {}, 'request body');
    const { spec, onBehalfOf } = toSpecInput(body);
    const sandbox = service.request(actor, spec, { via: 'api', ...(onBehalfOf ? { onBehalfOf } : {}) });
    return {
      sandbox_id: sandbox.id,
      approval_id: sandbox.approvalId,
      status: sandbox.status,
      name: sandbox.name,
      owner: sandbox.owner,
      requested_by: sandbox.requestedBy,
    };
  };
}
