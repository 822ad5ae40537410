/**
 * `npm run bench [name…]`: runs each benchmark in a process of its own, one after the other, so one's
 * leftovers (heap, sockets, child processes) cannot colour the next. With names, runs only those.
 * Each writes bench/results/<name>.json and prints its table; this prints a summary and fails if any failed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = [
  {
    name: 'ack-latency',
    about: 'ack latency of signed /sandbox commands and clicks under load vs a bare floor',
  },
  {
    name: 'provisioning-overhead',
    about: 'Approve click to kubeconfig DM minus k3d; 20 approvals at 1, 2, 4',
  },
  { name: 'sweep-cost', about: 'expiry sweeps over 1k, 10k and 100k rows' },
  { name: 'memory', about: 'RSS idle and over 1,000 sandbox lives' },
] as const;
/** No benchmark should come near this; a hung one is killed and reported. */
const TIME_LIMIT_MS = 10 * 60_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}. Choose from:`);
  for (const b of BENCHMARKS) console.error(`  ${b.name.padEnd(24)}${b.about}`);
  process.exit(2);
}
const chosen = asked.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => asked.includes(b.name));

const summary: { benchmark: string; result: string; seconds: number }[] = [];
for (const benchmark of chosen) {
  console.log(`\n=== ${benchmark.name}: ${benchmark.about}`);
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${benchmark.name}.ts`)], {
    stdio: 'inherit',
    timeout: TIME_LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  const result = run.error
    ? `failed: ${run.error.message}`
    : run.status === 0
      ? 'ok'
      : `failed: exit ${run.status ?? run.signal}`;
  summary.push({
    benchmark: benchmark.name,
    result,
    seconds: Math.round((performance.now() - started) / 1000),
  });
}
console.log('\nbenchmarks:');
console.table(summary);
process.exit(summary.every((s) => s.result === 'ok') ? 0 : 1);
