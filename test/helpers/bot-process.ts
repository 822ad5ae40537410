// The real bot (`src/main.ts serve`, as `npm start` runs it) in a child process on a free port, for tests
// that need a second process on the same DATA_DIR or a server for a spawned CLI. Generic: any test may use it.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const MAIN = path.resolve('src/main.ts');

export interface BotProcess {
  child: ChildProcess;
  url: string;
  /** Everything the bot printed so far (JSON log lines), for assertion messages. */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawns `serve` with PORT=0 and resolves once its "listening" log line names the port. `main` runs a
 * compiled entry point (plain node) instead of src/main.ts through tsx.
 */
export function startBotProcess(
  env: Record<string, string>,
  { timeoutMs = 30_000, main }: { timeoutMs?: number; main?: string } = {},
): Promise<BotProcess> {
  const child = spawn(process.execPath, main ? [main, 'serve'] : ['--import', 'tsx', MAIN, 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<BotProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the bot did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port =
        /"port":(\d+)[^\n]*k3d-sandbox-bot listening|k3d-sandbox-bot listening[^\n]*"port":(\d+)/.exec(
          output,
        );
      if (!port) return;
      clearTimeout(timer);
      resolve({
        child,
        url: `http://127.0.0.1:${port[1] ?? port[2]}`,
        output: () => output,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the bot exited (${code}) before listening:\n${output}`));
    });
  });
}
