import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInput } from '../../core/errors.js';
import type { TestResultSummary } from '../../core/events.js';
import type { Logger, SmokeTester } from '../../core/ports.js';
import type { Sandbox } from '../../core/sandbox.js';
import type { CommandRunner } from '../../lib/command-runner.js';
import { checkNodes } from './cluster-checks.js';
import { listCustomSuites, runCustomSuite } from './custom-suites.js';
import { runSmokeSuite } from './smoke-suite.js';
import { type StepResult, SuiteRun } from './suite-run.js';

/** Always available, listed before the custom suites. */
const BUILT_IN_SUITES: readonly string[] = ['smoke', 'nodes'];

export interface KubectlSmokeTesterOptions {
  /** The one command runner (argument arrays, timeouts, kills). */
  run: CommandRunner;
  kubectlBin: string;
  /** The image the `smoke` suite deploys (`SANDBOX_SMOKE_IMAGE`). */
  image: string;
  /** `SANDBOX_SMOKE_SUITES_DIR`: each sub-folder is a custom suite of manifests. */
  suitesDir?: string | undefined;
  /** Limit for each quick step (a node check, a namespace, an apply, the proxy fetch); default 60 s. */
  stepTimeoutMs?: number;
  /** Limit for each rollout or `kubectl wait`, which includes pulling images; default 120 s. */
  waitTimeoutMs?: number;
  /** Pause between two looks at something not Ready yet; default 2 s. */
  pollIntervalMs?: number;
  /** Where each run's private directory (kubeconfig, kubectl cache) is made; default the OS temp dir. */
  scratchDir?: string;
  /** Added to kubectl's environment. */
  env?: Record<string, string>;
  logger?: Logger;
}

/** The kubectl tester, plus the shutdown hook the composition root calls. */
export interface KubectlSmokeTester extends SmokeTester {
  /**
   * Winds running suites down at shutdown: the step in progress is abandoned (its kubectl is still bounded by
   * its timeout), later steps are skipped, temporary namespaces are still deleted, and the run reports it.
   */
  stop(): void;
}

type SuiteBody = (run: SuiteRun, sandbox: Sandbox) => Promise<unknown>;

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * SmokeTester over kubectl. Each run writes the sandbox's kubeconfig into a fresh private directory as a 0600
 * file, passes it with `--kubeconfig` to every call, and removes the directory when the run ends, however it ends.
 */
export function createKubectlSmokeTester(options: KubectlSmokeTesterOptions): KubectlSmokeTester {
  const { run, kubectlBin, image, suitesDir } = options;
  const stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
  const waitTimeoutMs = options.waitTimeoutMs ?? 120_000;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const scratchDir = options.scratchDir ?? tmpdir();
  const logger = options.logger ?? silentLogger;
  const shutdown = new AbortController();
  const warned = new Set<string>();

  const builtIns: Record<string, SuiteBody> = {
    smoke: (suiteRun, sandbox) => runSmokeSuite(suiteRun, sandbox, { image, stepTimeoutMs, waitTimeoutMs }),
    nodes: (suiteRun, sandbox) => checkNodes(suiteRun, sandbox, stepTimeoutMs),
  };

  /** Read on every call, so a suite folder added while the bot runs is picked up without a restart. */
  function customSuites(): string[] {
    if (!suitesDir) return [];
    const warnOnce = (folder: string, why: string) => {
      const key = `${folder} ${why}`;
      if (warned.has(key)) return;
      warned.add(key);
      logger.warn({ suitesDir, folder }, `SANDBOX_SMOKE_SUITES_DIR: ${folder} ${why}, so it is skipped`);
    };
    return listCustomSuites(suitesDir, warnOnce).filter((name) => {
      if (!BUILT_IN_SUITES.includes(name)) return true;
      warnOnce(name, 'has the name of a built-in suite');
      return false;
    });
  }

  function suites(): string[] {
    return [...BUILT_IN_SUITES, ...customSuites()];
  }

  function bodyOf(suite: string): SuiteBody {
    const builtIn = builtIns[suite];
    if (builtIn) return builtIn;
    // Only names found on disk reach path.join, and those passed SUITE_NAME: no traversal.
    if (suitesDir && customSuites().includes(suite)) {
      const folder = path.join(suitesDir, suite);
      return (suiteRun) => runCustomSuite(suiteRun, suite, folder, { stepTimeoutMs, waitTimeoutMs });
    }
    throw new InvalidInput(`There is no test suite "${suite}"; available: ${suites().join(', ')}.`);
  }

  async function runSteps(body: SuiteBody, sandbox: Sandbox, kubeconfig: string): Promise<StepResult[]> {
    const dir = await mkdtemp(path.join(scratchDir, 'sandbox-kubectl-'));
    try {
      const kubeconfigFile = path.join(dir, 'kubeconfig');
      // mkdtemp makes the directory 0700; the file is 0600 and must not exist yet ('wx').
      await writeFile(kubeconfigFile, kubeconfig, { mode: 0o600, flag: 'wx' });
      // kubectl caches API discovery under ~/.kube/cache; keep that in the run's directory too.
      const cacheDir = path.join(dir, 'cache');
      await mkdir(cacheDir, { mode: 0o700 });
      const suiteRun = new SuiteRun({
        run,
        kubectlBin,
        kubeconfigFile,
        env: { ...options.env, KUBECACHEDIR: cacheDir },
        pollIntervalMs,
        signal: shutdown.signal,
      });
      await body(suiteRun, sandbox);
      return suiteRun.results();
    } finally {
      await rm(dir, { recursive: true, force: true }).catch((error: unknown) =>
        logger.error(
          { dir, err: (error as Error).message },
          'could not remove a test run directory holding a kubeconfig; delete it by hand',
        ),
      );
    }
  }

  return {
    suites,

    async run({ sandbox, kubeconfig, suite }): Promise<TestResultSummary> {
      const body = bodyOf(suite);
      const startedAt = Date.now();
      let steps: StepResult[];
      try {
        steps = await runSteps(body, sandbox, kubeconfig);
      } catch (error) {
        // Only the run's own preparation can throw (the steps record their failures): report it as a step.
        steps = [
          { name: 'prepare the test run', passed: false, durationMs: 0, detail: (error as Error).message },
        ];
      }
      const result: TestResultSummary = {
        suite,
        passed: steps.length > 0 && steps.every((s) => s.passed),
        steps,
        startedAt,
        finishedAt: Date.now(),
      };
      logger.info(
        {
          sandbox: sandbox.id,
          cluster: sandbox.clusterName,
          suite,
          passed: result.passed,
          failedSteps: steps.filter((s) => !s.passed).map((s) => s.name),
          ms: result.finishedAt - startedAt,
        },
        'test run finished',
      );
      return result;
    },

    stop() {
      shutdown.abort();
    },
  };
}
