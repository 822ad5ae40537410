import { type SpawnOptions, spawn } from 'node:child_process';

/** Runs `node <args>` and resolves, once its output is closed, with its exit code and all it wrote on stdout and stderr. */
export function runNode(
  args: string[],
  options: Pick<SpawnOptions, 'env'> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (data: Buffer) => {
      output += data;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => resolve({ code, output }));
  });
}
