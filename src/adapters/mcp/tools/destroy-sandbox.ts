import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { sandboxIdSchema, sandboxView } from '../../../core/api-view.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool, toolResult } from '../tool-result.js';

export function registerDestroySandbox(server: McpServer, { service, tests, actor, logger }: McpDeps): void {
  server.registerTool(
    'destroy_sandbox',
    {
      title: 'Destroy a sandbox',
      description:
        'Destroys an ACTIVE sandbox (DESTROYING, then DESTROYED), or cancels a request that has no cluster yet (CANCELLED).',
      inputSchema: { sandbox_id: sandboxIdSchema },
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    ({ sandbox_id }) =>
      runTool(logger, 'destroy_sandbox', () => {
        const sandbox = service.destroy(actor, sandbox_id, `destroyed by ${actor.id} through MCP`);
        return toolResult(
          sandbox.status === 'CANCELLED'
            ? `The request for ${sandbox.name} was cancelled before a cluster was made.`
            : `Sandbox ${sandbox.name} is being destroyed [${sandbox.status}].`,
          sandboxView(sandbox, { service, tests }),
        );
      }),
  );
}
