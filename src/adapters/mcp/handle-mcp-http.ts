import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Actor } from '../../core/policy.js';
import type { Logger } from '../../core/ports.js';

export type McpHttpHandler = (req: IncomingMessage, res: ServerResponse, actor: Actor) => Promise<void>;

/**
 * Streamable HTTP in stateless mode: a fresh server and transport per POST, acting as the caller the HTTP
 * door authenticated. The transport reads the request body itself, so no body parser runs before it.
 */
export function createMcpHttpHandler(serverFor: (actor: Actor) => McpServer, logger: Logger): McpHttpHandler {
  return async (req, res, actor) => {
    const server = serverFor(actor);
    // No sessionIdGenerator: stateless mode (the SDK's examples spell it `sessionIdGenerator: undefined`).
    const transport = new StreamableHTTPServerTransport({});
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (error) {
      logger.error({ err: error }, 'MCP request failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32603, message: "Internal error; the bot's log has the details." },
            id: null,
          }),
        );
      }
    }
  };
}
