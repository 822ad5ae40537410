import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Request } from 'express';
import { createApiAuth } from '../../../src/adapters/http/api-auth.js';
import { waitFor } from '../../helpers/core-fixture.js';
import { callApi, detailOf } from '../../helpers/http-client.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

const CI = 'ci-token-0123456789abcdef';
const BOSS = 'boss-token-0123456789abcd';
const BOSS2 = 'boss2-token-0123456789abc';
const ROOT = 'root-token-0123456789abcd';
const API_TOKENS = `ci:${CI}:requester,boss:${BOSS}:approver,boss2:${BOSS2}:approver,root:${ROOT}:admin`;

/** Every authenticated route, called with a harmless input. */
const ROUTES: { method: string; path: string; body?: unknown; query?: Record<string, string> }[] = [
  { method: 'POST', path: '/create_sandbox', body: { name: 'auth-probe' } },
  { method: 'POST', path: '/approve', query: { approval_id: 'ap-x' } },
  { method: 'GET', path: '/get_sandbox_status/sb-x' },
  { method: 'GET', path: '/get_kubeconfig/sb-x' },
  { method: 'POST', path: '/run_test', body: { sandbox_id: 'sb-x' } },
  { method: 'POST', path: '/destroy_sandbox', query: { sandbox_id: 'sb-x' } },
  { method: 'GET', path: '/list_active_sandboxes' },
];

/** A raw request, for headers fetch will not let a caller set (Host). */
function rawRequest(url: string, path: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('REST API authentication', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { API_TOKENS } });
  });
  after(async () => t.stop());

  for (const route of ROUTES) {
    it(`when ${route.method} ${route.path} comes without a token or with a wrong one, then it is 401 and nothing changes`, async () => {
      const { body, query } = route;
      const options = { ...(body === undefined ? {} : { body }), ...(query ? { query } : {}) };
      const none = await callApi(t.url, route.method, route.path, options);
      assert.equal(none.status, 401);
      assert.match(detailOf(none), /Missing bearer token: send Authorization: Bearer <token>/);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="k3d-sandbox-bot"');
      const wrong = await callApi(t.url, route.method, route.path, {
        ...options,
        token: 'not-a-real-token-at-all',
      });
      assert.equal(wrong.status, 401);
      assert.match(detailOf(wrong), /not valid/);
      // A real token with one character changed is just as wrong.
      const near = await callApi(t.url, route.method, route.path, {
        ...options,
        token: `${CI.slice(0, -1)}X`,
      });
      assert.equal(near.status, 401);
      assert.equal(t.app.store.list({}).length, 0);
    });
  }

  it('when the manifest is fetched without a token, then it is served (it holds nothing secret)', async () => {
    assert.equal((await callApi(t.url, 'GET', '/.well-known/mcp-manifest')).status, 200);
  });

  it("when each role acts, then requesters request, approvers approve others' requests, admins do everything", async () => {
    const created = await callApi(t.url, 'POST', '/create_sandbox', { token: CI, body: { name: 'roles' } });
    assert.equal(created.status, 200, detailOf(created));
    const { sandbox_id, approval_id } = created.body as { sandbox_id: string; approval_id: string };

    const byRequester = await callApi(t.url, 'POST', '/approve', { token: CI, query: { approval_id } });
    assert.equal(byRequester.status, 403);
    assert.match(detailOf(byRequester), /Only approvers may approve/);

    // An approver token cannot approve a request it created itself.
    const own = await callApi(t.url, 'POST', '/create_sandbox', {
      token: BOSS,
      body: { name: 'bosses-own' },
    });
    const ownIds = own.body as { approval_id: string; sandbox_id: string };
    const self = await callApi(t.url, 'POST', '/approve', {
      token: BOSS,
      query: { approval_id: ownIds.approval_id },
    });
    assert.equal(self.status, 403);
    assert.match(detailOf(self), /cannot approve your own request/);
    // ...nor by naming someone else as the approver.
    const disguised = await callApi(t.url, 'POST', '/approve', {
      token: BOSS,
      query: { approval_id: ownIds.approval_id, approver: 'boss2' },
    });
    assert.equal(disguised.status, 403);
    assert.equal(t.app.store.get(ownIds.sandbox_id)?.status, 'PENDING_APPROVAL');
    const byOther = await callApi(t.url, 'POST', '/approve', {
      token: BOSS2,
      query: { approval_id: ownIds.approval_id },
    });
    assert.equal(byOther.status, 200, detailOf(byOther));

    // A requester sees its own sandbox but not another's; approvers and admins see both.
    assert.equal(
      (await callApi(t.url, 'GET', `/get_sandbox_status/${sandbox_id}`, { token: CI })).status,
      200,
    );
    const foreign = await callApi(t.url, 'GET', `/get_sandbox_status/${ownIds.sandbox_id}`, { token: CI });
    assert.equal(foreign.status, 403);
    assert.match(detailOf(foreign), /may see it/);
    assert.equal(
      (await callApi(t.url, 'GET', `/get_sandbox_status/${sandbox_id}`, { token: BOSS2 })).status,
      200,
    );

    // A requester cannot destroy another's sandbox; an admin can approve and destroy anything.
    const notMine = await callApi(t.url, 'POST', '/destroy_sandbox', {
      token: CI,
      query: { sandbox_id: ownIds.sandbox_id },
    });
    assert.equal(notMine.status, 403);
    const adminApproves = await callApi(t.url, 'POST', '/approve', { token: ROOT, query: { approval_id } });
    assert.equal(adminApproves.status, 200, detailOf(adminApproves));
    await waitFor(() => t.app.store.get(sandbox_id)?.status === 'ACTIVE', 'ACTIVE');
    const adminDestroys = await callApi(t.url, 'POST', '/destroy_sandbox', {
      token: ROOT,
      body: { sandbox_id },
    });
    assert.equal(adminDestroys.status, 200, detailOf(adminDestroys));
  });
});

describe('REST API without tokens (local mode)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.stop());

  it('when a loopback client calls without a token, then it acts as api:local', async () => {
    const created = await callApi(t.url, 'POST', '/create_sandbox', { body: { name: 'local-one' } });
    assert.equal(created.status, 200, detailOf(created));
    assert.equal((created.body as { requested_by: string }).requested_by, 'api:local');
  });

  it('when approving locally, then the approver parameter is who approves, and never the requester', async () => {
    const created = await callApi(t.url, 'POST', '/create_sandbox', { body: { name: 'local-two' } });
    const { approval_id, sandbox_id } = created.body as { approval_id: string; sandbox_id: string };
    const asRequester = await callApi(t.url, 'POST', '/approve', { query: { approval_id } });
    assert.equal(asRequester.status, 403);
    assert.match(detailOf(asRequester), /name who approves with \?approver=<name>/);
    const sameName = await callApi(t.url, 'POST', '/approve', { query: { approval_id, approver: 'local' } });
    assert.equal(sameName.status, 403);
    assert.equal(t.app.store.get(sandbox_id)?.status, 'PENDING_APPROVAL');
    const ok = await callApi(t.url, 'POST', '/approve', { query: { approval_id, approver: 'alice' } });
    assert.equal(ok.status, 200, detailOf(ok));
    assert.equal((ok.body as { approved_by: string }).approved_by, 'api:alice');
  });

  it('when a request names a foreign Host (DNS rebinding) or comes from a web page, then it is 401', async () => {
    const host = await rawRequest(t.url, '/list_active_sandboxes', { host: 'evil.example:3000' });
    assert.equal(host.status, 401);
    assert.match(host.body, /accepts only Host localhost or 127.0.0.1/);
    const origin = await rawRequest(t.url, '/list_active_sandboxes', { origin: 'https://evil.example' });
    assert.equal(origin.status, 401);
    assert.match(origin.body, /refuses requests from web pages/);
    const localhost = await rawRequest(t.url, '/list_active_sandboxes', { host: 'localhost:3000' });
    assert.equal(localhost.status, 200);
  });

  it('when a page with an opaque origin (Origin: null) calls, then it is 401', async () => {
    const opaque = await rawRequest(t.url, '/list_active_sandboxes', { origin: 'null' });
    assert.equal(opaque.status, 401);
    assert.match(opaque.body, /refuses requests from web pages/);
  });

  for (const header of [
    'Forwarded',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'X-Real-IP',
  ]) {
    it(`when a request comes through a proxy on this machine (${header}), then it is 401 saying to set API_TOKENS`, async () => {
      const headers = { [header]: header === 'Forwarded' ? 'for=203.0.113.7' : '203.0.113.7' };
      for (const res of [
        await rawRequest(t.url, '/list_active_sandboxes', headers),
        await rawRequest(t.url, '/mcp', { ...headers, 'content-type': 'application/json' }, 'POST'),
      ]) {
        assert.equal(res.status, 401);
        const { detail } = JSON.parse(res.body) as { detail: string };
        assert.match(detail, /came through a proxy .*Set API_TOKENS .* to serve through a proxy/);
      }
    });
  }

  it('when a client is not on the loopback, then it is refused with how to configure API_TOKENS', () => {
    const auth = createApiAuth([]);
    const req = { socket: { remoteAddress: '10.1.2.3' }, headers: {} } as unknown as Request;
    const result = auth.identify(req);
    assert.ok('problem' in result);
    assert.match(result.problem, /answers only on the loopback interface\. Set API_TOKENS/);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const local = auth.identify({ socket: { remoteAddress: address }, headers: {} } as unknown as Request);
      assert.deepEqual(local, { actor: { id: 'api:local', isApprover: true, isAdmin: true } });
    }
  });
});
