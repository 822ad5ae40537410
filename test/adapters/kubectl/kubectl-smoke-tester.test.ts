import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { InvalidInput } from '../../../src/core/errors.js';
import type { TestResultSummary } from '../../../src/core/events.js';
import { waitFor } from '../../helpers/core-fixture.js';
import { createSmokeFixture } from './smoke-fixture.js';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 2
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      containers:
      - name: echo
        image: hashicorp/http-echo:1.0
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector:
    app: echo
  ports:
  - port: 80
    targetPort: 5678
`;
const JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: probe
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: probe
        image: busybox:1.36
        command: ["wget", "-qO-", "http://echo"]
`;

const stepNames = (result: TestResultSummary) => result.steps.map((s) => s.name);
const failedSteps = (result: TestResultSummary) => result.steps.filter((s) => !s.passed);

describe('kubectl smoke tester', () => {
  it('when the cluster is healthy, then smoke passes every step and leaves no namespace behind', async (t) => {
    const f = createSmokeFixture(t);
    const result = await f.run('smoke');

    assert.equal(result.suite, 'smoke');
    assert.equal(result.passed, true, JSON.stringify(result.steps, null, 2));
    const names = stepNames(result);
    const ns = names.find((n) => n.startsWith('create namespace '))?.slice('create namespace '.length);
    assert.match(ns ?? '', /^sbx-smoke-[0-9a-f]{6}$/);
    assert.deepEqual(names, [
      'nodes Ready (1 server + 2 agents)',
      'CoreDNS ready',
      `create namespace ${ns}`,
      'deploy nginx:alpine with a service',
      'rollout of deployment/smoke-web',
      'service answers through the API server proxy',
      `delete namespace ${ns}`,
    ]);
    assert.ok(result.steps.every((s) => Number.isInteger(s.durationMs) && s.durationMs >= 0));
    assert.ok(result.finishedAt >= result.startedAt);
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);

    const ops = f.kubectl.calls().map((c) => c.op);
    assert.deepEqual(ops, ['nodes', 'dns', 'create-ns', 'apply', 'rollout', 'raw', 'delete-ns']);
    const raw = f.kubectl.calls().find((c) => c.op === 'raw');
    assert.ok(raw?.argv.includes(`/api/v1/namespaces/${ns}/services/smoke-web:80/proxy/`));
  });

  it('when a step fails, then its stderr tail is the detail and the namespace is still deleted', async (t) => {
    const f = createSmokeFixture(t);
    f.kubectl.setKnobs({ FAKE_KUBECTL_FAIL: ['rollout'] });
    const result = await f.run('smoke');

    assert.equal(result.passed, false);
    const [failed, ...others] = failedSteps(result);
    assert.deepEqual(others, []);
    assert.equal(failed?.name, 'rollout of deployment/smoke-web');
    assert.equal(failed?.detail, 'error: deployment "smoke-web" exceeded its progress deadline');
    // The proxy check depends on the rollout, so it is not attempted; the cleanup is.
    assert.ok(!stepNames(result).includes('service answers through the API server proxy'));
    const cleanup = result.steps.at(-1);
    assert.match(cleanup?.name ?? '', /^delete namespace sbx-smoke-/);
    assert.equal(cleanup?.passed, true);
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);
  });

  it('when a step hangs, then kubectl is killed at the step timeout, reported, and the namespace deleted', async (t) => {
    const f = createSmokeFixture(t, { tester: { stepTimeoutMs: 3000 } });
    f.kubectl.setKnobs({ FAKE_KUBECTL_HANG: ['raw'] });
    const result = await f.run('smoke');

    assert.equal(result.passed, false);
    const [failed, ...others] = failedSteps(result);
    assert.deepEqual(others, []);
    assert.equal(failed?.name, 'service answers through the API server proxy');
    assert.match(
      failed?.detail ?? '',
      /kubectl get --raw \/api\/v1\/namespaces\/sbx-smoke-\w+\/services\/smoke-web:80\/proxy\/ did not finish within the step's 3.0s limit and was killed$/,
    );
    assert.ok(f.kubectl.calls().some((c) => c.op === 'raw' && c.hung));
    assert.equal(result.steps.at(-1)?.passed, true, 'the namespace is deleted after the hang');
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);
  });

  it('when fewer nodes exist than servers + agents, then smoke fails on the node step and says how many', async (t) => {
    const f = createSmokeFixture(t, { tester: { stepTimeoutMs: 3000 } });
    f.kubectl.setKnobs({ FAKE_KUBECTL_MISSING_NODES: 1 });
    const result = await f.run('smoke');

    assert.equal(result.passed, false);
    const [failed, ...others] = failedSteps(result);
    assert.deepEqual(others, []);
    assert.equal(failed?.name, 'nodes Ready (1 server + 2 agents)');
    assert.match(failed?.detail ?? '', /expected 3 nodes \(1 server \+ 2 agents\), the API lists 2/);
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);
  });

  it('when a node is not Ready, then the nodes suite fails naming it, and runs nothing else', async (t) => {
    const f = createSmokeFixture(t, { servers: 1, agents: 1, tester: { stepTimeoutMs: 1500 } });
    f.kubectl.setKnobs({ FAKE_KUBECTL_NOT_READY_NODES: 1 });
    const result = await f.run('nodes');

    assert.equal(result.suite, 'nodes');
    assert.equal(result.passed, false);
    assert.deepEqual(stepNames(result), ['nodes Ready (1 server + 1 agent)']);
    assert.match(result.steps[0]?.detail ?? '', /not Ready: k3d-sbx-demo-agent-0 \(KubeletNotReady\)/);
    assert.deepEqual(
      f.kubectl.calls().map((c) => c.op),
      f.kubectl.calls().map(() => 'nodes'),
    );
  });

  it('when the nodes are fine, then the nodes suite passes with its one step', async (t) => {
    const f = createSmokeFixture(t, { servers: 3, agents: 0 });
    const result = await f.run('nodes');
    assert.equal(result.passed, true);
    assert.deepEqual(stepNames(result), ['nodes Ready (3 servers + 0 agents)']);
  });

  it('when a suites folder holds manifests, then that custom suite applies, waits on what it has, and cleans up', async (t) => {
    const f = createSmokeFixture(t, {
      suites: {
        'echo-and-probe': { 'deployment.yaml': DEPLOYMENT, 'service.yaml': SERVICE, 'job.yaml': JOB },
        'jobs-only': { 'job.yml': JOB },
        'notes-only': { 'README.md': 'no manifests here' },
        smoke: { 'deployment.yaml': DEPLOYMENT },
        'bad name': { 'job.yaml': JOB },
      },
    });
    assert.deepEqual(f.tester.suites(), ['smoke', 'nodes', 'echo-and-probe', 'jobs-only']);

    const result = await f.run('echo-and-probe');
    assert.equal(result.passed, true, JSON.stringify(result.steps, null, 2));
    const names = stepNames(result);
    const ns = names[0]?.slice('create namespace '.length) ?? '';
    assert.match(ns, /^sbx-echo-and-probe-[0-9a-f]{6}$/);
    assert.deepEqual(names, [
      `create namespace ${ns}`,
      'apply echo-and-probe/',
      'deployments Available',
      'jobs Complete',
      `delete namespace ${ns}`,
    ]);
    const waits = f.kubectl
      .calls()
      .filter((c) => c.op === 'wait')
      .map((c) => c.argv.filter((a) => a.startsWith('--for=') || a === 'deployment' || a === 'job'));
    assert.deepEqual(waits, [
      ['deployment', '--for=condition=Available'],
      ['job', '--for=condition=Complete'],
    ]);
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);

    const jobsOnly = await f.run('jobs-only');
    assert.equal(jobsOnly.passed, true);
    assert.ok(!stepNames(jobsOnly).includes('deployments Available'), 'no deployment, so no wait for one');
  });

  it('when a custom suite fails to apply, then the stderr tail is shown and the namespace deleted', async (t) => {
    const f = createSmokeFixture(t, { suites: { broken: { 'job.yaml': JOB } } });
    f.kubectl.setKnobs({ FAKE_KUBECTL_FAIL: ['apply'] });
    const result = await f.run('broken');
    assert.equal(result.passed, false);
    const [failed] = failedSteps(result);
    assert.equal(failed?.name, 'apply broken/');
    assert.match(
      failed?.detail ?? '',
      /^Error from server \(BadRequest\): error when creating ".*job\.yaml"/,
    );
    assert.equal(result.steps.at(-1)?.passed, true);
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);
  });

  it('when an unknown suite is asked for, then the error lists the available ones', async (t) => {
    const f = createSmokeFixture(t, { suites: { extra: { 'job.yaml': JOB } } });
    await assert.rejects(f.run('../etc'), (error: unknown) => {
      assert.ok(error instanceof InvalidInput);
      assert.equal(error.message, 'There is no test suite "../etc"; available: smoke, nodes, extra.');
      return true;
    });
    assert.deepEqual(f.kubectl.calls(), [], 'nothing ran');
  });

  it('when runs end, then every kubectl call had a 0600 kubeconfig and no run directory is left', async (t) => {
    const f = createSmokeFixture(t, {
      suites: { extra: { 'job.yaml': JOB } },
      tester: { stepTimeoutMs: 1500 },
    });
    await f.run('smoke');
    await f.run('extra');
    f.kubectl.setKnobs({ FAKE_KUBECTL_FAIL: ['create-ns'], FAKE_KUBECTL_HANG: ['dns'] });
    await f.run('smoke');

    const calls = f.kubectl.calls();
    assert.ok(calls.length > 10);
    for (const call of calls) {
      assert.equal(call.kubeconfigMode0600, true, call.argv.join(' '));
      assert.ok(call.kubeconfig?.startsWith(`${f.scratchDir}/sandbox-kubectl-`), call.kubeconfig ?? 'none');
      assert.deepEqual(call.argv.slice(-2), ['--kubeconfig', call.kubeconfig]);
    }
    assert.equal(new Set(calls.map((c) => c.kubeconfig)).size, 3, 'one private file per run');
    assert.deepEqual(readdirSync(f.scratchDir), []);
  });

  it('when the bot stops during a run, then the step in progress is abandoned, cleanup still runs, and it says so', async (t) => {
    // The hung kubectl is abandoned, not killed; this limit is what ends it once the test is over.
    const f = createSmokeFixture(t, { tester: { stepTimeoutMs: 5000, waitTimeoutMs: 5000 } });
    f.kubectl.setKnobs({ FAKE_KUBECTL_HANG: ['rollout'] });
    const running = f.run('smoke');
    await waitFor(() => f.kubectl.calls().some((c) => c.op === 'rollout'), 'the rollout to start', 10_000);
    f.tester.stop();
    const result = await running;

    assert.equal(result.passed, false);
    const tail = result.steps.slice(-3).map((s) => [s.name, s.passed, s.detail]);
    assert.equal(tail[0]?.[0], 'rollout of deployment/smoke-web');
    assert.equal(tail[0]?.[2], 'interrupted: the bot is shutting down');
    assert.match(String(tail[1]?.[0]), /^delete namespace sbx-smoke-/);
    assert.equal(tail[1]?.[1], true);
    assert.deepEqual(tail[2], ['remaining steps skipped', false, 'interrupted: the bot is shutting down']);
    assert.deepEqual(f.kubectl.namespaces(f.clusterName), []);
    assert.deepEqual(readdirSync(f.scratchDir), []);
    await f.commands.idle(10_000);
  });
});
