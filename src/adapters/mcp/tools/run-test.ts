import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { renderTestResult, sandboxIdSchema } from '../../../core/api-view.js';
import type { McpDeps } from '../mcp-deps.js';
import { runTool, toolResult } from '../tool-result.js';

export function registerRunTest(server: McpServer, { service, tests, actor, logger }: McpDeps): void {
  server.registerTool(
    'run_test',
    {
      title: 'Run a smoke test',
      description: `Runs a test suite against an ACTIVE sandbox and returns the result when it has finished. Suites: ${tests.suites().join(', ') || 'none configured'}.`,
      inputSchema: {
        sandbox_id: sandboxIdSchema,
        test_id: z.string().trim().min(1).default('smoke').describe('The suite to run; default smoke'),
      },
    },
    ({ sandbox_id, test_id }) =>
      runTool(logger, 'run_test', async () => {
        const sandbox = service.view(actor, sandbox_id);
        const result = renderTestResult(sandbox.id, await tests.run(actor, sandbox.id, test_id));
        const failed = result.steps.filter((step) => !step.passed).map((step) => step.name);
        return toolResult(
          result.passed
            ? `Test suite ${test_id} PASSED on ${sandbox.name} (${result.steps.length} steps).`
            : `Test suite ${test_id} FAILED on ${sandbox.name}; failed steps: ${failed.join(', ')}.`,
          result,
        );
      }),
  );
}
