import type { SandboxEvent } from '../../../core/events.js';
import { formatDuration } from '../../../core/sandbox.js';
import { renderRequester } from './approval-message.js';
import { botNote, escapeText, inSeconds, nodes, slackDate, truncate, who } from './text.js';

/**
 * One concise line per event for the audit channel: who, what, which sandbox, outcome. Never a kubeconfig,
 * never a token; free text (reasons, tool output) is escaped and cut short.
 */
export function renderAuditLine(event: SandboxEvent): string {
  const s = event.sandbox;
  const name = `*${s.name}*`;
  const of = `${name} of ${who(s.owner)}`;
  const short = (text: string | null | undefined, max = 200) => (text ? truncate(escapeText(text), max) : '');
  const line = (() => {
    switch (event.type) {
      case 'requested':
        return `:inbox_tray: ${renderRequester(s)} requested ${name} (${nodes(s)}, ${formatDuration(s.ttlMs)})`;
      case 'approved':
        return `:white_check_mark: ${who(s.decidedBy)} approved ${of}; queue position ${event.queuePosition}`;
      case 'denied':
        return `:no_entry: ${who(s.decidedBy)} denied ${of}${s.decisionNote ? `: ${short(s.decisionNote)}` : ''}`;
      case 'cancelled':
        return `:heavy_multiplication_x: ${who(event.actor)} cancelled ${of}${s.decisionNote ? `: ${botNote(s.decisionNote, 200)}` : ''}`;
      case 'creating':
        return `:construction: creating ${of} (attempt ${s.createAttempts})`;
      case 'waitingForDocker':
        return `:hourglass_flowing_sand: ${of} waits in the queue: the Docker daemon does not answer`;
      case 'ready':
        return `:rocket: ${of} is ready after ${inSeconds(event.durationMs)}`;
      case 'clusterStopped':
        return `:double_vertical_bar: the cluster of ${of} is stopped, so its API does not answer: \`k3d cluster start ${s.clusterName}\` starts it`;
      case 'clusterRunning':
        return `:arrow_forward: the cluster of ${of} runs again`;
      case 'failed':
        return `:red_circle: ${of} failed: ${short(s.failureReason)}`;
      case 'extended':
        return `:hourglass: ${who(event.actor)} extended ${of}${s.expiresAt === null ? '' : ` until ${slackDate(s.expiresAt)}`}`;
      case 'expiring':
        return `:alarm_clock: warned ${who(s.owner)} that ${name} expires${s.expiresAt === null ? '' : ` ${slackDate(s.expiresAt)}`}`;
      case 'destroying':
        return `:wastebasket: ${who(event.actor)} is destroying ${of}${s.destroyReason ? ` (${botNote(s.destroyReason, 200)})` : ''}`;
      case 'destroyFailed':
        return `:warning: deleting ${of} failed (attempt ${event.attempt}): ${short(event.error)}`;
      case 'destroyed':
        return `:white_circle: ${of} destroyed${s.destroyReason ? ` (${botNote(s.destroyReason, 200)})` : ''}`;
      case 'testFinished':
        return `:test_tube: ${who(event.actor)} ran the test suite ${short(event.result.suite, 50)} on ${name}: ${event.result.passed ? 'passed' : 'failed'}`;
    }
  })();
  return `${line} · \`${s.id}\``;
}
