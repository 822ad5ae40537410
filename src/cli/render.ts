import type { SandboxStatusView, TestResultView } from '../core/api-view.js';
import { formatDuration } from '../core/sandbox.js';

/** Human-readable renderings of the API's answers. */

const orDash = (value: string | number | null | undefined) =>
  value === null || value === undefined ? '-' : String(value);

export function renderStatus(s: SandboxStatusView): string {
  const lines = [
    `${s.name} (${s.id}): ${s.status}`,
    ...(s.problem ? [`  problem:   ${s.problem}`] : []),
    `  size:      ${s.servers} server(s), ${s.agents} agent(s), ttl ${formatDuration(s.ttl_minutes * 60_000)}`,
    `  owner:     ${s.owner}${s.requested_by === s.owner ? '' : ` (asked by ${s.requested_by} via ${s.requested_via})`}`,
    `  created:   ${s.created_at}`,
    `  expires:   ${orDash(s.expires_at)}`,
  ];
  if (s.decided_by) lines.push(`  decided:   by ${s.decided_by} at ${orDash(s.decided_at)}`);
  if (s.decision_note) lines.push(`  note:      ${s.decision_note}`);
  if (s.failure_reason) lines.push(`  failure:   ${s.failure_reason}`);
  if (s.last_test)
    lines.push(`  last test: ${s.last_test.test_id} ${s.last_test.status} at ${s.last_test.finished_at}`);
  return lines.join('\n');
}

export function renderTest(result: TestResultView): string {
  return [
    `${result.test_id}: ${result.status} (${result.steps.length} steps, ${result.duration_ms} ms)`,
    ...result.steps.map(
      (step) =>
        `  ${step.passed ? 'ok  ' : 'FAIL'} ${step.name} (${step.duration_ms} ms)${step.detail ? `: ${step.detail}` : ''}`,
    ),
  ].join('\n');
}

export function renderTable(rows: SandboxStatusView[]): string {
  if (rows.length === 0) return 'No active sandboxes.';
  const table = [
    ['NAME', 'ID', 'STATUS', 'OWNER', 'EXPIRES'],
    ...rows.map((s) => [s.name, s.id, s.status, s.owner, orDash(s.expires_at)]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const toJson = (value: unknown) => JSON.stringify(value, null, 2);
