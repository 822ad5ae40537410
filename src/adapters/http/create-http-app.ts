import express from 'express';
import type { Registry } from 'prom-client';

export interface HttpAppDeps {
  registry: Registry;
  /** True when the database answers; /readyz reports 503 otherwise. */
  isReady: () => boolean;
}

/**
 * The express app every door shares: health and metrics here; Slack (HTTP mode), REST and MCP mount on it.
 * No body parser is registered globally, because Bolt's receiver must read the raw body to verify signatures.
 */
export function createHttpApp({ registry, isReady }: HttpAppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'database unavailable' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return app;
}
