import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DEFAULT_REQUEST_TIMEOUT_MSEC } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SandboxStatusView, TestResultView } from '../../../src/core/api-view.js';
import { waitFor } from '../../helpers/core-fixture.js';
import { callApi, detailOf } from '../../helpers/http-client.js';
import { GatedSmokeTester, startTestApp, type TestApp } from '../../helpers/test-app.js';

const AGENT = 'agent-token-0123456789abcd';
const BOSS = 'boss-token-0123456789abcd';
const API_TOKENS = `agent:${AGENT}:requester,boss:${BOSS}:approver`;

const EXPECTED_TOOLS = [
  'create_sandbox',
  'destroy_sandbox',
  'extend_sandbox',
  'get_kubeconfig',
  'get_sandbox_status',
  'list_sandboxes',
  'run_test',
  'wait_for_sandbox',
];

const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'mcp-http-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), {
    requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
  });
  await client.connect(transport);
  return client;
}

describe('MCP over Streamable HTTP', () => {
  let t: TestApp;
  let client: Client;
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  before(async () => {
    t = await startTestApp({ env: { API_TOKENS } });
    client = await connect(t.url, AGENT);
  });
  after(async () => {
    await client.close();
    await t.stop();
  });

  it('when the tools are listed, then there are the eight sandbox tools and no approve tool', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), EXPECTED_TOOLS);
    const create = tools.find((tool) => tool.name === 'create_sandbox');
    assert.deepEqual(create?.inputSchema.required, ['name']);
    assert.match(create?.description ?? '', /human approver must approve/);
  });

  it('when the tools are listed, then create_sandbox says how long approval may take and which limits will refuse a request', async () => {
    const { tools } = await client.listTools();
    const create = tools.find((tool) => tool.name === 'create_sandbox');
    // The test app's defaults: 3 per user, 3 x 3 requests an hour, 20 on the bot, 24h to decide, TTL at most 24h.
    assert.match(
      create?.description ?? '',
      /may take minutes or hours; a request nobody decides within 24h is cancelled/,
    );
    assert.match(create?.description ?? '', /3 live sandboxes .* 9 requests an hour .* 20 on the whole bot/);
    const ttl = create?.inputSchema.properties?.ttl_minutes as { description: string; maximum: number };
    assert.equal(ttl.maximum, 1440);
    // Node counts are whole numbers in a range the schema states, as ttl_minutes is.
    assert.deepEqual(
      { ...create?.inputSchema.properties?.servers, description: undefined },
      { type: 'integer', minimum: 1, maximum: 3, description: undefined },
    );
    assert.deepEqual(
      { ...create?.inputSchema.properties?.agents, description: undefined },
      { type: 'integer', minimum: 0, maximum: 3, description: undefined },
    );
    assert.match(ttl.description, /from when it is ACTIVE/);
  });

  it('when an agent leaves out timeout_seconds, then wait_for_sandbox answers before a client with the default request timeout gives up', async () => {
    const { tools } = await client.listTools();
    const wait = tools.find((tool) => tool.name === 'wait_for_sandbox');
    const timeout = wait?.inputSchema.properties?.timeout_seconds as { default: number };
    assert.ok(
      timeout.default * 1000 < DEFAULT_REQUEST_TIMEOUT_MSEC,
      `default ${timeout.default} s, the client gives up after ${DEFAULT_REQUEST_TIMEOUT_MSEC} ms`,
    );
  });

  it('when an agent creates, waits through a REST approval, fetches the kubeconfig and runs a test, then each step answers', async () => {
    const created = await call('create_sandbox', {
      name: 'agent-box',
      agents: 1,
      ttl_minutes: 60,
      owner: 'U0ALICE',
      reason: 'CI run',
    });
    assert.equal(created.isError, undefined, textOf(created));
    const view = SandboxStatusView.parse(created.structuredContent);
    assert.equal(view.status, 'PENDING_APPROVAL');
    assert.match(textOf(created), /A human approver must approve it/);
    // The approval message can say which agent asked and for whom.
    const stored = t.app.store.get(view.id);
    assert.equal(stored?.requestedBy, 'api:agent');
    assert.equal(stored?.owner, 'U0ALICE');
    assert.equal(stored?.requestedVia, 'mcp');

    const status = await call('get_sandbox_status', { sandbox_id: view.id });
    assert.equal(SandboxStatusView.parse(status.structuredContent).status, 'PENDING_APPROVAL');

    // Wait while PENDING; the first progress notification shows the wait is under way, and only then
    // does a human approve, so the wait sees the whole path to ACTIVE whatever the timing.
    let approved: Promise<unknown> | undefined;
    const waited = (await client.callTool(
      { name: 'wait_for_sandbox', arguments: { sandbox_id: view.id, timeout_seconds: 60 } },
      undefined,
      {
        resetTimeoutOnProgress: true,
        onprogress: () => {
          approved ??= callApi(t.url, 'POST', '/approve', {
            token: BOSS,
            query: { approval_id: view.id },
          }).then((res) => assert.equal(res.status, 200, detailOf(res)));
        },
      },
    )) as CallToolResult;
    await approved;
    assert.equal(waited.isError, undefined, textOf(waited));
    assert.equal(SandboxStatusView.parse(waited.structuredContent).status, 'ACTIVE');

    // The owner is U0ALICE, so the agent that asked for her may not read the kubeconfig: only she (by DM) or an admin.
    const refused = await call('get_kubeconfig', { sandbox_id: view.id });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /Only the owner of agent-box or an admin may fetch its kubeconfig/);

    const tested = await call('run_test', { sandbox_id: view.id });
    assert.equal(tested.isError, undefined, textOf(tested));
    assert.equal(TestResultView.parse(tested.structuredContent).status, 'PASSED');
    assert.match(textOf(tested), /Test suite smoke PASSED on agent-box/);
  });

  it('when an agent asks for itself, then it may fetch the kubeconfig, extend and destroy the sandbox', async () => {
    const created = await call('create_sandbox', { name: 'own-box' });
    const id = SandboxStatusView.parse(created.structuredContent).id;
    const approve = await callApi(t.url, 'POST', '/approve', { token: BOSS, query: { approval_id: id } });
    assert.equal(approve.status, 200, detailOf(approve));
    const active = await call('wait_for_sandbox', { sandbox_id: id, until: ['ACTIVE'], timeout_seconds: 30 });
    assert.equal(SandboxStatusView.parse(active.structuredContent).status, 'ACTIVE');

    const kubeconfig = await call('get_kubeconfig', { sandbox_id: id });
    assert.equal(kubeconfig.isError, undefined, textOf(kubeconfig));
    assert.match(textOf(kubeconfig), /^apiVersion: v1/);
    assert.ok(
      t.app.store
        .listAudit({ sandboxId: id })
        .some((a) => a.action === 'kubeconfig_read' && a.actor === 'api:agent'),
    );

    const before = SandboxStatusView.parse(active.structuredContent).expires_at ?? '';
    const extended = await call('extend_sandbox', { sandbox_id: id, minutes: 30 });
    assert.equal(extended.isError, undefined, textOf(extended));
    const after = SandboxStatusView.parse(extended.structuredContent).expires_at ?? '';
    assert.equal(Date.parse(after) - Date.parse(before), 30 * 60_000);

    const listed = await call('list_sandboxes', {});
    assert.match(textOf(listed), /own-box/);

    const destroyed = await call('destroy_sandbox', { sandbox_id: id });
    assert.equal(SandboxStatusView.parse(destroyed.structuredContent).status, 'DESTROYING');
    const gone = await call('wait_for_sandbox', {
      sandbox_id: id,
      until: ['DESTROYED'],
      timeout_seconds: 30,
    });
    assert.equal(SandboxStatusView.parse(gone.structuredContent).status, 'DESTROYED');
  });

  it('when a tool gets bad input or an unknown id, then the result is isError with the actionable text', async () => {
    const before = t.app.store.list({}).length;
    const badServers = await call('create_sandbox', { name: 'bad-box', servers: 'two' });
    assert.equal(badServers.isError, true);
    assert.match(textOf(badServers), /must be a whole number from 1 to 3/);
    const badTtl = await call('create_sandbox', { name: 'bad-ttl', ttl_minutes: '0x10' });
    assert.equal(badTtl.isError, true);
    assert.match(
      textOf(badTtl),
      /must be a whole number of minutes from 1 to 1440, given as a JSON number or a string of digits at ttl_minutes/,
    );
    const typo = await call('create_sandbox', { name: 'typo-box', ttl: '4h' });
    assert.equal(typo.isError, true);
    assert.match(textOf(typo), /Unrecognized key: "ttl"/);
    const badName = await call('create_sandbox', { name: 'Bad_Box' });
    assert.equal(badName.isError, true);
    assert.match(textOf(badName), /lowercase RFC 1123 label/);
    assert.equal(t.app.store.list({}).length, before);
    const unknown = await call('get_sandbox_status', { sandbox_id: 'sb-nothere' });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /Sandbox sb-nothere was not found/);
  });

  it('when an agent retries create_sandbox (its first call timed out), then no second request is filed and the answer names the first one', async () => {
    const first = await call('create_sandbox', { name: 'retry-box', agents: 1 });
    const id = SandboxStatusView.parse(first.structuredContent).id;
    const again = await call('create_sandbox', { name: 'retry-box', agents: 1 });
    assert.equal(again.isError, true);
    // Not "pick another name", which an agent would follow by filing a second request under a new name.
    assert.match(textOf(again), new RegExp(`your own request ${id}, which is waiting for approval`));
    assert.match(textOf(again), new RegExp(`use it \\(id ${id}\\) rather than asking again`));
    assert.equal(t.app.store.list({ name: 'retry-box' }).length, 1);
    await call('destroy_sandbox', { sandbox_id: id });
  });

  it('when a wait times out, then it returns the current state and says to call again', async () => {
    const created = await call('create_sandbox', { name: 'slow-box' });
    const id = SandboxStatusView.parse(created.structuredContent).id;
    const waited = await call('wait_for_sandbox', { sandbox_id: id, timeout_seconds: 1 });
    assert.equal(waited.isError, undefined);
    assert.match(textOf(waited), /Still PENDING_APPROVAL after 1 s of waiting for ACTIVE/);
    // Waiting for a state a finished sandbox can never reach is an error, at once.
    await call('destroy_sandbox', { sandbox_id: id });
    const never = await call('wait_for_sandbox', { sandbox_id: id, timeout_seconds: 60 });
    assert.equal(never.isError, true);
    assert.match(textOf(never), /\[CANCELLED\].*never reach ACTIVE/);
  });

  it('when /mcp is called without a valid token, then the connection is refused with 401', async () => {
    await assert.rejects(connect(t.url), /401|Missing bearer token/);
    await assert.rejects(connect(t.url, 'wrong-token-0123456789abcdef'), /401|not valid/);
  });
});

describe('MCP run_test that outlasts the call', () => {
  it('when a test run takes longer than the call waits, then the agent is told it goes on and where its result will be, and it lands there', async () => {
    const tester = new GatedSmokeTester();
    const t = await startTestApp({ env: { API_TOKENS }, overrides: { smokeTester: tester } });
    const client = await connect(t.url, AGENT);
    const call = async (name: string, args: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult;
    try {
      const created = await call('create_sandbox', { name: 'slow-test' });
      const id = SandboxStatusView.parse(created.structuredContent).id;
      const approve = await callApi(t.url, 'POST', '/approve', { token: BOSS, query: { approval_id: id } });
      assert.equal(approve.status, 200, detailOf(approve));
      await call('wait_for_sandbox', { sandbox_id: id, timeout_seconds: 30 });

      const cut = await call('run_test', { sandbox_id: id, timeout_seconds: 1 });
      assert.equal(cut.isError, undefined, textOf(cut));
      assert.match(
        textOf(cut),
        new RegExp(
          `smoke is still running on slow-test after 1 s; it goes on\\. Its result will be last_test in get_sandbox_status for sandbox_id "${id}"`,
        ),
      );
      const again = await call('run_test', { sandbox_id: id });
      assert.equal(again.isError, true);
      assert.match(textOf(again), /already in progress/);

      tester.open();
      await waitFor(async () => {
        const status = await call('get_sandbox_status', { sandbox_id: id });
        return SandboxStatusView.parse(status.structuredContent).last_test?.status === 'PASSED';
      }, 'the run that went on to be the last_test');
    } finally {
      await client.close();
      await t.stop();
    }
  });
});
