import type { Logger } from '../../core/ports.js';

/** How long an event id is remembered, and how many are at most. */
const REMEMBER_MS = 3_600_000;
const MAX_REMEMBERED = 10_000;

/**
 * Slack redelivers an event it thinks failed (same `event_id`, `X-Slack-Retry-Num`), and Bolt does not
 * dedupe. Returns a check that is true for an event id seen in the last hour (and logs the skip); button
 * clicks need no dedupe (the core's compare-and-set makes a repeat lose).
 */
export function eventRepeats(logger: Logger): (eventId: string) => boolean {
  const seen = new Map<string, number>();
  return (eventId) => {
    const now = Date.now();
    for (const [id, at] of seen) {
      if (seen.size <= MAX_REMEMBERED && now - at < REMEMBER_MS) break;
      seen.delete(id);
    }
    if (seen.has(eventId)) {
      logger.info({ eventId }, 'skipped a repeated delivery of a Slack event');
      return true;
    }
    seen.set(eventId, now);
    return false;
  };
}
