import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { sandboxIdSchema, sandboxView } from '../../../core/api-view.js';
import { formatDuration } from '../../../core/sandbox.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool, toolResult } from '../tool-result.js';

export function registerExtendSandbox(server: McpServer, { service, tests, actor, logger }: McpDeps): void {
  const maxMinutes = Math.floor(service.options.maxTtlMs / 60_000);
  server.registerTool(
    'extend_sandbox',
    {
      title: 'Extend a sandbox',
      description: `Pushes the expiry of an ACTIVE sandbox out, never past its maximum lifetime of ${formatDuration(service.options.maxLifetimeMs)}.`,
      inputSchema: {
        sandbox_id: sandboxIdSchema,
        minutes: z
          .number()
          .int()
          .min(1)
          .max(maxMinutes)
          .optional()
          .describe(
            `Minutes to add, 1 to ${maxMinutes}; default ${formatDuration(service.options.extendByMs)}, or what the maximum lifetime leaves if less`,
          ),
      },
    },
    ({ sandbox_id, minutes }) =>
      runTool(logger, 'extend_sandbox', () => {
        const sandbox = service.extend(
          actor,
          sandbox_id,
          minutes === undefined ? undefined : minutes * 60_000,
        );
        return toolResult(
          `Sandbox ${sandbox.name} now expires at ${new Date(sandbox.expiresAt ?? 0).toISOString()}.`,
          sandboxView(sandbox, { service, tests }),
        );
      }),
  );
}
