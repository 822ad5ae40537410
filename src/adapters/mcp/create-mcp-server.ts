import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { packageVersion } from '../../lib/version.js';
import type { McpDeps } from './mcp-deps.js';
import { registerCreateSandbox } from './tools/create-sandbox.js';
import { registerDestroySandbox } from './tools/destroy-sandbox.js';
import { registerExtendSandbox } from './tools/extend-sandbox.js';
import { registerGetKubeconfig } from './tools/get-kubeconfig.js';
import { registerGetSandboxStatus } from './tools/get-sandbox-status.js';
import { registerListSandboxes } from './tools/list-sandboxes.js';
import { registerRunTest } from './tools/run-test.js';
import { registerWaitForSandbox } from './tools/wait-for-sandbox.js';

/**
 * The MCP server for one caller: every tool acts as `deps.actor`. There is deliberately no approve tool; a
 * human decides in Slack (or through the REST /approve endpoint).
 */
export function createMcpServer(deps: McpDeps): McpServer {
  const server = new McpServer(
    { name: 'k3d-sandbox-bot', version: packageVersion() },
    {
      instructions:
        'Ephemeral k3d Kubernetes sandboxes behind a human approval. create_sandbox returns PENDING_APPROVAL; a human approves in Slack; wait_for_sandbox until ACTIVE; then get_kubeconfig and run_test. Destroy sandboxes you no longer need.',
    },
  );
  for (const register of [
    registerCreateSandbox,
    registerGetSandboxStatus,
    registerWaitForSandbox,
    registerListSandboxes,
    registerGetKubeconfig,
    registerRunTest,
    registerExtendSandbox,
    registerDestroySandbox,
  ]) {
    register(server, deps);
  }
  return server;
}
