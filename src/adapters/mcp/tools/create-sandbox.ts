import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { apiCreateRequestShape, sandboxView, toSpecInput } from '../../../core/api-view.js';
import { formatDuration } from '../../../core/sandbox.js';
import { describeForAgent } from '../describe-for-agent.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool, toolResult } from '../tool-result.js';

/**
 * create_sandbox: files a request and returns at once with PENDING_APPROVAL. A human approves it; there is
 * deliberately no tool to approve. The core records this caller as requestedBy and `owner` (if named) as owner,
 * so the approval message shows which agent asked and for whom.
 */
export function registerCreateSandbox(
  server: McpServer,
  { service, tests, actor, logger, approvalTimeoutMs }: McpDeps,
): void {
  const { maxPerUser, maxRequestsPerHour, maxTotal } = service.options;
  const perHour =
    maxRequestsPerHour === undefined
      ? ''
      : `, ${maxRequestsPerHour} requests an hour (withdrawn and denied ones included)`;
  server.registerTool(
    'create_sandbox',
    {
      title: 'Request a k3d sandbox cluster',
      description:
        'Asks for an ephemeral Kubernetes (k3d) cluster. Returns at once with status PENDING_APPROVAL and a sandbox_id: a human approver must approve the request in Slack before it is created (there is no approve tool), ' +
        `which may take minutes or hours; a request nobody decides within ${formatDuration(approvalTimeoutMs)} is cancelled. Then call wait_for_sandbox. ` +
        `Limits: ${maxPerUser} live sandboxes (pending ones included) for you and for the owner you name${perHour}, ${maxTotal} on the whole bot; a name in use by a live sandbox is refused. ` +
        'Asking again with the name of your own request files nothing: the answer gives its sandbox_id.',
      // Strict, as on REST: a mistyped field (`ttl` for `ttl_minutes`) is refused, not dropped unseen.
      inputSchema: z.strictObject(apiCreateRequestShape(service.options)),
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (args) =>
      runTool(logger, 'create_sandbox', () => {
        const { spec, onBehalfOf } = toSpecInput(args);
        const sandbox = service.request(actor, spec, { via: 'mcp', ...(onBehalfOf ? { onBehalfOf } : {}) });
        return toolResult(describeForAgent(sandbox), {
          sandbox_id: sandbox.id,
          ...sandboxView(sandbox, { service, tests }),
        });
      }),
  );
}
