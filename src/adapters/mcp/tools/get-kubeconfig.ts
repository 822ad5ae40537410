import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { sandboxIdSchema } from '../../../core/api-view.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool } from '../tool-result.js';

/** get_kubeconfig: the YAML as the only text, for the owner or an admin; the core audits the read. */
export function registerGetKubeconfig(server: McpServer, { service, actor, logger }: McpDeps): void {
  server.registerTool(
    'get_kubeconfig',
    {
      title: 'Kubeconfig of a sandbox',
      description:
        'The admin kubeconfig (YAML) of an ACTIVE sandbox; only its owner and admins may fetch it. It is a secret: save it to a file readable only by you (mode 0600) and point KUBECONFIG at it.',
      inputSchema: { sandbox_id: sandboxIdSchema },
      annotations: { readOnlyHint: true },
    },
    ({ sandbox_id }) =>
      runTool(logger, 'get_kubeconfig', () => ({
        content: [{ type: 'text', text: service.kubeconfig(actor, sandbox_id, 'mcp') }],
      })),
  );
}
