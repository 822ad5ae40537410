import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Percentile of already-sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function machine() {
  return {
    cores: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** Prints a readable table with the machine facts and writes the JSON result to bench/results/<name>.json. */
export function report(
  name: string,
  rows: Record<string, string | number>[],
  extra: Record<string, unknown> = {},
): void {
  const m = machine();
  console.log(`\n${name} — ${m.cores} cores, Node ${m.node}, ${m.platform}`);
  console.table(rows);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ name, at: new Date().toISOString(), machine: m, rows, ...extra }, null, 2)}\n`,
  );
  console.log(`written: ${path.relative(process.cwd(), file)}`);
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));
