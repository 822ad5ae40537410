// A fake cluster to run suites against: the fake k3d plants the cluster and prints its kubeconfig, the fake
// kubectl answers for it, and the real tester runs through the real command runner.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createKubectlSmokeTester,
  type KubectlSmokeTesterOptions,
} from '../../../src/adapters/kubectl/kubectl-smoke-tester.js';
import type { Sandbox } from '../../../src/core/sandbox.js';
import { createCommandRunner } from '../../../src/lib/command-runner.js';
import { createFakeK3d } from '../../fakes/k3d/fake-k3d.js';
import { createFakeKubectl } from '../../fakes/kubectl/fake-kubectl.js';

/** A sandbox row as the core would hand it to the tester. */
export function sandboxFor(clusterName: string, servers: number, agents: number): Sandbox {
  return {
    id: `id-${clusterName}`,
    approvalId: `ap-${clusterName}`,
    name: clusterName.replace(/^sbx-/, ''),
    clusterName,
    owner: 'U0ALICE',
    requestedBy: 'U0ALICE',
    requestedVia: 'slack',
    servers,
    agents,
    ttlMs: 3_600_000,
    reason: null,
    status: 'ACTIVE',
    requestedAt: 0,
    decidedAt: 0,
    decidedBy: 'U0BOB',
    decisionNote: null,
    creatingAt: 0,
    readyAt: 0,
    expiresAt: 3_600_000,
    destroyedAt: null,
    warnedForExpiresAt: null,
    failureReason: null,
    destroyReason: null,
    createAttempts: 1,
    apiPort: null,
    approvalMessage: null,
  };
}

export interface SmokeFixtureOptions {
  servers?: number;
  agents?: number;
  /** Folder name -> file name -> content, written under a suites dir passed to the tester. */
  suites?: Record<string, Record<string, string>>;
  tester?: Partial<KubectlSmokeTesterOptions>;
}

export function createSmokeFixture(t: { after(fn: () => void): void }, options: SmokeFixtureOptions = {}) {
  const { servers = 1, agents = 2 } = options;
  const dir = mkdtempSync(path.join(tmpdir(), 'smoke-tester-'));
  const k3d = createFakeK3d();
  t.after(() => {
    k3d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const kubectl = createFakeKubectl({ stateDir: k3d.stateDir });

  const clusterName = 'sbx-demo';
  k3d.addCluster(clusterName, { servers, agents });
  // What `k3d kubeconfig get` prints, less the leading document marker (the k3d runtime strips it too).
  const kubeconfig = execFileSync(k3d.binPath, ['kubeconfig', 'get', clusterName], {
    env: { ...process.env, ...k3d.env },
    encoding: 'utf8',
  }).replace(/^---\s*\n/, '');

  // The tester makes its private directories here, so a test can see that none is left behind.
  const scratchDir = path.join(dir, 'scratch');
  mkdirSync(scratchDir);
  let suitesDir: string | undefined;
  if (options.suites) {
    suitesDir = path.join(dir, 'suites');
    for (const [folder, files] of Object.entries(options.suites)) {
      mkdirSync(path.join(suitesDir, folder), { recursive: true });
      for (const [file, text] of Object.entries(files))
        writeFileSync(path.join(suitesDir, folder, file), text);
    }
  }

  const commands = createCommandRunner();
  const tester = createKubectlSmokeTester({
    run: commands.run,
    kubectlBin: kubectl.binPath,
    image: 'nginx:alpine',
    suitesDir,
    // Generous for steps that should pass on a busy machine; tests about timeouts shorten them.
    stepTimeoutMs: 20_000,
    waitTimeoutMs: 20_000,
    pollIntervalMs: 50,
    scratchDir,
    env: kubectl.env,
    ...options.tester,
  });
  const sandbox = sandboxFor(clusterName, servers, agents);
  return {
    tester,
    kubectl,
    k3d,
    commands,
    sandbox,
    clusterName,
    kubeconfig,
    scratchDir,
    suitesDir,
    run: (suite = 'smoke') => tester.run({ sandbox, kubeconfig, suite }),
  };
}
