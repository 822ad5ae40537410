import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { sandboxView } from '../../../core/api-view.js';
import { LIVE_STATUSES } from '../../../core/sandbox.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool, toolResult } from '../tool-result.js';

export function registerListSandboxes(server: McpServer, { service, tests, actor, logger }: McpDeps): void {
  server.registerTool(
    'list_sandboxes',
    {
      title: 'List sandboxes',
      description:
        'The sandboxes you may see, newest first: by default those not finished yet; include_finished adds destroyed, failed, denied and cancelled ones.',
      inputSchema: {
        include_finished: z.boolean().default(false).describe('Also list finished sandboxes; default false'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(200)
          .default(50)
          .describe('At most this many, 1 to 200; default 50'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ include_finished, limit }) =>
      runTool(logger, 'list_sandboxes', () => {
        const sandboxes = service.listVisible(
          actor,
          include_finished ? { limit } : { statuses: LIVE_STATUSES, limit },
        );
        const lines = sandboxes.map((s) => `- ${s.name} (${s.id}): ${s.status}, owner ${s.owner}`);
        return toolResult(
          sandboxes.length === 0
            ? 'No sandboxes to show; create_sandbox asks for one.'
            : `${sandboxes.length} sandbox(es):\n${lines.join('\n')}`,
          {
            sandboxes: sandboxes.map((s) => sandboxView(s, { service, tests })),
          },
        );
      }),
  );
}
