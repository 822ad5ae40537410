import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SandboxStatusView, TestResultView } from '../../../src/core/api-view.js';
import { createFakeK3d, type FakeK3d } from '../../fakes/k3d/fake-k3d.js';
import { createFakeKubectl, type FakeKubectl } from '../../fakes/kubectl/fake-kubectl.js';
import { type BotProcess, MAIN, startBotProcess } from '../../helpers/bot-process.js';
import { waitFor } from '../../helpers/core-fixture.js';
import { callApi, detailOf } from '../../helpers/http-client.js';

const BOSS = 'boss-token-0123456789abcd';

const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');

/**
 * Two processes on one DATA_DIR, as on a workstation: `serve` (the REST API used to approve, and the one
 * process that provisions) and `mcp` on stdio, spawned by the agent's MCP client.
 */
describe('MCP over stdio', () => {
  let k3d: FakeK3d;
  let kubectl: FakeKubectl;
  let bot: BotProcess;
  let dir: string;
  let client: Client;
  let mcpStderr = '';
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;

  before(async () => {
    k3d = createFakeK3d();
    kubectl = createFakeKubectl({ stateDir: k3d.stateDir });
    dir = await mkdtemp(path.join(tmpdir(), 'sandbox-mcp-stdio-'));
    const shared = {
      ...k3d.env,
      ...kubectl.env,
      DATA_DIR: dir,
      K3D_BIN: k3d.binPath,
      DOCKER_BIN: k3d.dockerBinPath,
      KUBECTL_BIN: kubectl.binPath,
    };
    bot = await startBotProcess({
      ...shared,
      API_TOKENS: `boss:${BOSS}:approver`,
      SANDBOX_AUTO_SMOKE_TEST: 'false',
    });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', MAIN, 'mcp', '--as', 'test-agent', '--admin'],
      env: { ...(process.env as Record<string, string>), ...shared, LOG_LEVEL: 'info' },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      mcpStderr += chunk.toString();
    });
    client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
    await client.connect(transport);
  });
  after(async () => {
    await client?.close();
    await bot?.stop();
    kubectl?.cleanup();
    k3d?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('when the tools are listed over stdio, then they are the sandbox tools without approve, and stdout carried only protocol', async () => {
    const { tools } = await client.listTools();
    assert.equal(tools.length, 8);
    assert.ok(!tools.some((tool) => /approve/.test(tool.name)));
    // The process logged, to stderr only (a log line on stdout would have broken the protocol above).
    await waitFor(() => /MCP server on stdio/.test(mcpStderr), 'the start-up log line on stderr');
  });

  it('when an agent creates over stdio and a human approves through REST, then it waits to ACTIVE, reads the kubeconfig and runs the smoke test', async () => {
    const created = await call('create_sandbox', { name: 'stdio-box', owner: 'U0ALICE' });
    assert.equal(created.isError, undefined, textOf(created));
    const view = SandboxStatusView.parse(created.structuredContent);
    assert.equal(view.status, 'PENDING_APPROVAL');
    // Who asked and for whom, for the approval message.
    assert.equal(view.requested_by, 'mcp:test-agent');
    assert.equal(view.owner, 'U0ALICE');
    assert.equal(view.requested_via, 'mcp');

    const pending = await call('get_sandbox_status', { sandbox_id: view.id });
    assert.equal(SandboxStatusView.parse(pending.structuredContent).status, 'PENDING_APPROVAL');

    // The other process sees the request in the shared database and approves it; it also provisions.
    const approved = await callApi(bot.url, 'POST', '/approve', {
      token: BOSS,
      query: { approval_id: view.id },
    });
    assert.equal(approved.status, 200, detailOf(approved));

    const active = await call('wait_for_sandbox', { sandbox_id: view.id, timeout_seconds: 90 });
    assert.equal(active.isError, undefined, `${textOf(active)}\n${bot.output()}`);
    assert.equal(SandboxStatusView.parse(active.structuredContent).status, 'ACTIVE');

    // The local identity is admin-equivalent, so it may read a kubeconfig owned by U0ALICE.
    const kubeconfig = await call('get_kubeconfig', { sandbox_id: view.id });
    assert.equal(kubeconfig.isError, undefined, textOf(kubeconfig));
    const key = k3d.cluster('sbx-stdio-box')?.kubeconfig.clientKeyData ?? 'missing';
    assert.match(textOf(kubeconfig), new RegExp(`client-key-data: ${key}`));
    assert.ok(!mcpStderr.includes(key), 'the kubeconfig never reaches the log');

    const tested = await call('run_test', { sandbox_id: view.id, test_id: 'smoke' });
    assert.equal(tested.isError, undefined, `${textOf(tested)}\n${mcpStderr}`);
    const result = TestResultView.parse(tested.structuredContent);
    assert.equal(result.status, 'PASSED', textOf(tested));
    assert.ok(kubectl.calls().length > 0, 'the smoke test ran (fake) kubectl from the MCP process');
    // Only the serve process created the cluster.
    assert.equal(k3d.calls().filter((c) => c.command === 'cluster create').length, 1);
  });

  it('when a tool fails over stdio, then the result is isError with the actionable text', async () => {
    const bad = await call('create_sandbox', { name: 'x', servers: 9 });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /must be at most 3/);
  });
});
