import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/ports.js';
import { sendError } from './rest/http-errors.js';

export interface HttpAppDeps {
  registry: Registry;
  /** Why the bot cannot serve (the database cannot be read or written), or undefined when it can. */
  notReady: () => string | undefined;
}

/**
 * The express app every door shares: health and metrics here; Slack (HTTP mode), REST and MCP mount on it.
 * No body parser is registered globally, because Bolt's receiver must read the raw body to verify signatures.
 */
export function createHttpApp({ registry, notReady }: HttpAppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const reason = notReady();
    if (reason) res.status(503).json({ status: 'database unavailable', reason });
    else res.json({ status: 'ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return app;
}

/**
 * The last handlers of the app, mounted after every door: an unknown path gets a JSON 404, and an error no
 * route answered itself (a URL that does not decode, a body that does not parse, a bug) gets a JSON
 * `detail` instead of express's HTML page, which would show the stack and the install path. In HTTP mode
 * Slack's /slack/events never reaches them (the server hands it to Bolt's receiver before express); in Socket
 * Mode, or without Slack, that path is unknown here like any other.
 */
export function mountFallbacks(app: Express, logger: Logger): void {
  app.use((req: Request, res: Response) => {
    sendError(
      res,
      404,
      `There is no ${req.method} ${req.path}; GET /.well-known/mcp-manifest lists the API's routes.`,
    );
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, message = 'unreadable request' } = error as { status?: unknown; message?: string };
    if (error instanceof URIError) {
      sendError(
        res,
        400,
        `The URL is malformed (${message}); percent-encode "%" and other special characters.`,
      );
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser's errors (bad JSON, too large, wrong charset) carry their status and a message for the client.
      sendError(res, status, `The request could not be read: ${message}.`);
    } else {
      logger.error({ err: error, method: req.method, path: req.path }, 'HTTP request failed');
      sendError(
        res,
        500,
        "Internal error: the request could not be completed; the bot's log has the details.",
      );
    }
  });
}
