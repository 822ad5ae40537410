import { z } from 'zod';

/** Every state a sandbox can be in; the names of the original REST API plus QUEUED, DENIED and CANCELLED. */
export const SANDBOX_STATUSES = [
  'PENDING_APPROVAL',
  'QUEUED',
  'CREATING',
  'ACTIVE',
  'DESTROYING',
  'DESTROYED',
  'FAILED',
  'DENIED',
  'CANCELLED',
] as const;
export type SandboxStatus = (typeof SANDBOX_STATUSES)[number];

/**
 * States that count against a user's quota: the request is waiting, or the cluster exists or is coming. The
 * bot-wide limit counts every LIVE sandbox: a DESTROYING cluster takes the host's room until its delete succeeds.
 */
export const QUOTA_STATUSES: readonly SandboxStatus[] = ['PENDING_APPROVAL', 'QUEUED', 'CREATING', 'ACTIVE'];
/** States after which nothing more happens to a sandbox; its name may be used again. */
export const FINAL_STATUSES: readonly SandboxStatus[] = ['DESTROYED', 'FAILED', 'DENIED', 'CANCELLED'];

/** States in which a sandbox is not finished: a request waiting, or a cluster that exists or is coming or going. */
export const LIVE_STATUSES: readonly SandboxStatus[] = SANDBOX_STATUSES.filter(
  (s) => !FINAL_STATUSES.includes(s),
);

export function isFinal(status: SandboxStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export type RequestChannel = 'slack' | 'api' | 'mcp';

/** A Slack user id: whom a script or agent may name as the owner of the sandbox it asks for. */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** A sandbox as the core sees it. Times are milliseconds since the epoch. The kubeconfig is never part of it. */
export interface Sandbox {
  id: string;
  approvalId: string;
  name: string;
  clusterName: string;
  /** Who will own the cluster: a Slack user id (`U…`) or an API identity (`api:<token name>`). */
  owner: string;
  /** Who filed the request (an agent or script acting for the owner); equals owner when they asked themselves. */
  requestedBy: string;
  requestedVia: RequestChannel;
  servers: number;
  agents: number;
  ttlMs: number;
  reason: string | null;
  status: SandboxStatus;
  requestedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  decisionNote: string | null;
  creatingAt: number | null;
  readyAt: number | null;
  expiresAt: number | null;
  destroyedAt: number | null;
  warnedForExpiresAt: number | null;
  failureReason: string | null;
  destroyReason: string | null;
  createAttempts: number;
  apiPort: number | null;
  approvalMessage: { channel: string; ts: string } | null;
}

// ---------------------------------------------------------------------------------------------
// Durations

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(?:\d+[smhd])+$/;

/** Parses `90m`, `4h`, `1d`, `1h30m` into milliseconds; undefined when the text is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!DURATION_RE.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total > 0 ? total : undefined;
}

/** Renders milliseconds the way people type them: `4h`, `1h30m`, `24h`, `3d`, `45s` (days only from 48h). */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`;
  let rest = Math.round(ms / 60_000);
  const days = rest >= 48 * 60 ? Math.floor(rest / 1440) : 0;
  rest -= days * 1440;
  const hours = Math.floor(rest / 60);
  const minutes = rest - hours * 60;
  return [days && `${days}d`, hours && `${hours}h`, minutes && `${minutes}m`].filter(Boolean).join('');
}

/** `text` in milliseconds; otherwise an issue that names the accepted forms. */
function durationMs(text: string, ctx: z.RefinementCtx): number {
  const ms = parseDuration(text);
  if (ms !== undefined) return ms;
  ctx.addIssue({
    code: 'custom',
    message: `"${text}" is not a duration; use a number with s, m, h or d, like 90m, 4h or 1d`,
  });
  return z.NEVER;
}

/** A zod schema for a duration string (to milliseconds), with the accepted forms in its message. */
export const Duration = z.string({ error: 'must be a duration like 90m, 4h or 1d' }).transform(durationMs);

// ---------------------------------------------------------------------------------------------
// The request spec

/** Limits that shape what may be requested; they come from the configuration. */
export interface SandboxLimits {
  clusterPrefix: string;
  maxServers: number;
  maxAgents: number;
  defaultTtlMs: number;
  maxTtlMs: number;
}

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The longest sandbox name that still gives a k3d cluster name (prefix + name) of at most 32 characters. */
export function maxNameLength(prefix: string): number {
  return 32 - prefix.length;
}

/** Built once per prefix: commands check every name they are given, and building a schema costs more. */
const nameSchemas = new Map<string, z.ZodString>();

/** A sandbox name: a lowercase RFC 1123 label, short enough that the prefixed cluster name fits k3d's 32 characters. */
export function sandboxNameSchema(prefix: string): z.ZodString {
  let schema = nameSchemas.get(prefix);
  if (schema === undefined) {
    schema = buildNameSchema(prefix);
    nameSchemas.set(prefix, schema);
  }
  return schema;
}

function buildNameSchema(prefix: string) {
  const max = maxNameLength(prefix);
  return z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .max(max, `must be at most ${max} characters (the cluster name "${prefix}<name>" is limited to 32)`)
    .regex(
      LABEL_RE,
      'must be a lowercase RFC 1123 label: letters a-z, digits and "-", starting and ending with a letter or digit (e.g. "demo-1")',
    );
}

/**
 * A node count: a whole number, or a string of digits (slash-command text, form fields). Anything else —
 * `true`, `[2]`, `"2.5"`, `"two"` — is refused rather than coerced.
 */
function nodeCount(min: number, max: number, fallback: number) {
  const rule = `must be a whole number from ${min} to ${max}`;
  return z
    .preprocess(
      (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
      // The bounds inside the preprocess, so JSON Schema (MCP tools, the manifest) shows them as an integer range.
      z
        .number({ error: rule })
        .int(rule)
        .min(min, min === 0 ? 'must not be negative' : `must be at least ${min}`)
        .max(max, `must be at most ${max}`),
    )
    .optional()
    .transform((v) => v ?? fallback);
}

/** The spec of a sandbox request, validated against the configured limits. TTL arrives as a duration string or minutes. */
export function sandboxSpecSchema(limits: SandboxLimits) {
  const ttl = z
    .union([z.string(), z.number()], { error: 'must be a duration like 90m, 4h or 1d' })
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return limits.defaultTtlMs;
      return typeof value === 'number' ? value : durationMs(value, ctx);
    })
    .pipe(
      z
        .number()
        .int()
        .min(60_000, 'must be at least 1m')
        .max(limits.maxTtlMs, `must be at most ${formatDuration(limits.maxTtlMs)}`),
    );
  return z.strictObject(
    {
      name: sandboxNameSchema(limits.clusterPrefix),
      servers: nodeCount(1, limits.maxServers, 1),
      agents: nodeCount(0, limits.maxAgents, 0),
      ttl,
      reason: z.string().trim().max(500, 'must be at most 500 characters').optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined,
    },
  );
}
export type SandboxSpecInput = z.input<ReturnType<typeof sandboxSpecSchema>>;

/** One readable line per problem: `servers: must be at most 3; ttl: "soon" is not a duration…`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${where}${issue.message}`;
    })
    .join('; ');
}
