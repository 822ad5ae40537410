import { setTimeout as sleep } from 'node:timers/promises';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { renderTestResult, sandboxIdSchema } from '../../../core/api-view.js';
import type { TestResultSummary } from '../../../core/events.js';
import type { McpDeps } from '../mcp-deps.js';
import {
  DEFAULT_WAIT_SECONDS,
  MAX_WAIT_SECONDS,
  runTool,
  toolResult,
  waitSecondsSchema,
} from '../tool-result.js';

/**
 * run_test: starts a run and waits a bounded time for its result. A suite can outlast a client's patience
 * (an image pull, a rollout); the run then goes on in the bot and its result becomes the sandbox's last_test.
 */
export function registerRunTest(server: McpServer, { service, tests, actor, logger }: McpDeps): void {
  server.registerTool(
    'run_test',
    {
      title: 'Run a smoke test',
      description: `Runs a test suite against an ACTIVE sandbox (one run at a time per sandbox) and returns the result, waiting at most timeout_seconds (default ${DEFAULT_WAIT_SECONDS}, max ${MAX_WAIT_SECONDS}; many MCP clients give up on a call after 60 s). A run that takes longer goes on: its result then becomes last_test in get_sandbox_status. Suites: ${tests.suites().join(', ') || 'none configured'}.`,
      inputSchema: {
        sandbox_id: sandboxIdSchema,
        test_id: z.string().trim().min(1).default('smoke').describe('The suite to run; default smoke'),
        timeout_seconds: waitSecondsSchema('the result'),
      },
    },
    ({ sandbox_id, test_id, timeout_seconds }, extra) =>
      runTool(logger, 'run_test', async () => {
        const sandbox = service.view(actor, sandbox_id);
        const { result } = tests.start(actor, sandbox.id, test_id);
        const summary = await within(result, timeout_seconds * 1000, extra.signal);
        if (summary === undefined) {
          // Nobody awaits the run any more: a tester that fails is still logged, not an unhandled rejection.
          result.catch((error: unknown) => logger.error({ err: error, tool: 'run_test' }, 'MCP tool failed'));
          return toolResult(
            `Test suite ${test_id} is still running on ${sandbox.name} after ${timeout_seconds} s; it goes on. Its result will be last_test in get_sandbox_status for sandbox_id "${sandbox.id}"; run_test is refused until it has finished.`,
          );
        }
        const view = renderTestResult(sandbox.id, summary);
        const failed = view.steps.filter((step) => !step.passed).map((step) => step.name);
        return toolResult(
          view.passed
            ? `Test suite ${test_id} PASSED on ${sandbox.name} (${view.steps.length} steps).`
            : `Test suite ${test_id} FAILED on ${sandbox.name}; failed steps: ${failed.join(', ')}.`,
          view,
        );
      }),
  );
}

/** The result, or undefined when `ms` pass or the call is cancelled first. */
async function within(
  result: Promise<TestResultSummary>,
  ms: number,
  cancelled: AbortSignal,
): Promise<TestResultSummary | undefined> {
  const settled = new AbortController();
  const timer = sleep(ms, undefined, { signal: AbortSignal.any([settled.signal, cancelled]) }).catch(
    () => {},
  );
  try {
    return await Promise.race([result, timer.then(() => undefined)]);
  } finally {
    settled.abort();
  }
}
