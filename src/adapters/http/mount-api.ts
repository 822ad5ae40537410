import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';
import type { ApiToken } from '../../config.js';
import type { Actor } from '../../core/policy.js';
import type { Logger } from '../../core/ports.js';
import type { SandboxLimits } from '../../core/sandbox.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import type { TestRuns } from '../../core/test-runs.js';
import { actorOf, createApiAuth } from './api-auth.js';
import { createRestRouter } from './rest/create-rest-router.js';

export interface ApiDeps {
  service: SandboxService;
  tests: TestRuns;
  logger: Logger;
  tokens: readonly ApiToken[];
  limits: SandboxLimits;
  /** Serves one MCP Streamable HTTP request as `actor` (the MCP adapter's handler, joined in app.ts). */
  handleMcp: (req: IncomingMessage, res: ServerResponse, actor: Actor) => Promise<void>;
}

/**
 * Mounts the REST API and the MCP endpoint (POST /mcp, stateless Streamable HTTP) on the shared app, both
 * behind the same bearer tokens.
 */
export function mountApi(app: Express, { service, tests, logger, tokens, limits, handleMcp }: ApiDeps): void {
  const auth = createApiAuth(tokens);
  app.use(createRestRouter({ service, tests, logger, auth, limits }));
  app.post('/mcp', auth.middleware, (req: Request, res: Response) => handleMcp(req, res, actorOf(res)));
  // Stateless mode keeps no session: there is no stream to resume (GET) and none to end (DELETE).
  app.all('/mcp', (_req: Request, res: Response) => {
    res
      .status(405)
      .setHeader('Allow', 'POST')
      .json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed: POST MCP messages to /mcp.' },
        id: null,
      });
  });
}
