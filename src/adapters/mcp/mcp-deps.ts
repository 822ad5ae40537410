import type { Actor } from '../../core/policy.js';
import type { Logger } from '../../core/ports.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import type { TestRuns } from '../../core/test-runs.js';

/** What the MCP tools need: the core, and who is calling (a token's identity, or the local stdio user). */
export interface McpDeps {
  service: SandboxService;
  tests: TestRuns;
  actor: Actor;
  logger: Logger;
  /** How long a request may wait for a decision before it is cancelled (SANDBOX_APPROVAL_TIMEOUT). */
  approvalTimeoutMs: number;
}
