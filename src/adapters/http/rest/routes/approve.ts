import { Forbidden } from '../../../../core/errors.js';
import type { Actor } from '../../../../core/policy.js';
import type { Sandbox } from '../../../../core/sandbox.js';
import type { RestContracts } from '../contracts.js';
import { parseOrThrow } from '../http-errors.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/**
 * POST /approve?approval_id=…&approver=…: with tokens the token is the approver and `approver` is only
 * recorded; without tokens (loopback only) `approver` names who decides, as `api:<approver>`, and the core
 * refuses it when that is who asked.
 */
export function approve({ service, localMode }: RestDeps, contract: RestContracts['approve']): RestHandler {
  return ({ req, actor }) => {
    const query = parseOrThrow(contract.query, req.query, 'query');
    const approver: Actor =
      localMode && query.approver ? { id: `api:${query.approver}`, isApprover: true, isAdmin: false } : actor;
    let sandbox: Sandbox;
    try {
      sandbox = service.approve(
        approver,
        query.approval_id,
        query.approver ? { via: 'api', approverParam: query.approver } : { via: 'api' },
      );
    } catch (error) {
      if (localMode && !query.approver && error instanceof Forbidden) {
        throw new Forbidden(
          `${error.message} Without API tokens every caller is api:local: name who approves with ?approver=<name> (not the requester).`,
        );
      }
      throw error;
    }
    return {
      status: 'APPROVED',
      sandbox_id: sandbox.id,
      approved_by: sandbox.decidedBy ?? approver.id,
      sandbox_status: sandbox.status,
    };
  };
}
