import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import cron from 'node-cron';
import { z } from 'zod';
import { maxNameLength, parseDuration } from './core/sandbox.js';

/** The one reader of the environment. Every variable is documented in README.md and .env.example. */

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; use e.g. 90m, 4h or 1d` });
        return z.NEVER;
      }
      return ms;
    });

/** A lifetime the core counts in minutes (a sandbox's TTL, an extension): whole minutes, at least 1m. */
const minutes = (fallback: string) =>
  duration(fallback).refine(
    (ms) => ms % 60_000 === 0,
    'must be whole minutes, at least 1m, like 90m, 4h or 1d (seconds are not accepted)',
  );

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const int = (fallback: number, min: number, max: number) => wholeNumber(min, max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const idList = (pattern: RegExp, example: string) =>
  z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(pattern, `each entry must look like ${example}`)));

const API_ROLES = ['requester', 'approver', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];
export interface ApiToken {
  name: string;
  token: string;
  role: ApiRole;
}

/** `name:token:role` entries separated by commas or newlines; `@/path/file` reads them from a file. */
const apiTokens = z
  .string()
  .default('')
  .transform((text, ctx): ApiToken[] => {
    let source = text.trim();
    if (source.startsWith('@')) {
      try {
        source = readFileSync(source.slice(1), 'utf8');
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `cannot read ${source.slice(1)}: ${(error as Error).message}`,
        });
        return [];
      }
    }
    const tokens: ApiToken[] = [];
    const entries = source
      .split(/[,\n]/)
      .map((e) => e.trim())
      .filter((e) => e && !e.startsWith('#'));
    for (const [index, entry] of entries.entries()) {
      // Entries are named by position, never by their text: a pasted bare token would be printed to the log.
      const parts = entry.split(':');
      const [name = '', token = '', role = ''] = parts;
      const problems =
        parts.length !== 3
          ? [`must be name:token:role, but has ${parts.length} part(s)`]
          : [
              ...(/^[a-z0-9][a-z0-9._-]*$/i.test(name)
                ? []
                : ['the name must be letters, digits, ".", "_" or "-"']),
              ...(token.length < 16 ? ['the token must be at least 16 characters'] : []),
              // An Authorization header carries no whitespace inside its token, so such a token never matches.
              ...(/\s/.test(token) ? ['the token must not contain spaces or tabs'] : []),
              ...(API_ROLES.includes(role as ApiRole)
                ? []
                : [`the role must be one of ${API_ROLES.join(', ')}`]),
            ];
      if (problems.length > 0) {
        ctx.addIssue({
          code: 'custom',
          // By position only: an entry written token:name:role would put its token in the name's place.
          message: `entry ${index + 1}: ${problems.join('; ')}`,
        });
        continue;
      }
      tokens.push({ name, token, role: role as ApiRole });
    }
    return tokens;
  });

const EnvSchema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  K3D_BIN: z.string().min(1).default('k3d'),
  KUBECTL_BIN: z.string().min(1).default('kubectl'),
  DOCKER_BIN: z.string().min(1).default('docker'),
  SANDBOX_CLUSTER_PREFIX: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{0,15}$/,
      'must be 1-16 lowercase letters, digits or "-", starting with a letter or digit',
    )
    .default('sbx-'),
  SANDBOX_API_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_API_PORT_RANGE: z
    .string()
    .default('6550-6999')
    .transform((text, ctx) => {
      const match = /^(\d+)-(\d+)$/.exec(text.trim());
      const from = Number(match?.[1]);
      const to = Number(match?.[2]);
      if (!match || from < 1024 || to > 65535 || from > to) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be FROM-TO with 1024 <= FROM <= TO <= 65535, e.g. 6550-6999',
        });
        return z.NEVER;
      }
      return { from, to };
    }),
  SANDBOX_ENCRYPTION_KEY: z
    .string()
    .transform((text) => Buffer.from(text.trim(), 'base64'))
    .refine((key) => key.length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  SANDBOX_MAX_SERVERS: int(3, 1, 9),
  SANDBOX_MAX_AGENTS: int(3, 0, 20),
  SANDBOX_DEFAULT_TTL: minutes('2h'),
  SANDBOX_MAX_TTL: minutes('24h'),
  SANDBOX_MAX_LIFETIME: duration('72h'),
  SANDBOX_MAX_PER_USER: int(3, 1, 1000),
  SANDBOX_MAX_TOTAL: int(20, 1, 10000),
  // Unset: three times SANDBOX_MAX_PER_USER (see loadConfig).
  SANDBOX_MAX_REQUESTS_PER_HOUR: wholeNumber(1, 100000).optional(),
  SANDBOX_PROVISION_CONCURRENCY: int(2, 1, 32),
  SANDBOX_CREATE_TIMEOUT: duration('10m'),
  SANDBOX_SWEEP_SCHEDULE: z
    .string()
    .default('* * * * *')
    .refine(
      (v) => cron.validate(v),
      'must be a cron expression (5 fields, or 6 with seconds first), e.g. "* * * * *"',
    ),
  SANDBOX_WARN_BEFORE: duration('15m'),
  SANDBOX_EXTEND_BY: minutes('1h'),
  SANDBOX_APPROVAL_TIMEOUT: duration('24h'),
  SANDBOX_AUTO_SMOKE_TEST: bool(true),
  SANDBOX_SMOKE_IMAGE: z.string().min(1).default('nginx:alpine'),
  SANDBOX_SMOKE_SUITES_DIR: z.string().optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, 'must be a bot token starting with xoxb-')
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token starting with xapp-')
    .optional(),
  SLACK_SIGNING_SECRET: z.string().min(8, 'must be the signing secret from the app settings').optional(),
  SLACK_API_URL: z
    .url({ error: 'must be a URL like https://slack.com/api/' })
    .default('https://slack.com/api/'),
  SLACK_APPROVERS_CHANNEL: z
    .string()
    .regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C0123ABCD')
    .optional(),
  SLACK_AUDIT_CHANNEL: z
    .string()
    .regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C0123ABCD')
    .optional(),
  SLACK_APPROVERS: idList(/^[UW][A-Z0-9]+$/, 'U0123ABCD'),
  SLACK_APPROVER_GROUP: z
    .string()
    .regex(/^S[A-Z0-9]+$/, 'must be a user group id like S0123ABCD')
    .optional(),
  SLACK_ADMINS: idList(/^[UW][A-Z0-9]+$/, 'U0123ABCD'),
  SANDBOX_ALLOW_SELF_APPROVAL: bool(false),
  API_TOKENS: apiTokens,
});

/** Raised with every problem at once, one line per variable, so an operator can fix them in one go. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and validates the environment. Throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  // An empty value (`SLACK_BOT_TOKEN=` in .env) means "not set", so the default applies.
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = EnvSchema.safeParse(given);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
  // Rules across variables, checked on each variable parsed alone, so they are reported together with the
  // problems above rather than after they are fixed.
  const value = <K extends keyof typeof EnvSchema.shape>(key: K) => {
    const result = EnvSchema.shape[key].safeParse(given[key]);
    return result.success ? (result.data as z.output<(typeof EnvSchema.shape)[K]>) : undefined;
  };
  const check = (ok: boolean | undefined, problem: string) => ok === false && problems.push(problem);
  const [defaultTtl, maxTtl, maxLifetime] = [
    value('SANDBOX_DEFAULT_TTL'),
    value('SANDBOX_MAX_TTL'),
    value('SANDBOX_MAX_LIFETIME'),
  ];
  if (defaultTtl !== undefined && maxTtl !== undefined) {
    check(defaultTtl <= maxTtl, 'SANDBOX_DEFAULT_TTL: must not be longer than SANDBOX_MAX_TTL');
  }
  // Left unset, the extension is 1h or SANDBOX_MAX_TTL if that is shorter; a value the operator set must fit.
  const extendBy = value('SANDBOX_EXTEND_BY');
  if (extendBy !== undefined && maxTtl !== undefined && given.SANDBOX_EXTEND_BY !== undefined) {
    check(extendBy <= maxTtl, 'SANDBOX_EXTEND_BY: must not be longer than SANDBOX_MAX_TTL');
  }
  if (maxTtl !== undefined && maxLifetime !== undefined) {
    check(maxTtl <= maxLifetime, 'SANDBOX_MAX_TTL: must not be longer than SANDBOX_MAX_LIFETIME');
  }
  const prefix = value('SANDBOX_CLUSTER_PREFIX');
  if (prefix !== undefined) {
    check(maxNameLength(prefix) >= 8, 'SANDBOX_CLUSTER_PREFIX: leaves fewer than 8 characters for names');
  }
  if (given.SLACK_BOT_TOKEN) {
    check(
      Boolean(given.SLACK_SIGNING_SECRET || given.SLACK_APP_TOKEN),
      'SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
    check(Boolean(given.SLACK_APPROVERS_CHANNEL), 'SLACK_APPROVERS_CHANNEL: required with SLACK_BOT_TOKEN');
    check(
      Boolean(given.SLACK_APPROVERS || given.SLACK_APPROVER_GROUP),
      'SLACK_APPROVERS: name at least one approver (or set SLACK_APPROVER_GROUP) so requests can be decided',
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;

  const dataDir = path.resolve(e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseFile: path.join(dataDir, 'sandbox-bot.db'),
    logLevel: e.LOG_LEVEL,
    k3dBin: e.K3D_BIN,
    kubectlBin: e.KUBECTL_BIN,
    /** Removes the Docker network and volume k3d leaves behind; without it they leak (and are logged). */
    dockerBin: e.DOCKER_BIN,
    encryptionKey: e.SANDBOX_ENCRYPTION_KEY,
    sandbox: {
      clusterPrefix: e.SANDBOX_CLUSTER_PREFIX,
      apiHost: e.SANDBOX_API_HOST,
      apiPortRange: e.SANDBOX_API_PORT_RANGE,
      maxServers: e.SANDBOX_MAX_SERVERS,
      maxAgents: e.SANDBOX_MAX_AGENTS,
      defaultTtlMs: e.SANDBOX_DEFAULT_TTL,
      maxTtlMs: e.SANDBOX_MAX_TTL,
      maxLifetimeMs: e.SANDBOX_MAX_LIFETIME,
      maxPerUser: e.SANDBOX_MAX_PER_USER,
      maxTotal: e.SANDBOX_MAX_TOTAL,
      // Each live sandbox may be withdrawn or denied, and asked for again, twice an hour.
      maxRequestsPerHour: e.SANDBOX_MAX_REQUESTS_PER_HOUR ?? 3 * e.SANDBOX_MAX_PER_USER,
      extendByMs: Math.min(e.SANDBOX_EXTEND_BY, e.SANDBOX_MAX_TTL),
      allowSelfApproval: e.SANDBOX_ALLOW_SELF_APPROVAL,
      provisionConcurrency: e.SANDBOX_PROVISION_CONCURRENCY,
      createTimeoutMs: e.SANDBOX_CREATE_TIMEOUT,
    },
    jobs: {
      sweepSchedule: e.SANDBOX_SWEEP_SCHEDULE,
      warnBeforeMs: e.SANDBOX_WARN_BEFORE,
      approvalTimeoutMs: e.SANDBOX_APPROVAL_TIMEOUT,
    },
    smoke: {
      autoRun: e.SANDBOX_AUTO_SMOKE_TEST,
      image: e.SANDBOX_SMOKE_IMAGE,
      suitesDir: e.SANDBOX_SMOKE_SUITES_DIR,
    },
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL,
      approversChannel: e.SLACK_APPROVERS_CHANNEL,
      auditChannel: e.SLACK_AUDIT_CHANNEL,
      approvers: e.SLACK_APPROVERS,
      approverGroup: e.SLACK_APPROVER_GROUP,
      admins: e.SLACK_ADMINS,
    },
    api: { tokens: e.API_TOKENS },
  };
}

export type Config = ReturnType<typeof loadConfig>;

/**
 * Values from a `.env` file in the working directory, under the real environment (which wins).
 * Returns a new object; process.env is not modified.
 */
export function withDotEnv(
  env: Record<string, string | undefined>,
  file = '.env',
): Record<string, string | undefined> {
  if (!existsSync(file)) return env;
  return { ...parseEnv(readFileSync(file, 'utf8')), ...env };
}
