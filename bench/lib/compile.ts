// Benchmarks measure the bot as `npm start` runs it: src/ compiled to JavaScript and run with plain node, not
// through tsx (whose loader thread and per-function helpers cost memory and CPU the shipped bot never pays).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Compiles src/ and the given extra modules (paths from the repository root) with the project's tsconfig into
 * node_modules/.cache, so packages still resolve; returns the output folder, which mirrors the repository.
 */
export function compileForBench(extra: string[] = []): string {
  const dir = path.join(ROOT, 'node_modules', '.cache', 'k3d-sandbox-bot-bench');
  mkdirSync(dir, { recursive: true });
  const tsconfig = path.join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, rootDir: ROOT, outDir: path.join(dir, 'out') },
      include: [path.join(ROOT, 'src'), ...extra.map((file) => path.join(ROOT, file))],
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig],
    { encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  return path.join(dir, 'out');
}
