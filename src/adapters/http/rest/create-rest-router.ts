import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { SandboxLimits } from '../../../core/sandbox.js';
import { type ApiAuth, actorOf } from '../api-auth.js';
import { type RouteContract, restContracts } from './contracts.js';
import { sendError, sendFailure } from './http-errors.js';
import type { RestDeps, RestHandler } from './rest-deps.js';
import { approve } from './routes/approve.js';
import { createSandbox } from './routes/create-sandbox.js';
import { destroySandbox } from './routes/destroy-sandbox.js';
import { getKubeconfig } from './routes/get-kubeconfig.js';
import { getSandboxStatus } from './routes/get-sandbox-status.js';
import { listActiveSandboxes } from './routes/list-active-sandboxes.js';
import { mcpManifest } from './routes/mcp-manifest.js';
import { runTest } from './routes/run-test.js';

const parseJson = express.json({ limit: '16kb', type: ['application/json', 'application/*+json'] });

/**
 * A JSON body parser for one route. Parser errors are answered here with a `detail` (never passed on to an
 * app-wide error handler), and a body that is not JSON is refused instead of silently read as empty.
 */
function jsonBody(req: Request, res: Response, next: NextFunction): void {
  parseJson(req, res, (error?: unknown) => {
    if (error) {
      const { status = 400, message = 'unreadable body' } = error as { status?: number; message?: string };
      sendError(
        res,
        status,
        status === 413
          ? 'The request body is too large: the limit is 16 kB.'
          : `The request body is not valid JSON (${message}); send a JSON object with Content-Type: application/json.`,
      );
      return;
    }
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (req.body === undefined && hasBody) {
      sendError(res, 400, 'Send the request body as JSON with Content-Type: application/json.');
      return;
    }
    if (
      req.body !== undefined &&
      (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))
    ) {
      sendError(res, 422, 'The request body must be a JSON object, like {"name": "demo"}.');
      return;
    }
    next();
  });
}

function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * The REST API of the original server, on the shared express app. Every middleware is attached to its own
 * route, never app-wide: Bolt must read the raw body of /slack/events, and other doors' paths must pass
 * through this router untouched.
 */
export function createRestRouter({
  auth,
  limits,
  ...core
}: Omit<RestDeps, 'localMode'> & { auth: ApiAuth; limits: SandboxLimits }) {
  const deps: RestDeps = { ...core, localMode: auth.local };
  const contracts = restContracts(limits);
  const router = Router();

  function mount(contract: RouteContract, handler: RestHandler): void {
    const chain = [
      noStore,
      ...(contract.authenticated ? [auth.middleware] : []),
      ...(contract.body ? [jsonBody] : []),
    ];
    router[contract.method](contract.path, ...chain, async (req: Request, res: Response) => {
      try {
        const actor = contract.authenticated
          ? actorOf(res)
          : { id: 'anonymous', isApprover: false, isAdmin: false };
        res.json(await handler({ req, actor }));
      } catch (error) {
        sendFailure(res, error, deps.logger);
      }
    });
    router.all(contract.path, (req: Request, res: Response) => {
      res.setHeader('Allow', contract.method.toUpperCase());
      sendError(
        res,
        405,
        `${req.method} is not allowed here; use ${contract.method.toUpperCase()} ${contract.path}.`,
      );
    });
  }

  mount(contracts.manifest, mcpManifest(contracts, !auth.local));
  mount(contracts.createSandbox, createSandbox(deps, contracts.createSandbox));
  mount(contracts.approve, approve(deps, contracts.approve));
  mount(contracts.getSandboxStatus, getSandboxStatus(deps, contracts.getSandboxStatus));
  mount(contracts.getKubeconfig, getKubeconfig(deps, contracts.getKubeconfig));
  mount(contracts.runTest, runTest(deps, contracts.runTest));
  mount(contracts.destroySandbox, destroySandbox(deps, contracts.destroySandbox));
  mount(contracts.listActiveSandboxes, listActiveSandboxes(deps));
  return router;
}
