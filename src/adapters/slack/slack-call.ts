import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/ports.js';

/** The counter the app's metrics provide for failed Slack calls (`slack_api_errors_total{method,error}`). */
export interface SlackErrorCounter {
  inc(labels: { method: string; error: string }): void;
}

/**
 * Runs one Slack call and never throws: a failure is logged and counted, and the caller gets undefined.
 * A notification that cannot be delivered must not undo or block a state change, nor stop the next one.
 */
export type SlackCall = <T>(
  method: string,
  call: () => Promise<T>,
  context?: Record<string, unknown>,
) => Promise<T | undefined>;

/** A short, bounded label for a failed call: Slack's error code, `http_500`, `ratelimited`, `timeout`… */
export function slackErrorCode(error: unknown): string {
  const e = (error ?? {}) as {
    code?: unknown;
    data?: { error?: unknown };
    statusCode?: unknown;
    original?: { name?: unknown; message?: unknown };
  };
  switch (e.code) {
    case 'slack_webapi_platform_error':
      return typeof e.data?.error === 'string' ? e.data.error.slice(0, 64) : 'platform_error';
    case 'slack_webapi_http_error':
      return `http_${String(e.statusCode)}`;
    case 'slack_webapi_rate_limited_error':
      return 'ratelimited';
    case 'slack_webapi_request_error': {
      const original = `${String(e.original?.name)} ${String(e.original?.message)}`;
      return /abort|timeout/i.test(original) ? 'timeout' : 'request_failed';
    }
    case 'response_url_error':
      return e.statusCode === undefined
        ? 'response_url_unreachable'
        : `response_url_http_${String(e.statusCode)}`;
    default:
      return 'unexpected';
  }
}

/** What the operator can do about the failures a set-up mistake causes, said in the log line. */
const FIXES: Record<string, string> = {
  not_in_channel: 'invite the bot to the channel (/invite @the-bot in it)',
  channel_not_found: 'check the channel id; a private channel must invite the bot (/invite @the-bot in it)',
  is_archived: 'the channel is archived: unarchive it or name another',
  no_such_subteam:
    'check SLACK_APPROVER_GROUP: no such user group, or it was disabled; its members are not approvers meanwhile',
  missing_scope: "the app lacks a scope manifest.yml grants: update the app's manifest and reinstall it",
};

/**
 * How long one call waits in all for Slack's rate limits before it gives up; a minute covers a per-minute tier.
 * The WebClient rejects a 429 at once (`rejectRateLimitedCalls`) and the call waits the Retry-After Slack named:
 * a 429 then neither pauses every other call of the WebClient nor uses up the retries meant for failures.
 */
const RATE_LIMIT_WAIT_MS = 60_000;

/** How long to wait before trying a rate-limited call (HTTP 429) again: its Retry-After, at least a second. */
function retryAfterMs(error: unknown): number | undefined {
  const e = (error ?? {}) as { code?: unknown; retryAfter?: unknown };
  if (e.code !== 'slack_webapi_rate_limited_error' || typeof e.retryAfter !== 'number') return undefined;
  return Math.max(1, e.retryAfter) * 1000;
}

export function createSlackCall(deps: { slackErrors: SlackErrorCounter; logger: Logger }): SlackCall {
  return async (method, call, context = {}) => {
    let waitedMs = 0;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        const waitMs = retryAfterMs(error);
        if (waitMs !== undefined && waitedMs + waitMs <= RATE_LIMIT_WAIT_MS) {
          waitedMs += waitMs;
          await sleep(waitMs);
          continue;
        }
        const code = slackErrorCode(error);
        deps.slackErrors.inc({ method, error: code });
        const fix = FIXES[code];
        // The error's message only: request bodies (which may hold a kubeconfig) are never logged.
        deps.logger.warn(
          { ...context, method, error: code, err: error instanceof Error ? error.message : String(error) },
          fix ? `Slack call failed: ${fix}` : 'Slack call failed',
        );
        return undefined;
      }
    }
  };
}
