import type { SandboxStatusView } from '../core/api-view.js';
import {
  formatDuration,
  isFinal,
  parseDuration,
  SANDBOX_STATUSES,
  type SandboxStatus,
} from '../core/sandbox.js';
import type { ApiClient } from './api-client.js';
import { type CliIo, UsageError } from './cli-command.js';

export interface WaitOptions {
  until: readonly SandboxStatus[];
  timeoutMs: number;
  intervalMs: number;
  io: CliIo;
  sleep: (ms: number) => Promise<void>;
  /** Extra words for a state, e.g. how to approve while PENDING_APPROVAL. */
  hint?: (view: SandboxStatusView) => string | undefined;
}

export type WaitOutcome =
  | { outcome: 'reached'; view: SandboxStatusView }
  | { outcome: 'finished'; view: SandboxStatusView }
  | { outcome: 'timeout'; view: SandboxStatusView };

const HEARTBEAT_MS = 30_000;

/**
 * Polls the sandbox until it is in one of `until`, finished in another state, or the time is up. Progress
 * goes to stderr: a line per change of state and a heartbeat while nothing changes.
 */
export async function waitForStatus(
  client: ApiClient,
  id: string,
  options: WaitOptions,
): Promise<WaitOutcome> {
  const { until, timeoutMs, intervalMs, io, sleep } = options;
  const started = Date.now();
  let lastSeen: string | undefined;
  let lastLine = started;
  for (;;) {
    const view = await client.status(id);
    const elapsed = Date.now() - started;
    // A problem that starts or ends (the Docker daemon down, the cluster stopped) is news as much as a new state.
    const seen = `${view.status} ${view.problem}`;
    if (seen !== lastSeen) {
      const hint = options.hint?.(view);
      io.stderr(`[${formatDuration(elapsed)}] ${view.name}: ${view.status}${hint ? ` - ${hint}` : ''}\n`);
      lastSeen = seen;
      lastLine = Date.now();
    } else if (Date.now() - lastLine >= HEARTBEAT_MS) {
      io.stderr(`[${formatDuration(elapsed)}] ${view.name}: still ${view.status}\n`);
      lastLine = Date.now();
    }
    if (until.includes(view.status)) return { outcome: 'reached', view };
    if (isFinal(view.status)) return { outcome: 'finished', view };
    if (elapsed >= timeoutMs) return { outcome: 'timeout', view };
    await sleep(Math.min(intervalMs, timeoutMs - elapsed));
  }
}

/** `--timeout`: a duration like 90s, 10m or 1h, or a number of seconds. */
export function parseTimeout(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const ms = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined || !(ms > 0))
    throw new UsageError(`--timeout "${text}" is not a duration; use e.g. 90s, 10m or 1h`);
  return ms;
}

/** `--interval`: seconds between polls (fractions allowed). */
export function parseInterval(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
    throw new UsageError(`--interval "${text}" must be a number of seconds, from 0.1 to 600`);
  }
  return Math.max(100, seconds * 1000);
}

/** `--until`: comma-separated states. */
export function parseStatuses(text: string | undefined, fallback: readonly SandboxStatus[]): SandboxStatus[] {
  if (text === undefined) return [...fallback];
  const wanted = text.split(',').map((s) => s.trim().toUpperCase());
  const unknown = wanted.filter((s) => !(SANDBOX_STATUSES as readonly string[]).includes(s));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new UsageError(
      `--until "${text}": unknown state(s) ${unknown.join(', ')}; use ${SANDBOX_STATUSES.join(', ')}`,
    );
  }
  return wanted as SandboxStatus[];
}

/** What to tell a person about the state a wait is in. */
export function approvalHint(approvalId?: string) {
  return (view: SandboxStatusView): string | undefined => {
    if (view.problem) return view.problem;
    if (view.status === 'PENDING_APPROVAL') {
      return `waiting for an approver in Slack${approvalId ? ` (or: k3d-sandbox-bot approve ${approvalId} with an approver token)` : ''}`;
    }
    if (view.status === 'QUEUED') return `approved by ${view.decided_by}, waiting for a free slot`;
    if (view.status === 'CREATING') return 'k3d is creating the cluster';
    if (view.failure_reason) return view.failure_reason;
    if (view.decision_note) return view.decision_note;
    return undefined;
  };
}
