#!/usr/bin/env node
// Runs every *.test.ts under test/ with node's test runner (Node 20 finds no .ts files by itself)
// and fails when no test ran, so a broken glob can never pass as green.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'e2e' ? [] : findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = findTests(testDir)
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('No test files found under test/.');
  process.exit(1);
}

const tapDir = mkdtempSync(path.join(tmpdir(), 'sandbox-bot-tap-'));
const tapFile = path.join(tapDir, 'results.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
const tap = readFileSync(tapFile, 'utf8');
rmSync(tapDir, { recursive: true, force: true });
const count = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
const tests = count('tests');
const passed = count('pass');
const failed = count('fail');
console.log(`\n${passed} passed, ${failed} failed`);
if (tests === 0) {
  console.error('No test ran: failing on purpose.');
  process.exit(1);
}
process.exit(result.status ?? 1);
