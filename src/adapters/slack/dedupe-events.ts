import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../../core/ports.js';

/**
 * Slack redelivers an event it thinks failed (same `event_id`, `X-Slack-Retry-Num`), and Bolt does not
 * dedupe. Events seen in the last hour are skipped; button clicks need no dedupe (the core's
 * compare-and-set makes a repeat lose).
 */
export function dedupeEvents(logger: Logger, ttlMs = 3_600_000, max = 10_000): Middleware<AnyMiddlewareArgs> {
  const seen = new Map<string, number>();
  return async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string') {
      const now = Date.now();
      for (const [id, at] of seen) {
        if (seen.size <= max && now - at < ttlMs) break;
        seen.delete(id);
      }
      if (seen.has(eventId)) {
        logger.info({ eventId }, 'skipped a repeated delivery of a Slack event');
        return;
      }
      seen.set(eventId, now);
    }
    await next();
  };
}
