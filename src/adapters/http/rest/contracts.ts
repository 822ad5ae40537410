import { z } from 'zod';
import {
  apiCreateRequestShape,
  SandboxStatusView,
  sandboxIdSchema,
  TestResultView,
} from '../../../core/api-view.js';
import { SANDBOX_STATUSES, type SandboxLimits } from '../../../core/sandbox.js';

/**
 * The REST API's routes as data: paths, methods, inputs and outputs of the original server, apart from the
 * handlers. The router mounts them, the manifest describes them, the contract tests check responses with them.
 */
export interface RouteContract {
  /** The operation's name in the manifest (the original MCP proxy's tool name). */
  name: string;
  method: 'get' | 'post';
  /** An express path. */
  path: string;
  summary: string;
  /** Who may call it, in words. */
  roles: string;
  /** True when the call only files a request that a human approver must decide. */
  requiresApproval: boolean;
  /** False only for the manifest, which holds nothing secret. */
  authenticated: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodObject;
  response: z.ZodType;
}

// Response bodies that do not depend on the configured limits; the CLI reads answers with them too.
export const CreateSandboxResponse = z.object({
  sandbox_id: z.string(),
  approval_id: z.string(),
  status: z.literal('PENDING_APPROVAL'),
  name: z.string(),
  owner: z.string(),
  requested_by: z.string(),
});
export const ApproveResponse = z.object({
  status: z.literal('APPROVED'),
  sandbox_id: z.string(),
  approved_by: z.string(),
  /** Where the sandbox is now: QUEUED, or further along if the provisioner was quick. */
  sandbox_status: z.enum(SANDBOX_STATUSES),
});
export const KubeconfigResponse = z.object({ kubeconfig: z.string() });
/** DESTROYING for an active sandbox, CANCELLED for a request that had no cluster yet. */
export const DestroyResponse = z.object({ sandbox_id: z.string(), status: z.enum(SANDBOX_STATUSES) });

const unknownFields = (accepted: string[]) => (issue: { code: string; keys?: string[] }) =>
  issue.code === 'unrecognized_keys'
    ? `unknown field(s) ${issue.keys?.join(', ')}; accepted: ${accepted.join(', ')}`
    : undefined;

const requiredId = (what: string) =>
  z
    .string({ error: `is required: ${what}` })
    .trim()
    .min(1, `is required: ${what}`)
    .max(64, 'is too long');

export function restContracts(limits: SandboxLimits) {
  const createShape = apiCreateRequestShape(limits);
  const createFields = Object.keys(createShape);
  return {
    manifest: {
      name: 'mcp_manifest',
      method: 'get',
      path: '/.well-known/mcp-manifest',
      summary: 'This manifest: the operations, their inputs and outputs, and which need approval.',
      roles: 'anyone',
      requiresApproval: false,
      authenticated: false,
      response: z.object({
        name: z.string(),
        version: z.string(),
        description: z.string(),
        mcp_endpoint: z.string(),
        authentication: z.object({ type: z.literal('bearer'), header: z.string(), required: z.boolean() }),
        tools: z.array(
          z.object({
            name: z.string(),
            description: z.string(),
            method: z.enum(['GET', 'POST']),
            path: z.string(),
            inputs_in: z.array(z.enum(['path', 'query', 'body'])),
            roles: z.string(),
            requires_approval: z.boolean(),
            input_schema: z.record(z.string(), z.unknown()),
            output_schema: z.record(z.string(), z.unknown()),
          }),
        ),
      }),
    },
    createSandbox: {
      name: 'create_sandbox',
      method: 'post',
      path: '/create_sandbox',
      summary:
        'Asks for a sandbox cluster. Returns at once with PENDING_APPROVAL; a human approver decides in Slack or through /approve.',
      roles: 'requester, approver, admin',
      requiresApproval: true,
      authenticated: true,
      body: z.strictObject(createShape, { error: unknownFields(createFields) }),
      response: CreateSandboxResponse,
    },
    approve: {
      name: 'approve',
      method: 'post',
      path: '/approve',
      summary:
        'Approves a pending request, which queues it for creation. Approvers and admins only, never on their own request.',
      roles: 'approver, admin',
      requiresApproval: false,
      authenticated: true,
      query: z.object({
        approval_id: requiredId('the approval_id that /create_sandbox returned (or the sandbox_id)'),
        approver: z
          .string({ error: 'must be a name like alice' })
          .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'must be a name like alice (letters, digits, . _ @ -)')
          .optional()
          .describe(
            'Who approves. With API tokens the token decides and this is only recorded; without tokens it is the approver (as api:<approver>).',
          ),
      }),
      response: ApproveResponse,
    },
    getSandboxStatus: {
      name: 'get_sandbox_status',
      method: 'get',
      path: '/get_sandbox_status/:id',
      summary: 'The state of one sandbox, its size, owner, expiry, failure reason and last test result.',
      roles: 'its owner or requester, approvers, admins',
      requiresApproval: false,
      authenticated: true,
      params: z.object({ id: sandboxIdSchema }),
      response: SandboxStatusView,
    },
    getKubeconfig: {
      name: 'get_kubeconfig',
      method: 'get',
      path: '/get_kubeconfig/:id',
      summary: 'The admin kubeconfig of an ACTIVE sandbox. Its owner and admins only; every read is audited.',
      roles: 'its owner, admins',
      requiresApproval: false,
      authenticated: true,
      params: z.object({ id: sandboxIdSchema }),
      response: KubeconfigResponse,
    },
    runTest: {
      name: 'run_test',
      method: 'post',
      path: '/run_test',
      summary:
        'Runs a smoke-test suite against an ACTIVE sandbox and returns the result when it has finished.',
      roles: 'its owner or requester, approvers, admins',
      requiresApproval: false,
      authenticated: true,
      body: z.strictObject(
        {
          sandbox_id: sandboxIdSchema,
          test_id: z
            .string({ error: 'must be the name of a test suite, like smoke' })
            .trim()
            .min(1, 'must be the name of a test suite, like smoke')
            .default('smoke')
            .describe('The suite to run; default smoke'),
        },
        { error: unknownFields(['sandbox_id', 'test_id']) },
      ),
      response: TestResultView,
    },
    destroySandbox: {
      name: 'destroy_sandbox',
      method: 'post',
      path: '/destroy_sandbox',
      summary:
        'Destroys an ACTIVE sandbox (status DESTROYING, then DESTROYED), or cancels a request that has no cluster yet (CANCELLED).',
      roles: 'its owner or requester, admins',
      requiresApproval: false,
      authenticated: true,
      // The original took sandbox_id in the query or in a JSON body; both are accepted.
      query: z.object({ sandbox_id: sandboxIdSchema.optional() }),
      body: z.strictObject(
        { sandbox_id: sandboxIdSchema.optional() },
        { error: unknownFields(['sandbox_id']) },
      ),
      response: DestroyResponse,
    },
    listActiveSandboxes: {
      name: 'list_active_sandboxes',
      method: 'get',
      path: '/list_active_sandboxes',
      summary:
        'Sandboxes that are not finished (waiting, queued, creating, active, being destroyed), newest first; requesters see their own.',
      roles: 'everyone (filtered to what the caller may see)',
      requiresApproval: false,
      authenticated: true,
      response: z.array(SandboxStatusView),
    },
  } satisfies Record<string, RouteContract>;
}

export type RestContracts = ReturnType<typeof restContracts>;
