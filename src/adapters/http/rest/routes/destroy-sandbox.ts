import type { RestContracts } from '../contracts.js';
import { HttpError, parseOrThrow } from '../http-errors.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/**
 * POST /destroy_sandbox with sandbox_id in the query or a JSON body. An ACTIVE sandbox goes DESTROYING; a
 * request without a cluster yet is CANCELLED. The answer carries the state the core put it in.
 */
export function destroySandbox(
  { service }: RestDeps,
  contract: RestContracts['destroySandbox'],
): RestHandler {
  return ({ req, actor }) => {
    const fromQuery = parseOrThrow(contract.query, req.query, 'query').sandbox_id;
    const fromBody = parseOrThrow(contract.body, req.body ?? {}, 'request body').sandbox_id;
    if (fromQuery && fromBody && fromQuery !== fromBody) {
      throw new HttpError(422, 'sandbox_id differs between the query and the body; send it once.');
    }
    const id = fromQuery ?? fromBody;
    if (!id) {
      throw new HttpError(
        422,
        'sandbox_id is required: send it in the query (?sandbox_id=sb-…) or as JSON {"sandbox_id": "sb-…"}.',
      );
    }
    const sandbox = service.destroy(actor, id, `destroyed by ${actor.id} through the API`);
    return { sandbox_id: sandbox.id, status: sandbox.status };
  };
}
