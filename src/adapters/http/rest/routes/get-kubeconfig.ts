import type { RestContracts } from '../contracts.js';
import { parseOrThrow } from '../http-errors.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/** GET /get_kubeconfig/{id}: the owner's or an admin's copy; the core audits the read, never the content. */
export function getKubeconfig({ service }: RestDeps, contract: RestContracts['getKubeconfig']): RestHandler {
  return ({ req, actor }) => {
    const { id } = parseOrThrow(contract.params, req.params, 'path');
    return { kubeconfig: service.kubeconfig(actor, id, 'rest') };
  };
}
