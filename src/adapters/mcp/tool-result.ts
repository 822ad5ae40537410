import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { SandboxError } from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';

export const MAX_WAIT_SECONDS = 600;
/**
 * Under the 60 s after which MCP clients commonly give up on a call (the TypeScript SDK's default request
 * timeout): a wait that outlasts it comes back to the agent as a protocol error with nothing in it.
 */
export const DEFAULT_WAIT_SECONDS = 50;

/** The timeout_seconds argument of a tool that waits (for a state, for a test result) before it answers. */
export function waitSecondsSchema(what: string) {
  return z
    .number()
    .int()
    .min(1)
    .max(MAX_WAIT_SECONDS)
    .default(DEFAULT_WAIT_SECONDS)
    .describe(
      `How long to wait for ${what}, 1 to ${MAX_WAIT_SECONDS} seconds; default ${DEFAULT_WAIT_SECONDS}`,
    );
}

/** A successful result: a line for the model to read, and the data as JSON text and as structured content. */
export function toolResult(summary: string, data?: Record<string, unknown>): CallToolResult {
  if (data === undefined) return { content: [{ type: 'text', text: summary }] };
  return {
    content: [{ type: 'text', text: `${summary}\n\n${JSON.stringify(data, null, 2)}` }],
    structuredContent: data,
  };
}

/** A failed call the model should read and act on; the same actionable text the other doors show. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Runs a tool body, turning the core's errors into `isError` results; unknown errors are logged in full. */
export async function runTool(
  logger: Logger,
  tool: string,
  body: () => CallToolResult | Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof SandboxError) return toolError(error.message);
    logger.error({ err: error, tool }, 'MCP tool failed');
    return toolError(`Internal error: ${tool} could not be completed; the bot's log has the details.`);
  }
}
