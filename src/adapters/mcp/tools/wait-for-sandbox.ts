import { setTimeout as sleep } from 'node:timers/promises';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { sandboxIdSchema, sandboxView } from '../../../core/api-view.js';
import { isFinal, SANDBOX_STATUSES } from '../../../core/sandbox.js';
import { describeForAgent } from '../describe-for-agent.js';
import type { McpDeps } from '../mcp-deps.js';
import {
  DEFAULT_WAIT_SECONDS,
  MAX_WAIT_SECONDS,
  runTool,
  toolError,
  toolResult,
  waitSecondsSchema,
} from '../tool-result.js';

/** How often the wait looks at the database. */
const POLL_MS = 1000;

/**
 * wait_for_sandbox: a bounded wait until the sandbox reaches one of the wanted states, polling the database
 * (so it also sees changes made by another process on the same DATA_DIR). Sends progress notifications when
 * the client asked for them, so a client can keep its request timeout alive; ends early, as an error, when
 * the sandbox finished in a state it can never leave.
 */
export function registerWaitForSandbox(server: McpServer, { service, tests, actor, logger }: McpDeps): void {
  server.registerTool(
    'wait_for_sandbox',
    {
      title: 'Wait for a sandbox',
      description: `Waits until a sandbox reaches one of the given states (default ACTIVE), at most timeout_seconds (default ${DEFAULT_WAIT_SECONDS}, max ${MAX_WAIT_SECONDS}). On timeout it returns the current state; call it again to keep waiting. Many MCP clients give up on a call after 60 s, hence the default; pass more only if your client waits longer. Approval is up to a human, so PENDING_APPROVAL may last hours.`,
      inputSchema: {
        sandbox_id: sandboxIdSchema,
        until: z
          .array(z.enum(SANDBOX_STATUSES))
          .min(1)
          .default(['ACTIVE'])
          .describe('States to wait for; default ["ACTIVE"]'),
        timeout_seconds: waitSecondsSchema('one of those states'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ sandbox_id, until, timeout_seconds }, extra) =>
      runTool(logger, 'wait_for_sandbox', async () => {
        const started = Date.now();
        const deadline = started + timeout_seconds * 1000;
        const progressToken = extra._meta?.progressToken;
        for (;;) {
          const sandbox = service.view(actor, sandbox_id);
          const view = sandboxView(sandbox, { service, tests });
          if (until.includes(sandbox.status))
            return toolResult(describeForAgent(sandbox, view.problem), view);
          if (isFinal(sandbox.status)) {
            return toolError(
              `${describeForAgent(sandbox)} It will never reach ${until.join(' or ')}.` +
                (sandbox.failureReason ? ` Failure: ${sandbox.failureReason}` : ''),
            );
          }
          const now = Date.now();
          if (now >= deadline || extra.signal.aborted) {
            return toolResult(
              `Still ${sandbox.status} after ${Math.round((now - started) / 1000)} s of waiting for ${until.join(' or ')}. ${describeForAgent(sandbox, view.problem)}`,
              view,
            );
          }
          if (progressToken !== undefined) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: {
                progressToken,
                progress: Math.round((now - started) / 1000),
                total: timeout_seconds,
                message: `${sandbox.name} is ${sandbox.status}${view.problem ? `: ${view.problem}` : ''}`,
              },
            });
          }
          await sleep(Math.min(POLL_MS, deadline - now), undefined, { signal: extra.signal }).catch(() => {});
        }
      }),
  );
}
