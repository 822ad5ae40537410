import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createApiAuth } from '../../../src/adapters/http/api-auth.js';
import { restContracts } from '../../../src/adapters/http/rest/contracts.js';
import { createRestRouter } from '../../../src/adapters/http/rest/create-rest-router.js';
import { silentLogger, waitFor } from '../../helpers/core-fixture.js';
import { callApi, detailOf } from '../../helpers/http-client.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

const CI = 'ci-token-0123456789abcdef';
const BOSS = 'boss-token-0123456789abcd';
const ROOT = 'root-token-0123456789abcd';
const API_TOKENS = `ci:${CI}:requester,boss:${BOSS}:approver,root:${ROOT}:admin`;

describe('REST API (contract)', () => {
  let t: TestApp;
  let contracts: ReturnType<typeof restContracts>;
  const get = (path: string, token = ROOT) => callApi(t.url, 'GET', path, { token });
  const post = (path: string, options: Parameters<typeof callApi>[3] = {}) =>
    callApi(t.url, 'POST', path, { token: ROOT, ...options });

  /** Creates a sandbox as `token` (the original request shape) and returns its ids. */
  async function create(name: string, token = CI, extra: Record<string, unknown> = {}) {
    const res = await post('/create_sandbox', {
      token,
      body: { name, servers: 1, agents: 2, ttl_minutes: 90, ...extra },
    });
    assert.equal(res.status, 200, detailOf(res));
    return contracts.createSandbox.response.parse(res.body);
  }

  async function activate(name: string, token = CI) {
    const created = await create(name, token);
    const approved = await post('/approve', {
      token: BOSS,
      query: { approval_id: created.approval_id, approver: 'boss' },
    });
    assert.equal(approved.status, 200, detailOf(approved));
    await waitFor(() => t.app.store.get(created.sandbox_id)?.status === 'ACTIVE', `${name} ACTIVE`);
    return created;
  }

  before(async () => {
    t = await startTestApp({ env: { API_TOKENS, SANDBOX_MAX_PER_USER: '50', SANDBOX_MAX_TOTAL: '200' } });
    contracts = restContracts(t.config.sandbox);
  });
  after(async () => t.stop());

  it('when the manifest is fetched, then it lists every operation with inputs, outputs and which need approval', async () => {
    const res = await callApi(t.url, 'GET', '/.well-known/mcp-manifest');
    assert.equal(res.status, 200);
    const manifest = contracts.manifest.response.parse(res.body);
    const names = manifest.tools.map((tool) => tool.name);
    assert.deepEqual(names.sort(), [
      'approve',
      'create_sandbox',
      'destroy_sandbox',
      'get_kubeconfig',
      'get_sandbox_status',
      'list_active_sandboxes',
      'run_test',
    ]);
    const createTool = manifest.tools.find((tool) => tool.name === 'create_sandbox');
    assert.equal(createTool?.requires_approval, true);
    assert.equal(createTool?.path, '/create_sandbox');
    const properties = createTool?.input_schema.properties as Record<string, unknown>;
    assert.deepEqual(Object.keys(properties).sort(), [
      'agents',
      'name',
      'owner',
      'reason',
      'servers',
      'ttl_minutes',
    ]);
    assert.equal(
      manifest.tools.find((tool) => tool.name === 'get_sandbox_status')?.path,
      '/get_sandbox_status/{id}',
    );
    assert.equal(manifest.authentication.required, true);
  });

  it('when a sandbox is created with the original body, then it answers sandbox_id, approval_id and PENDING_APPROVAL', async () => {
    const res = await post('/create_sandbox', {
      token: CI,
      body: { name: 'orig-shape', servers: 1, agents: 2, ttl_minutes: 90, owner: 'U0ALICE' },
    });
    assert.equal(res.status, 200, detailOf(res));
    const body = contracts.createSandbox.response.parse(res.body);
    assert.equal(body.status, 'PENDING_APPROVAL');
    assert.match(body.sandbox_id, /^sb-/);
    assert.match(body.approval_id, /^ap-/);
    // Both are recorded: the Slack user it is for, and the token that asked.
    const stored = t.app.store.get(body.sandbox_id);
    assert.equal(stored?.owner, 'U0ALICE');
    assert.equal(stored?.requestedBy, 'api:ci');
    assert.equal(stored?.requestedVia, 'api');
    assert.equal(stored?.ttlMs, 90 * 60_000);
    // The original server's query-string form: a string of digits.
    const digits = await create('orig-digits', CI, { ttl_minutes: '45' });
    assert.equal(t.app.store.get(digits.sandbox_id)?.ttlMs, 45 * 60_000);
    assert.equal(stored?.agents, 2);
  });

  it('when an approver approves by approval_id, then the answer is APPROVED and the sandbox becomes ACTIVE', async () => {
    const created = await create('approve-me');
    const res = await post('/approve', {
      token: BOSS,
      query: { approval_id: created.approval_id, approver: 'someone-else' },
    });
    assert.equal(res.status, 200, detailOf(res));
    const body = contracts.approve.response.parse(res.body);
    assert.equal(body.status, 'APPROVED');
    assert.equal(body.sandbox_id, created.sandbox_id);
    // The token decides; the approver parameter is only recorded.
    assert.equal(body.approved_by, 'api:boss');
    const audit = t.app.store
      .listAudit({ sandboxId: created.sandbox_id })
      .find((a) => a.action === 'approved');
    assert.equal(audit?.actor, 'api:boss');
    assert.equal(audit?.details.approverParam, 'someone-else');
    await waitFor(() => t.app.store.get(created.sandbox_id)?.status === 'ACTIVE', 'ACTIVE');
  });

  it('when the status of an active sandbox is read, then it has the original fields with ISO times', async () => {
    const created = await activate('status-me');
    const res = await get(`/get_sandbox_status/${created.sandbox_id}`, CI);
    assert.equal(res.status, 200, detailOf(res));
    const status = contracts.getSandboxStatus.response.parse(res.body);
    assert.equal(status.id, created.sandbox_id);
    assert.equal(status.name, 'status-me');
    assert.equal(status.status, 'ACTIVE');
    assert.equal(new Date(status.created_at).toISOString(), status.created_at);
    assert.ok(status.expires_at && Date.parse(status.expires_at) > Date.parse(status.created_at));
    assert.equal(status.servers, 1);
    assert.equal(status.agents, 2);
    assert.equal(status.owner, 'api:ci');
    assert.equal(status.failure_reason, null);
    assert.equal(status.last_test, null);
    // The approval id works as well as the sandbox id.
    const byApproval = await get(`/get_sandbox_status/${created.approval_id}`, CI);
    assert.equal((byApproval.body as { id: string }).id, created.sandbox_id);
  });

  it('when the owner fetches the kubeconfig, then it gets it, the read is audited and the audit holds no secret', async () => {
    const created = await activate('kube-me');
    const res = await get(`/get_kubeconfig/${created.sandbox_id}`, CI);
    assert.equal(res.status, 200, detailOf(res));
    const { kubeconfig } = contracts.getKubeconfig.response.parse(res.body);
    assert.match(kubeconfig, /SECRETKEY-sbx-kube-me/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const audits = t.app.store.listAudit({ sandboxId: created.sandbox_id });
    const read = audits.find((a) => a.action === 'kubeconfig_read');
    assert.equal(read?.actor, 'api:ci');
    assert.ok(!JSON.stringify(audits).includes('SECRETKEY'));
    // An admin may, an approver who does not own it may not.
    assert.equal((await get(`/get_kubeconfig/${created.sandbox_id}`, ROOT)).status, 200);
    const approver = await get(`/get_kubeconfig/${created.sandbox_id}`, BOSS);
    assert.equal(approver.status, 403);
    assert.match(detailOf(approver), /owner .* or an admin/);
  });

  it('when a test is run with the original body, then the result comes back and becomes the last test result', async () => {
    const created = await activate('test-me');
    const res = await post('/run_test', {
      token: CI,
      body: { sandbox_id: created.sandbox_id, test_id: 'smoke' },
    });
    assert.equal(res.status, 200, detailOf(res));
    const result = contracts.runTest.response.parse(res.body);
    assert.equal(result.sandbox_id, created.sandbox_id);
    assert.equal(result.test_id, 'smoke');
    assert.equal(result.status, 'PASSED');
    assert.equal(result.steps.length, 2);
    const status = await get(`/get_sandbox_status/${created.sandbox_id}`, CI);
    assert.equal((status.body as { last_test: { status: string } }).last_test.status, 'PASSED');
    // test_id defaults to smoke; an unknown suite is refused with the list of suites.
    const byDefault = await post('/run_test', { token: CI, body: { sandbox_id: created.sandbox_id } });
    assert.equal((byDefault.body as { test_id: string }).test_id, 'smoke');
    const unknown = await post('/run_test', {
      token: CI,
      body: { sandbox_id: created.sandbox_id, test_id: 'nope' },
    });
    assert.equal(unknown.status, 422);
    assert.match(detailOf(unknown), /no test suite "nope"; available: smoke, dns/);
  });

  it('when a sandbox is destroyed by query or by JSON body, then it answers DESTROYING and is gone later', async () => {
    const byQuery = await activate('destroy-q');
    const res = await post('/destroy_sandbox', { token: CI, query: { sandbox_id: byQuery.sandbox_id } });
    assert.equal(res.status, 200, detailOf(res));
    assert.deepEqual(contracts.destroySandbox.response.parse(res.body), {
      sandbox_id: byQuery.sandbox_id,
      status: 'DESTROYING',
    });
    const byBody = await activate('destroy-b');
    const res2 = await post('/destroy_sandbox', { token: CI, body: { sandbox_id: byBody.sandbox_id } });
    assert.equal((res2.body as { status: string }).status, 'DESTROYING');
    await waitFor(
      () =>
        t.app.store.get(byQuery.sandbox_id)?.status === 'DESTROYED' &&
        t.app.store.get(byBody.sandbox_id)?.status === 'DESTROYED',
      'both DESTROYED',
    );
    // Destroying what is already gone says so.
    const again = await post('/destroy_sandbox', { token: CI, query: { sandbox_id: byQuery.sandbox_id } });
    assert.equal(again.status, 409);
    assert.match(detailOf(again), /already destroyed/);
  });

  it('when a pending request is destroyed, then it is cancelled (there is no cluster to destroy)', async () => {
    const created = await create('cancel-me');
    const res = await post('/destroy_sandbox', { token: CI, query: { sandbox_id: created.sandbox_id } });
    assert.equal(res.status, 200, detailOf(res));
    assert.equal((res.body as { status: string }).status, 'CANCELLED');
  });

  it('when active sandboxes are listed, then it is an array of status objects the caller may see', async () => {
    const mine = await create('list-mine');
    const theirs = await create('list-theirs', ROOT);
    const asRequester = await get('/list_active_sandboxes', CI);
    assert.equal(asRequester.status, 200, detailOf(asRequester));
    const seen = contracts.listActiveSandboxes.response.parse(asRequester.body).map((s) => s.id);
    assert.ok(seen.includes(mine.sandbox_id));
    assert.ok(!seen.includes(theirs.sandbox_id), 'a requester sees only its own');
    const asApprover = contracts.listActiveSandboxes.response.parse(
      (await get('/list_active_sandboxes', BOSS)).body,
    );
    assert.ok(asApprover.some((s) => s.id === theirs.sandbox_id));
    assert.ok(asApprover.every((s) => !['DESTROYED', 'FAILED', 'DENIED', 'CANCELLED'].includes(s.status)));
  });

  describe('bad input changes nothing', () => {
    const cases: {
      what: string;
      body: unknown;
      raw?: string;
      contentType?: string;
      status: number;
      detail: RegExp;
    }[] = [
      { what: 'a missing name', body: { servers: 1 }, status: 422, detail: /name: is required/ },
      {
        what: 'servers: "two"',
        body: { name: 'x-two', servers: 'two' },
        status: 422,
        detail: /servers: must be a whole number from 1 to 3/,
      },
      {
        what: 'a negative TTL',
        body: { name: 'x-neg', ttl_minutes: -5 },
        status: 422,
        detail: /ttl_minutes: must be a whole number of minutes from 1 to 1440/,
      },
      {
        what: 'a TTL over the limit',
        body: { name: 'x-long', ttl_minutes: 100_000 },
        status: 422,
        detail: /ttl_minutes: .*1 to 1440/,
      },
      ...[true, [7], '0x10', '1e2', ' 9'].map((ttl) => ({
        what: `ttl_minutes: ${JSON.stringify(ttl)}`,
        body: { name: 'x-coerced', ttl_minutes: ttl },
        status: 422,
        detail:
          /ttl_minutes: must be a whole number of minutes from 1 to 1440, given as a JSON number or a string of digits/,
      })),
      {
        what: 'too many agents',
        body: { name: 'x-agents', agents: 9 },
        status: 422,
        detail: /agents: must be at most 3/,
      },
      {
        what: 'a name that is not a label',
        body: { name: 'My_Cluster' },
        status: 422,
        detail: /name: must be a lowercase RFC 1123 label/,
      },
      {
        what: 'an owner that is not a Slack id',
        body: { name: 'x-owner', owner: 'alice' },
        status: 422,
        detail: /owner: must be a Slack user id like U0123ABCD/,
      },
      {
        what: 'an unknown field',
        body: { name: 'x-typo', ttl: '2h' },
        status: 422,
        detail: /unknown field\(s\) ttl; accepted: name, servers, agents, ttl_minutes, owner, reason/,
      },
      { what: 'malformed JSON', body: undefined, raw: '{"name": ', status: 400, detail: /not valid JSON/ },
      { what: 'a JSON array', body: undefined, raw: '[1,2]', status: 422, detail: /must be a JSON object/ },
      {
        what: 'a form body',
        body: undefined,
        raw: 'name=x',
        contentType: 'application/x-www-form-urlencoded',
        status: 400,
        detail: /as JSON with Content-Type: application\/json/,
      },
    ];
    for (const c of cases) {
      it(`when create_sandbox gets ${c.what}, then it answers ${c.status} saying what to fix`, async () => {
        const before = t.app.store.list({}).length;
        const auditsBefore = t.app.store.listAudit({ limit: 100_000 }).length;
        const res = await post('/create_sandbox', {
          token: CI,
          body: c.raw ?? c.body,
          ...(c.contentType ? { contentType: c.contentType } : {}),
        });
        assert.equal(res.status, c.status, detailOf(res));
        assert.match(detailOf(res), c.detail);
        assert.equal(t.app.store.list({}).length, before);
        assert.equal(t.app.store.listAudit({ limit: 100_000 }).length, auditsBefore);
      });
    }

    it('when an unknown id is used anywhere, then it answers 404 and changes nothing', async () => {
      const before = t.app.store.listAudit({ limit: 100_000 }).length;
      for (const res of [
        await get('/get_sandbox_status/sb-nothere'),
        await get('/get_kubeconfig/sb-nothere'),
        await post('/approve', { query: { approval_id: 'ap-nothere' } }),
        await post('/destroy_sandbox', { query: { sandbox_id: 'sb-nothere' } }),
        await post('/run_test', { body: { sandbox_id: 'sb-nothere' } }),
      ]) {
        assert.equal(res.status, 404, detailOf(res));
        assert.match(detailOf(res), /nothere was not found/);
      }
      assert.equal(t.app.store.listAudit({ limit: 100_000 }).length, before);
    });

    it('when a required parameter is missing, then the answer names it', async () => {
      const approve = await post('/approve', {});
      assert.equal(approve.status, 422);
      assert.match(detailOf(approve), /approval_id: is required/);
      const destroy = await post('/destroy_sandbox', {});
      assert.equal(destroy.status, 422);
      assert.match(detailOf(destroy), /sandbox_id is required/);
      const runTest = await post('/run_test', { body: {} });
      assert.equal(runTest.status, 422);
      assert.match(detailOf(runTest), /sandbox_id: is required/);
    });

    it('when a route is called with the wrong method, then it answers 405 naming the right one', async () => {
      const res = await get('/create_sandbox');
      assert.equal(res.status, 405);
      assert.match(detailOf(res), /use POST \/create_sandbox/);
    });
  });

  it('when the name is taken or the quota is reached, then it answers 409 or 429 with the reason', async () => {
    await create('taken');
    const taken = await post('/create_sandbox', { token: ROOT, body: { name: 'taken' } });
    assert.equal(taken.status, 409);
    assert.match(detailOf(taken), /already exists/);
    // The per-user quota counts the requests owned by the Slack user named as owner.
    const small = await startTestApp({ env: { API_TOKENS, SANDBOX_MAX_PER_USER: '1' } });
    try {
      const first = await callApi(small.url, 'POST', '/create_sandbox', {
        token: CI,
        body: { name: 'quota-1', owner: 'U0QUOTA' },
      });
      assert.equal(first.status, 200, detailOf(first));
      const over = await callApi(small.url, 'POST', '/create_sandbox', {
        token: CI,
        body: { name: 'quota-2', owner: 'U0QUOTA' },
      });
      assert.equal(over.status, 429);
      assert.match(detailOf(over), /U0QUOTA already has 1 live sandboxes/);
    } finally {
      await small.stop();
    }
  });

  it('when the REST routes are mounted, then other paths (like /slack/events) pass through untouched', async () => {
    // The bot's own app ends in a 404 handler, so the REST router goes in front of a raw-body route here.
    const app = express();
    app.use(
      createRestRouter({
        service: t.app.service,
        tests: t.app.tests,
        logger: silentLogger,
        auth: createApiAuth([]),
        limits: t.config.sandbox,
      }),
    );
    app.post('/slack/raw-echo', async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      res.type('text/plain').send(raw);
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/raw-echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"raw":true}',
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '{"raw":true}');
    } finally {
      server.close();
    }
  });
});
