// The whole bot with the real k3d runtime and the real kubectl tester, over the fake k3d and fake kubectl
// executables: a sandbox that becomes ACTIVE is smoke-tested on its own, and the result is stored and announced.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../../src/adapters/db/open-database.js';
import { createSandboxStore } from '../../../src/adapters/db/sandbox-store.js';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { Conflict, Forbidden, InvalidInput } from '../../../src/core/errors.js';
import type { SandboxEvent } from '../../../src/core/events.js';
import type { Actor } from '../../../src/core/policy.js';
import { createFakeK3d } from '../../fakes/k3d/fake-k3d.js';
import { createFakeKubectl } from '../../fakes/kubectl/fake-kubectl.js';
import { alice, bob, silentLogger, waitFor } from '../../helpers/core-fixture.js';

// Both the k3d runtime and the tester run their tools with the bot's environment, which is how the fakes
// find their state (each test file runs in a process of its own).
const k3d = createFakeK3d();
Object.assign(process.env, k3d.env);
const kubectl = createFakeKubectl({ stateDir: k3d.stateDir });
const workDir = mkdtempSync(path.join(tmpdir(), 'smoke-app-'));
after(() => {
  k3d.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

const eve: Actor = { id: 'U0EVE', isApprover: false, isAdmin: false };

async function startApp(name: string, env: Record<string, string> = {}) {
  const config = loadConfig({
    DATA_DIR: path.join(workDir, name),
    PORT: '0',
    LOG_LEVEL: 'silent',
    K3D_BIN: k3d.binPath,
    DOCKER_BIN: k3d.dockerBinPath,
    KUBECTL_BIN: kubectl.binPath,
    ...env,
  });
  const app = buildApp(config, { logger: silentLogger });
  const seen: SandboxEvent[] = [];
  app.events.on((event) => {
    seen.push(event);
  });
  await app.start();
  /** Requests, approves and waits for ACTIVE. */
  const activeSandbox = async (sandboxName: string) => {
    const s = app.service.request(alice, { name: sandboxName, agents: 1 }, { via: 'slack' });
    app.service.approve(bob, s.id);
    await waitFor(() => app.store.get(s.id)?.status === 'ACTIVE', `${sandboxName} ACTIVE`, 30_000);
    return s.id;
  };
  return { app, seen, activeSandbox };
}

describe('smoke tests in the app', () => {
  it('when a sandbox becomes ACTIVE, then smoke runs on its own, and the result is stored, audited, announced and counted', async (t) => {
    const { app, seen, activeSandbox } = await startApp('auto');
    t.after(() => app.stop(2000));
    const id = await activeSandbox('auto');

    const finished = await waitFor(
      () => seen.find((e) => e.type === 'testFinished' && e.sandbox.id === id),
      'testFinished',
      30_000,
    );
    assert.equal(finished.type, 'testFinished');
    const { result } = finished as Extract<SandboxEvent, { type: 'testFinished' }>;
    assert.equal(result.suite, 'smoke');
    assert.equal(result.passed, true, JSON.stringify(result.steps, null, 2));
    assert.equal(result.steps[0]?.name, 'nodes Ready (1 server + 1 agent)');
    assert.deepEqual(app.tests.lastResult(id), result);

    const audit = app.store.listAudit({ sandboxId: id });
    assert.ok(audit.some((a) => a.actor === 'system' && a.action === 'tested' && a.details.passed === true));
    assert.ok(
      audit.some(
        (a) => a.action === 'kubeconfig_read' && String(a.details.purpose).startsWith('test:smoke for '),
      ),
    );
    const metrics = await app.metrics.registry.metrics();
    assert.match(metrics, /^sandbox_test_runs_total\{suite="smoke",verdict="passed"\} 1$/m);
    assert.match(
      metrics,
      /^sandbox_command_duration_seconds_count\{bin="kubectl",command="rollout status",outcome="ok"\} 1$/m,
    );

    const cluster = app.store.get(id)?.clusterName ?? '';
    assert.ok(
      kubectl.calls().some((c) => c.op === 'raw'),
      'the service proxy was asked',
    );
    assert.deepEqual(kubectl.namespaces(cluster), [], 'the temporary namespace is gone');
    // (The one call without a kubeconfig is the start-up check `kubectl version --client`.)
    const clusterCalls = kubectl.calls().filter((c) => c.argv[0] !== 'version');
    assert.ok(clusterCalls.length >= 7);
    assert.ok(clusterCalls.every((c) => c.kubeconfigMode0600 === true));
  });

  it('when someone else, a second run or an unknown suite asks, then they are refused with a reason', async (t) => {
    const { app, seen, activeSandbox } = await startApp('refusals', { SANDBOX_AUTO_SMOKE_TEST: 'false' });
    t.after(() => app.stop(2000));
    const id = await activeSandbox('refusals');

    await assert.rejects(app.tests.run(eve, id), Forbidden);
    await assert.rejects(
      app.tests.run(alice, id, 'dns'),
      (error: unknown) =>
        error instanceof InvalidInput &&
        error.message === 'There is no test suite "dns"; available: smoke, nodes.',
    );

    const first = app.tests.run(alice, id, 'nodes');
    await assert.rejects(app.tests.run(bob, id, 'smoke'), Conflict, 'one run per sandbox at a time');
    const result = await first;
    assert.equal(result.passed, true);
    assert.equal(app.tests.lastResult(id)?.suite, 'nodes');

    // Approvers may run another's tests once the first run is over.
    assert.equal((await app.tests.run(bob, id, 'nodes')).passed, true);
    await app.events.idle();
    assert.equal(
      seen.filter((e) => e.type === 'testFinished').length,
      2,
      'no automatic run when switched off',
    );
  });

  it('when the bot stops during a run, then the run winds down and its result is stored before the database closes', async (t) => {
    // Every kubectl call takes a while, so the stop lands while a step is in flight.
    kubectl.setKnobs({ FAKE_KUBECTL_DELAY_MS: 300 });
    t.after(() => kubectl.setKnobs({ FAKE_KUBECTL_DELAY_MS: 0 }));
    const earlierCalls = kubectl.calls().length;
    const { app, activeSandbox } = await startApp('stop');
    const id = await activeSandbox('stop');
    await waitFor(
      () =>
        kubectl
          .calls()
          .slice(earlierCalls)
          .some((c) => c.op === 'create-ns'),
      'the automatic run to create its namespace',
      30_000,
    );
    await app.stop(5000);

    const db = openDatabase(app.config.databaseFile);
    t.after(() => db.close());
    const stored = createSandboxStore(db, Date.now).getTestResult(id);
    assert.equal(stored?.passed, false);
    const steps = stored?.steps ?? [];
    assert.deepEqual(steps.at(-1), {
      name: 'remaining steps skipped',
      passed: false,
      durationMs: 0,
      detail: 'interrupted: the bot is shutting down',
    });
    assert.ok(
      steps.some((s) => s.name.startsWith('delete namespace sbx-smoke-') && s.passed),
      `the namespace was still deleted: ${JSON.stringify(steps)}`,
    );
    assert.ok(!steps.some((s) => s.name === 'service answers through the API server proxy'));
  });

  it('when SANDBOX_SMOKE_SUITES_DIR has suite folders, then they are offered after the built-in suites', async (t) => {
    const suitesDir = path.join(workDir, 'suites');
    for (const suite of ['zeta', 'alpha']) {
      mkdirSync(path.join(suitesDir, suite), { recursive: true });
      writeFileSync(
        path.join(suitesDir, suite, 'job.yaml'),
        'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: probe\n',
      );
    }
    const { app } = await startApp('suites', { SANDBOX_SMOKE_SUITES_DIR: suitesDir });
    t.after(() => app.stop(2000));
    assert.deepEqual(app.tests.suites(), ['smoke', 'nodes', 'alpha', 'zeta']);
  });
});
