import type { TestResultSummary } from '../../../core/events.js';
import { formatDuration, type Sandbox } from '../../../core/sandbox.js';
import {
  codeBlock,
  escapeText,
  type KnownBlock,
  LIMITS,
  plural,
  type RenderedMessage,
  section,
  truncate,
} from './text.js';

/** `850ms`, `12.3s`, `2m` */
export function stepDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return formatDuration(ms);
}

const MAX_FAILURE_DETAILS = 3;

/**
 * One message for a test run: a line per step (✅/❌, name, duration), the verdict, and the stderr tail of
 * failed steps in code blocks. Long suites are cut to stay within Block Kit's limits.
 */
export function renderTestResult(sandbox: Sandbox, result: TestResultSummary): RenderedMessage {
  const total = result.finishedAt - result.startedAt;
  const passedSteps = result.steps.filter((s) => s.passed).length;
  const verdict = result.passed ? ':white_check_mark: *passed*' : ':x: *failed*';
  const blocks: KnownBlock[] = [
    section(
      `:test_tube: Test suite *${escapeText(result.suite)}* on *${sandbox.name}*: ${verdict} (${passedSteps}/${result.steps.length} steps, ${stepDuration(total)})`,
    ),
  ];

  const lines: string[] = [];
  let length = 0;
  for (const [i, step] of result.steps.entries()) {
    const line = `${step.passed ? ':white_check_mark:' : ':x:'} ${truncate(escapeText(step.name), 120)} — ${stepDuration(step.durationMs)}`;
    if (length + line.length + 40 > LIMITS.sectionText) {
      lines.push(`…and ${plural(result.steps.length - i, 'more step')}`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  if (lines.length > 0) blocks.push(section(lines.join('\n')));

  const failed = result.steps.filter((s) => !s.passed && s.detail?.trim());
  for (const step of failed.slice(0, MAX_FAILURE_DETAILS)) {
    blocks.push(
      section(`*${truncate(escapeText(step.name), 120)}* said:\n${codeBlock(step.detail ?? '', 2000)}`),
    );
  }
  if (failed.length > MAX_FAILURE_DETAILS) {
    blocks.push(section(`…and the output of ${failed.length - MAX_FAILURE_DETAILS} more failed steps.`));
  }
  return {
    text: `Test suite ${result.suite} on ${sandbox.name}: ${result.passed ? 'passed' : 'failed'}`,
    blocks,
  };
}
