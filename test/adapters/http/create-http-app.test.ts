import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Gauge } from 'prom-client';
import type { Logger } from '../../../src/core/ports.js';
import { callApi, detailOf, type JsonResponse } from '../../helpers/http-client.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

/** What an express HTML error page gives away: a stack frame or the install path. */
function assertNoInternals(res: JsonResponse): void {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const text = JSON.stringify(res.body);
  assert.doesNotMatch(text, /\bat \S+ \(|node_modules|<pre>/);
  assert.ok(!text.includes(process.cwd()), text);
}

describe('HTTP app: unknown paths and unhandled errors', () => {
  let t: TestApp;
  const logged: { fields: object; message: string | undefined }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (fields, message) => void logged.push({ fields, message }),
  };
  before(async () => {
    t = await startTestApp({ overrides: { logger } });
  });
  after(async () => t.stop());

  it('when a path is unknown, then it answers a JSON 404 that points to the route list', async () => {
    for (const [method, path] of [
      ['GET', '/no-such-route'],
      ['POST', '/slack/events'], // Slack is not in HTTP mode here
    ] as const) {
      const res = await callApi(t.url, method, path);
      assert.equal(res.status, 404);
      assert.match(detailOf(res), new RegExp(`There is no ${method} ${path}; GET /.well-known/mcp-manifest`));
      assertNoInternals(res);
    }
  });

  it('when an id in the URL does not decode (%ZZ), then it answers a JSON 400 saying the URL is malformed', async () => {
    const res = await callApi(t.url, 'GET', '/get_sandbox_status/%ZZ');
    assert.equal(res.status, 400);
    assert.match(detailOf(res), /The URL is malformed \(Failed to decode param '%ZZ'\); percent-encode "%"/);
    assertNoInternals(res);
  });

  it('when a route fails unexpectedly, then it answers a short JSON 500 and the error goes to the log', async () => {
    new Gauge({
      name: 'broken_gauge',
      help: 'fails to collect',
      registers: [t.app.metrics.registry],
      collect() {
        throw new Error(`collector exploded in ${process.cwd()}`);
      },
    });
    try {
      const res = await callApi(t.url, 'GET', '/metrics');
      assert.equal(res.status, 500);
      assert.match(detailOf(res), /^Internal error: .*the bot's log has the details\.$/);
      assert.doesNotMatch(detailOf(res), /exploded/);
      assertNoInternals(res);
      const entry = logged.find((l) => l.message === 'HTTP request failed');
      const { err } = (entry?.fields ?? {}) as { err?: Error };
      assert.match(String(err?.message), /collector exploded/);
    } finally {
      t.app.metrics.registry.removeSingleMetric('broken_gauge');
    }
  });

  it('when health, metrics, REST and /mcp are called, then they answer as before', async () => {
    assert.equal((await callApi(t.url, 'GET', '/healthz')).status, 200);
    const metrics = await fetch(`${t.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /# HELP/);
    assert.equal((await callApi(t.url, 'GET', '/list_active_sandboxes')).status, 200);
    const mcp = await callApi(t.url, 'GET', '/mcp');
    assert.equal(mcp.status, 405);
    assert.match(JSON.stringify(mcp.body), /POST MCP messages to \/mcp/);
  });
});
