import { z } from 'zod';
import type { TestResultSummary } from './events.js';
import type { Problem } from './outages.js';
import {
  formatDuration,
  SANDBOX_STATUSES,
  type Sandbox,
  type SandboxLimits,
  type SandboxSpecInput,
  SLACK_USER_ID,
  sandboxSpecSchema,
} from './sandbox.js';
import type { SandboxService } from './sandbox-service.js';
import type { TestRuns } from './test-runs.js';

/**
 * How the API doors (REST, MCP, the CLI that reads REST) show a sandbox and a test result: the original REST
 * API's snake_case field names, times as ISO 8601. One schema, so the manifest, the MCP output schema, the
 * CLI's reading of responses and the contract tests agree.
 */

/**
 * The fields of a create request through the API doors (REST body, MCP tool arguments), in the original REST
 * API's words. Reuses the core's field schemas, so the limits and messages are the ones Slack users see.
 */
export function apiCreateRequestShape(limits: SandboxLimits) {
  const spec = sandboxSpecSchema(limits).shape;
  const maxMinutes = Math.floor(limits.maxTtlMs / 60_000);
  const ttlRule = `must be a whole number of minutes from 1 to ${maxMinutes}`;
  const ttlForm = `${ttlRule}, given as a JSON number or a string of digits`;
  return {
    name: spec.name.describe('Sandbox name: a lowercase RFC 1123 label such as "demo-1"'),
    servers: spec.servers.describe(`Server (control-plane) nodes, 1 to ${limits.maxServers}; default 1`),
    agents: spec.agents.describe(`Agent (worker) nodes, 0 to ${limits.maxAgents}; default 0`),
    // A string of digits is the original server's query-string form; anything else (true, [7], "0x10", "1e2")
    // is refused rather than coerced into a lifetime nobody typed.
    ttl_minutes: z
      .preprocess(
        (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
        z.number({ error: ttlForm }).int(ttlRule).min(1, ttlRule).max(maxMinutes, ttlRule),
      )
      .optional()
      .describe(
        `Minutes the sandbox lives, counted from when it is ACTIVE (then it is destroyed), 1 to ${maxMinutes}; default ${formatDuration(limits.defaultTtlMs)}`,
      ),
    owner: z
      .string({ error: 'must be a Slack user id like U0123ABCD' })
      .regex(
        SLACK_USER_ID,
        'must be a Slack user id like U0123ABCD (the person the sandbox is for); leave it out to own the sandbox yourself',
      )
      .optional()
      .describe('Slack user id (U…) of the person the sandbox is for, when asking on their behalf'),
    reason: spec.reason.describe('Why the sandbox is needed; shown to the approvers'),
  };
}

/** The `sandbox_id` argument of every API call after create (the approval id is accepted too). */
export const sandboxIdSchema = z
  .string({ error: 'is required: the sandbox_id that create_sandbox returned' })
  .trim()
  .min(1, 'is required: the sandbox_id that create_sandbox returned')
  .max(64, 'is too long for a sandbox_id')
  .describe('The sandbox_id that create_sandbox returned (e.g. sb-1a2b3c4d)');

/** Turns parsed API create fields into the core's spec and request options. */
export function toSpecInput(input: {
  name: string;
  servers?: number;
  agents?: number;
  ttl_minutes?: number | undefined;
  owner?: string | undefined;
  reason?: string | undefined;
}): { spec: SandboxSpecInput | Record<string, unknown>; onBehalfOf: string | undefined } {
  const { ttl_minutes, owner, ...rest } = input;
  return {
    spec: { ...rest, ...(ttl_minutes === undefined ? {} : { ttl: ttl_minutes * 60_000 }) },
    onBehalfOf: owner,
  };
}

const isoTime = z.iso.datetime({ offset: true });

export const TestResultView = z.object({
  sandbox_id: z.string(),
  /** The suite that ran; the original API called it test_id. */
  test_id: z.string(),
  status: z.enum(['PASSED', 'FAILED']),
  passed: z.boolean(),
  started_at: isoTime,
  finished_at: isoTime,
  duration_ms: z.number(),
  steps: z.array(
    z.object({
      name: z.string(),
      passed: z.boolean(),
      duration_ms: z.number(),
      detail: z.string().optional(),
    }),
  ),
});
export type TestResultView = z.infer<typeof TestResultView>;

export const SandboxStatusView = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(SANDBOX_STATUSES),
  created_at: isoTime,
  /** Set once the sandbox is ACTIVE; extensions move it. */
  expires_at: isoTime.nullable(),
  servers: z.number().int(),
  agents: z.number().int(),
  ttl_minutes: z.number(),
  owner: z.string(),
  requested_by: z.string(),
  requested_via: z.enum(['slack', 'api', 'mcp']),
  cluster_name: z.string(),
  reason: z.string().nullable(),
  decided_by: z.string().nullable(),
  decided_at: isoTime.nullable(),
  /** Why it was denied or cancelled. */
  decision_note: z.string().nullable(),
  ready_at: isoTime.nullable(),
  destroyed_at: isoTime.nullable(),
  failure_reason: z.string().nullable(),
  /**
   * What holds it up now outside the bot, with since when: the Docker daemon not answering (a queued sandbox waits)
   * or its cluster stopped (an active one's API does not answer). Null when the bot knows of nothing, and when
   * read from a server older than the field (the CLI may be newer than the bot it talks to).
   */
  problem: z.string().nullable().default(null),
  last_test: TestResultView.nullable(),
});
export type SandboxStatusView = z.infer<typeof SandboxStatusView>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function renderTestResult(sandboxId: string, result: TestResultSummary): TestResultView {
  return {
    sandbox_id: sandboxId,
    test_id: result.suite,
    status: result.passed ? 'PASSED' : 'FAILED',
    passed: result.passed,
    started_at: new Date(result.startedAt).toISOString(),
    finished_at: new Date(result.finishedAt).toISOString(),
    duration_ms: result.finishedAt - result.startedAt,
    steps: result.steps.map((step) => ({
      name: step.name,
      passed: step.passed,
      duration_ms: step.durationMs,
      ...(step.detail === undefined ? {} : { detail: step.detail }),
    })),
  };
}

/** A sandbox as the API doors show it: with its last test result, and what holds it up now, if anything. */
export function sandboxView(
  sandbox: Sandbox,
  { service, tests }: { service: SandboxService; tests: TestRuns },
): SandboxStatusView {
  return renderSandboxStatus(sandbox, tests.lastResult(sandbox.id), service.outages.problemOf(sandbox));
}

function renderSandboxStatus(
  sandbox: Sandbox,
  lastTest: TestResultSummary | undefined,
  problem: Problem | undefined,
): SandboxStatusView {
  return {
    id: sandbox.id,
    name: sandbox.name,
    status: sandbox.status,
    created_at: new Date(sandbox.requestedAt).toISOString(),
    expires_at: iso(sandbox.expiresAt),
    servers: sandbox.servers,
    agents: sandbox.agents,
    ttl_minutes: Math.round(sandbox.ttlMs / 60_000),
    owner: sandbox.owner,
    requested_by: sandbox.requestedBy,
    requested_via: sandbox.requestedVia,
    cluster_name: sandbox.clusterName,
    reason: sandbox.reason,
    decided_by: sandbox.decidedBy,
    decided_at: iso(sandbox.decidedAt),
    decision_note: sandbox.decisionNote,
    ready_at: iso(sandbox.readyAt),
    destroyed_at: iso(sandbox.destroyedAt),
    failure_reason: sandbox.failureReason,
    problem: problem ? `${problem.summary} (since ${new Date(problem.since).toISOString()})` : null,
    last_test: lastTest ? renderTestResult(sandbox.id, lastTest) : null,
  };
}
