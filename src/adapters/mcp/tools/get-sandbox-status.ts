import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { sandboxIdSchema, sandboxView } from '../../../core/api-view.js';
import { describeForAgent } from '../describe-for-agent.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool, toolResult } from '../tool-result.js';

export function registerGetSandboxStatus(
  server: McpServer,
  { service, tests, actor, logger }: McpDeps,
): void {
  server.registerTool(
    'get_sandbox_status',
    {
      title: 'Sandbox status',
      description:
        'The state of a sandbox (PENDING_APPROVAL, QUEUED, CREATING, ACTIVE, DESTROYING, DESTROYED, FAILED, DENIED, CANCELLED), its size, owner, expiry, failure reason and last test result.',
      inputSchema: { sandbox_id: sandboxIdSchema },
      annotations: { readOnlyHint: true },
    },
    ({ sandbox_id }) =>
      runTool(logger, 'get_sandbox_status', () => {
        const sandbox = service.view(actor, sandbox_id);
        const view = sandboxView(sandbox, { service, tests });
        return toolResult(describeForAgent(sandbox, view.problem), view);
      }),
  );
}
