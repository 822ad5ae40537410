import { renderTestResult } from '../../../../core/api-view.js';
import type { RestContracts } from '../contracts.js';
import { parseOrThrow } from '../http-errors.js';
import type { RestDeps, RestHandler } from '../rest-deps.js';

/** POST /run_test: runs the suite `test_id` (default smoke) and answers with its result once it has finished. */
export function runTest({ service, tests }: RestDeps, contract: RestContracts['runTest']): RestHandler {
  return async ({ req, actor }) => {
    const body = parseOrThrow(contract.body, req.body ?? {}, 'request body');
    const sandbox = service.view(actor, body.sandbox_id);
    return renderTestResult(sandbox.id, await tests.run(actor, sandbox.id, body.test_id));
  };
}
