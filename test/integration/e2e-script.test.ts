import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createFakeK3d } from '../fakes/k3d/fake-k3d.js';
import { runNode } from '../helpers/node-child.js';

const E2E = path.resolve('test/e2e/run-e2e.ts');

/** A PATH directory holding only `node`, so no real docker, k3d or kubectl of this machine is found. */
function nodeOnlyBinDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-path-'));
  symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

/** Runs `npm run test:e2e`'s script as a child process with the given PATH and environment. */
function runE2e(pathDirs: string[], env: Record<string, string> = {}) {
  return runNode(['--import', 'tsx', E2E], {
    env: { PATH: pathDirs.join(path.delimiter), HOME: process.env.HOME ?? '', ...env },
  });
}

describe('the opt-in e2e script (npm run test:e2e)', () => {
  it('when Docker, k3d and kubectl are missing, then it names them and exits 0 without claiming a pass', async () => {
    const result = await runE2e([nodeOnlyBinDir()]);
    assert.equal(result.code, 0, result.output);
    assert.match(
      result.output,
      /e2e SKIPPED — not run, not passed\. Missing: a running Docker engine \(docker info failed\); k3d on the PATH; kubectl on the PATH\./,
    );
    assert.doesNotMatch(result.output, /e2e PASSED/);
  });

  it("when a step fails with a cluster up and k3d's delete keeps it (exiting 0), then it still removes every cluster, network and volume it made and says it failed", async () => {
    // The fakes stand in for the real tools: the smoke suite's node check fails, and the first cluster
    // delete logs an error, keeps the cluster and exits 0, as k3d does.
    const k3d = createFakeK3d({ knobs: { FAKE_K3D_DELETE_FAIL_TIMES: 1 } });
    try {
      const result = await runE2e([k3d.binDir, process.env.PATH ?? ''], {
        ...k3d.env,
        FAKE_KUBECTL_FAIL: 'nodes',
      });
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /e2e FAILED: the smoke suite failed/);
      assert.doesNotMatch(result.output, /e2e PASSED|\n\s+at /);
      assert.deepEqual([k3d.clusters(), k3d.networks(), k3d.volumes()], [[], [], []], 'nothing left');
    } finally {
      k3d.cleanup();
    }
  });
});
