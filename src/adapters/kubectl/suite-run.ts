import { setTimeout as sleep } from 'node:timers/promises';
import type { TestResultSummary } from '../../core/events.js';
import { CommandError, type CommandRunner, outputTail } from '../../lib/command-runner.js';

export type StepResult = TestResultSummary['steps'][number];

/** Slack shows a failed step's detail in a code block; a section's text may hold 3000 characters. */
const MAX_DETAIL_CHARS = 2500;

/** Thrown inside a step to fail it with a message meant for the person reading the result. */
export class StepFailure extends Error {
  override name = 'StepFailure';
  constructor(
    message: string,
    /** True when kubectl ran and refused; false when it was killed at the time limit or could not start. */
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** What a step's body may do; everything it runs is bounded by the step's timeout. */
export interface StepContext {
  /** The step's whole budget, for kubectl's own `--timeout` flags. */
  readonly timeoutMs: number;
  /** Runs kubectl against the sandbox within what is left of the step's budget; resolves with stdout. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /**
   * Calls `check` until it reports no problem. A cluster that has just come up needs a few seconds before
   * every node and CoreDNS are Ready, so "not yet" is retried; at the deadline the step fails with the last problem.
   */
  until(check: () => Promise<string | undefined>): Promise<void>;
}

export interface SuiteRunOptions {
  run: CommandRunner;
  kubectlBin: string;
  /** The 0600 file the run wrote; passed as `--kubeconfig` to every call. */
  kubeconfigFile: string;
  env: Record<string, string>;
  pollIntervalMs: number;
  /** Aborted when the bot shuts down: the running step is abandoned, later ones are skipped, cleanup still runs. */
  signal: AbortSignal;
}

/** Shown for a step that the shutdown cut short, and as the last step of an interrupted run. */
const INTERRUPTED = 'interrupted: the bot is shutting down';

/** The steps of one suite run: each is named, timed, bounded by a timeout and recorded; none throws. */
export class SuiteRun {
  readonly steps: StepResult[] = [];
  private interrupted = false;

  constructor(private readonly options: SuiteRunOptions) {}

  /** True once the bot is shutting down; suites check it before starting work that needs cleaning up. */
  get stopping(): boolean {
    return this.options.signal.aborted;
  }

  /**
   * Runs `body` as the step `name` within `timeoutMs` and records the outcome. Resolves with whether it passed.
   * A `cleanup` step runs even during shutdown and is not abandoned, so temporary namespaces still go.
   */
  async step(
    name: string,
    timeoutMs: number,
    body: (step: StepContext) => Promise<unknown>,
    { cleanup = false } = {},
  ): Promise<boolean> {
    if (this.stopping && !cleanup) {
      this.interrupted = true;
      return false;
    }
    const started = performance.now();
    const deadline = started + timeoutMs;
    let detail: string | undefined;
    try {
      await body(this.context(timeoutMs, deadline, cleanup));
    } catch (error) {
      detail = this.describe(error);
    }
    const durationMs = Math.round(performance.now() - started);
    this.steps.push(
      detail === undefined
        ? { name, passed: true, durationMs }
        : { name, passed: false, durationMs, detail: trimDetail(detail) },
    );
    return detail === undefined;
  }

  /** The recorded steps, plus a closing one that says so when a shutdown skipped the rest. */
  results(): StepResult[] {
    if (!this.interrupted) return [...this.steps];
    return [
      ...this.steps,
      { name: 'remaining steps skipped', passed: false, durationMs: 0, detail: INTERRUPTED },
    ];
  }

  private context(timeoutMs: number, deadline: number, cleanup: boolean): StepContext {
    const { run, kubectlBin, kubeconfigFile, env, pollIntervalMs, signal } = this.options;
    // Whole milliseconds, as a command's timeout is: "no time left" and "the deadline has passed" must agree.
    const remaining = () => Math.floor(deadline - performance.now());
    // Cleanup is never abandoned; anything else stops waiting the moment the bot shuts down.
    const abandonable = <T>(promise: Promise<T>) => (cleanup ? promise : untilAborted(promise, signal));

    const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
      const leftMs = remaining();
      if (leftMs <= 0) throw new StepFailure(`no time left to run ${shown(args)}`);
      try {
        const { stdout } = await abandonable(
          // Last, so the runner still names the command (`get nodes`, `rollout status`) in metrics and errors.
          run(kubectlBin, [...args, '--kubeconfig', kubeconfigFile], {
            timeoutMs: leftMs,
            env,
            ...(input === undefined ? {} : { input }),
          }),
        );
        return stdout;
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        const retryable = error.exitCode !== undefined && !error.timedOut;
        throw new StepFailure(commandFailure(error, args, timeoutMs), retryable);
      }
    };

    const until = async (check: () => Promise<string | undefined>): Promise<void> => {
      const giveUp = (problem: string) =>
        new StepFailure(`still failing after ${seconds(timeoutMs)}: ${problem}`);
      let lastProblem: string | undefined;
      for (;;) {
        let problem: string | undefined;
        try {
          problem = await check();
        } catch (error) {
          // A look cut short by the deadline says less than the problem seen before it.
          if (lastProblem !== undefined && remaining() <= 0 && !signal.aborted) throw giveUp(lastProblem);
          throw error;
        }
        if (problem === undefined) return;
        lastProblem = problem;
        if (remaining() <= pollIntervalMs) throw giveUp(problem);
        await abandonable(sleep(pollIntervalMs));
      }
    };

    return { timeoutMs, kubectl, until };
  }

  private describe(error: unknown): string {
    if (this.stopping && !(error instanceof StepFailure)) {
      this.interrupted = true;
      return INTERRUPTED;
    }
    return error instanceof Error ? error.message : String(error);
  }
}

/** The command as a reader would type it, without the `--kubeconfig` path and cut to a readable length. */
function shown(args: readonly string[]): string {
  const text = `kubectl ${args.join(' ')}`;
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

/** A failed kubectl call in the reader's terms: what was killed and why, or the tail of what kubectl said. */
function commandFailure(error: CommandError, args: readonly string[], stepTimeoutMs: number): string {
  const tail = error.stderrTail || outputTail(error.stdout);
  if (error.timedOut) {
    const headline = `${shown(args)} did not finish within the step's ${seconds(stepTimeoutMs)} limit and was killed`;
    return tail ? `${headline}\n${tail}` : headline;
  }
  if (error.exitCode === undefined) return error.message; // kubectl could not start: the message says why
  return tail || `${shown(args)} exited with code ${error.exitCode}`;
}

/** Keeps the end of a long detail, where kubectl's actual error is. */
function trimDetail(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? `…${text.slice(-(MAX_DETAIL_CHARS - 1))}` : text;
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** Rejects as soon as `signal` aborts; the promise itself carries on (the command runner still bounds it). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(INTERRUPTED));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(INTERRUPTED));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** kubectl's `--timeout` value for a wait that must end before the runner kills it, so kubectl says why itself. */
export function kubectlTimeout(stepTimeoutMs: number): string {
  const margin = Math.min(5000, Math.floor(stepTimeoutMs / 4));
  const ms = Math.max(1000, stepTimeoutMs - margin);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
