// The whole bot started the way main.ts starts it (loadConfig + buildApp + start), on port 0 with a temp
// DATA_DIR, and fakes of the outside world passed through buildApp's overrides. Generic: any door may use it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppOverrides, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { TestResultSummary } from '../../src/core/events.js';
import type { SmokeTester } from '../../src/core/ports.js';
import type { Sandbox } from '../../src/core/sandbox.js';
import { MemoryRuntime, silentLogger } from './core-fixture.js';

/** A SmokeTester that passes (or fails, when told) at once and records what it was asked. */
export class FakeSmokeTester implements SmokeTester {
  readonly runs: { sandboxId: string; suite: string; kubeconfig: string }[] = [];
  fail = false;

  suites(): string[] {
    return ['smoke', 'dns'];
  }

  async run({ sandbox, kubeconfig, suite }: { sandbox: Sandbox; kubeconfig: string; suite: string }) {
    this.runs.push({ sandboxId: sandbox.id, suite, kubeconfig });
    const now = Date.now();
    const result: TestResultSummary = {
      suite,
      passed: !this.fail,
      steps: [
        { name: 'nodes ready', passed: true, durationMs: 5 },
        this.fail
          ? { name: 'deploy nginx', passed: false, durationMs: 7, detail: 'rollout timed out' }
          : { name: 'deploy nginx', passed: true, durationMs: 7 },
      ],
      startedAt: now,
      finishedAt: now + 12,
    };
    return result;
  }
}

/** A smoke tester whose runs wait for the test to let them finish. */
export class GatedSmokeTester extends FakeSmokeTester {
  private release: (() => void) | undefined;
  open(): void {
    this.release?.();
  }
  override async run(input: Parameters<FakeSmokeTester['run']>[0]): Promise<TestResultSummary> {
    await new Promise<void>((resolve) => {
      this.release = resolve;
    });
    return super.run(input);
  }
}

export interface TestAppOptions {
  /** Environment for loadConfig on top of the test defaults (DATA_DIR, PORT=0, LOG_LEVEL=silent...). */
  env?: Record<string, string>;
  /** Overrides for buildApp; runtime and smokeTester default to MemoryRuntime and FakeSmokeTester. */
  overrides?: AppOverrides;
  /** Use this DATA_DIR instead of a fresh temp dir (it is then not removed by stop()). */
  dataDir?: string;
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/** Starts the real app; `stop()` stops it and removes its temp DATA_DIR. */
export async function startTestApp(options: TestAppOptions = {}) {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'sandbox-bot-app-')));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    K3D_BIN: path.join(dataDir, 'no-k3d-here'),
    DOCKER_BIN: path.join(dataDir, 'no-docker-here'),
    KUBECTL_BIN: path.join(dataDir, 'no-kubectl-here'),
    // Off unless a test asks: an automatic run would race the runs a test starts itself.
    SANDBOX_AUTO_SMOKE_TEST: 'false',
    ...options.env,
  });
  const runtime = new MemoryRuntime();
  const smokeTester = new FakeSmokeTester();
  const app = buildApp(config, {
    runtime,
    smokeTester,
    logger: silentLogger,
    destroyBackoffMs: 10,
    ...options.overrides,
  });
  const { port } = await app.start();
  return {
    app,
    config,
    dataDir,
    /** The fakes actually in use, unless the overrides replaced them. */
    runtime,
    smokeTester,
    url: `http://127.0.0.1:${port}`,
    async stop(): Promise<void> {
      await app.stop(2000);
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
