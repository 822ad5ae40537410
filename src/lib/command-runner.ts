import { execa } from 'execa';

/** A finished command that exited 0. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Hard limit: the process gets SIGTERM, then SIGKILL 5 s later. */
  timeoutMs: number;
  env?: Record<string, string>;
  input?: string;
}

/** What the runner reports about every command, for metrics. */
export interface CommandObservation {
  bin: string;
  /** `cluster create`, `kubeconfig get`, `get nodes`… the first words that are not flags. */
  command: string;
  outcome: 'ok' | 'error' | 'timeout';
  durationMs: number;
}

export type CommandRunner = (
  bin: string,
  args: readonly string[],
  options: RunOptions,
) => Promise<CommandResult>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are exactly what is stripped
const ANSI = /\x1b\[[0-9;]*m/g;
const TAIL_LINES = 15;
const TAIL_CHARS = 1500;

/** The last lines of a command's output, without colour codes: enough to see why it failed, small enough to show. */
export function outputTail(text: string): string {
  const lines = text
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
  const tail = lines.slice(-TAIL_LINES).join('\n');
  return tail.length > TAIL_CHARS ? `…${tail.slice(-TAIL_CHARS)}` : tail;
}

/** A command that failed, timed out or could not start; carries argv, the exit code and its output tails. */
export class CommandError extends Error {
  override name = 'CommandError';
  /** Full output; not enumerable, so a logger serialising the error never prints it (it may be a secret). */
  declare readonly stdout: string;
  declare readonly stderr: string;

  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly timedOut: boolean,
    stdout: string,
    stderr: string,
  ) {
    super(message);
    Object.defineProperty(this, 'stdout', { value: stdout, enumerable: false });
    Object.defineProperty(this, 'stderr', { value: stderr, enumerable: false });
  }

  get stderrTail(): string {
    return outputTail(this.stderr);
  }
}

function commandName(args: readonly string[]): string {
  const words: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') || words.length === 2) break;
    words.push(arg);
  }
  return words.join(' ');
}

/**
 * The one way this program runs k3d and kubectl: an argument array (never a shell), a timeout that kills,
 * and an error that says which command failed and how. Tracks running commands so shutdown can wait.
 */
export function createCommandRunner(observe: (o: CommandObservation) => void = () => {}) {
  const running = new Set<Promise<unknown>>();

  const run: CommandRunner = async (bin, args, options) => {
    const started = performance.now();
    const child = execa(bin, args, {
      timeout: options.timeoutMs,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: 5000,
      reject: false,
      stripFinalNewline: false,
      ...(options.env ? { env: options.env } : {}),
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    running.add(child);
    const result = await child.finally(() => running.delete(child));
    const durationMs = performance.now() - started;
    const outcome = result.timedOut ? 'timeout' : result.failed ? 'error' : 'ok';
    observe({ bin, command: commandName(args), outcome, durationMs });
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    if (outcome === 'ok') return { stdout, stderr, durationMs };

    const argv = [bin, ...args];
    const shown = `${bin} ${commandName(args)}`;
    let message: string;
    if (result.timedOut)
      message = `${shown} did not finish within ${Math.round(options.timeoutMs / 1000)}s and was killed`;
    else if ((result as { code?: string }).code === 'ENOENT')
      message = `${bin} was not found; install it or set its path`;
    else if (result.exitCode === undefined) message = `${shown} could not run: ${result.shortMessage}`;
    else message = `${shown} exited with code ${result.exitCode}`;
    throw new CommandError(message, argv, result.exitCode, result.timedOut, stdout, stderr);
  };

  return {
    run,
    /** Resolves once every command running now has ended, or after `graceMs`. */
    async idle(graceMs: number): Promise<void> {
      const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.allSettled([...running]), timer]);
    },
    get active(): number {
      return running.size;
    },
  };
}
