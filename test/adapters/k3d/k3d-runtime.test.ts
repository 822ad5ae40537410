import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createK3dRuntime } from '../../../src/adapters/k3d/k3d-runtime.js';
import { ClusterError } from '../../../src/core/ports.js';
import { CommandError, createCommandRunner } from '../../../src/lib/command-runner.js';
import { createFakeK3d } from '../../fakes/k3d/fake-k3d.js';
import { silentLogger } from '../../helpers/core-fixture.js';

const fake = createFakeK3d();
Object.assign(process.env, fake.env);
after(() => fake.cleanup());

const runtime = createK3dRuntime({
  run: createCommandRunner().run,
  bin: fake.binPath,
  dockerBin: fake.dockerBinPath,
  logger: silentLogger,
  prefix: 'sbx-',
  apiHost: '127.0.0.1',
  createTimeoutMs: 60_000,
});
const spec = (name: string, apiPort: number) => ({
  clusterName: `sbx-${name}`,
  servers: 1,
  agents: 2,
  apiPort,
});
const lastCall = (command: string) =>
  fake
    .calls()
    .filter((c) => c.command === command)
    .at(-1);

describe('k3d runtime against the fake k3d', () => {
  it('when a cluster is created, then k3d gets the safe flags, a scratch KUBECONFIG and plain logs', async () => {
    await runtime.create(spec('flags', 6601));
    const call = lastCall('cluster create');
    assert.deepEqual(call?.argv, [
      'cluster',
      'create',
      'sbx-flags',
      '--servers',
      '1',
      '--agents',
      '2',
      '--api-port',
      '127.0.0.1:6601',
      '--kubeconfig-update-default=false',
      '--kubeconfig-switch-context=false',
      '--timeout',
      '20s',
      '--wait',
      '--runtime-label',
      'k3d-sandbox-bot.prefix=sbx-@all',
    ]);
    assert.equal(call?.env.LOG_COLORS, 'false');
    assert.match(call?.env.KUBECONFIG ?? '', /sandbox-k3d-/);
    assert.equal(
      existsSync(path.dirname(call?.env.KUBECONFIG ?? '/nonexistent')),
      false,
      'scratch dir removed',
    );
    assert.equal(
      existsSync(path.join(fake.homeDir, '.kube', 'config')),
      false,
      'the default kubeconfig is untouched',
    );
    const [info] = (await runtime.list()).filter((c) => c.name === 'sbx-flags');
    assert.deepEqual(info, {
      name: 'sbx-flags',
      serversRunning: 1,
      serversCount: 1,
      agentsRunning: 2,
      agentsCount: 2,
      loadBalancerRunning: true,
      ours: true,
    });
  });

  it('when the kubeconfig is read, then it is the YAML k3d printed without the document marker', async () => {
    const kubeconfig = await runtime.kubeconfig('sbx-flags');
    assert.match(kubeconfig, /^apiVersion: v1\n/);
    assert.match(kubeconfig, /server: https:\/\/127\.0\.0\.1:6601/);
    assert.match(kubeconfig, /client-key-data: /);
  });

  it('when a create fails, then the error carries the phase that failed and the output tail', async () => {
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL: 'sbx-broken' });
    try {
      await assert.rejects(runtime.create(spec('broken', 6602)), (error: Error) => {
        assert.ok(error instanceof ClusterError);
        assert.equal(error.kind, 'failed');
        assert.match(error.message, /creating sbx-broken failed: Failed Cluster Start/);
        assert.match(error.detail, /Cluster creation FAILED, all changes have been rolled back!/);
        return true;
      });
    } finally {
      fake.setKnobs({ FAKE_K3D_CREATE_FAIL: null });
    }
    assert.equal(fake.cluster('sbx-broken'), undefined);
  });

  it('when the API port is taken, then the error says so', async () => {
    await assert.rejects(
      runtime.create(spec('clash', 6601)),
      (error: ClusterError) => error.kind === 'port_in_use',
    );
  });

  it('when a create hangs past the timeout, then k3d is killed and a timeout is reported', async () => {
    const quick = createK3dRuntime({
      run: createCommandRunner().run,
      bin: fake.binPath,
      dockerBin: fake.dockerBinPath,
      logger: silentLogger,
      prefix: 'sbx-',
      apiHost: '127.0.0.1',
      createTimeoutMs: 800,
    });
    fake.setKnobs({ FAKE_K3D_HANG: 'create' });
    try {
      await assert.rejects(quick.create(spec('hung', 6603)), (error: ClusterError) => {
        assert.equal(error.kind, 'timeout');
        assert.match(error.message, /did not finish within 1s and was killed/);
        return true;
      });
    } finally {
      fake.setKnobs({ FAKE_K3D_HANG: null });
    }
    assert.ok(fake.clusters().includes('sbx-hung'), 'the hang left a partial cluster behind for cleanup');
    const [partial] = (await runtime.list()).filter((c) => c.name === 'sbx-hung');
    assert.equal(partial?.loadBalancerRunning, false, 'its nodes never started');
    await runtime.delete('sbx-hung');
    assert.ok(!fake.clusters().includes('sbx-hung'));
  });

  it('when delete exits 0 but the cluster is still listed, then the delete is reported as failed', async () => {
    await runtime.create(spec('sticky', 6604));
    fake.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: 1 });
    await assert.rejects(runtime.delete('sbx-sticky'), /k3d reported success but the cluster is still there/);
    await runtime.delete('sbx-sticky');
    assert.ok(!fake.clusters().includes('sbx-sticky'));
  });

  it('when a missing cluster is deleted, then that is success', async () => {
    await runtime.delete('sbx-never-existed');
  });

  it('when cluster list prints malformed JSON, then the list fails instead of looking empty', async () => {
    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: true });
    try {
      await assert.rejects(runtime.list(), /not the expected JSON/);
    } finally {
      fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: null });
    }
  });

  it('when Docker is down, then list fails, a delete is not confirmed, and a create says Docker was down before it made anything', async () => {
    fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: true });
    try {
      await assert.rejects(runtime.list(), /Cannot connect to the Docker daemon/);
      await assert.rejects(runtime.delete('sbx-flags'), /Cannot connect to the Docker daemon/);
      await assert.rejects(
        runtime.create(spec('down', 6602)),
        (error: ClusterError) =>
          error.kind === 'docker_down' && /Is the docker daemon running/.test(error.message),
      );
    } finally {
      fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: null });
    }
    assert.ok(fake.clusters().includes('sbx-flags'));
  });

  it('when kubeconfig get fails after printing part of the kubeconfig, then the error carries none of it', async () => {
    // A runner that fails the way a killed `kubeconfig get` does: stdout already holds the secret.
    const leaky = createK3dRuntime({
      run: async (bin, args) => {
        throw new CommandError(
          'k3d kubeconfig get did not finish',
          [bin, ...args],
          undefined,
          true,
          `---
apiVersion: v1
users:
- name: admin@k3d-sbx-x
  user:
    client-key-data: TOPSECRETKEY`,
          '',
        );
      },
      bin: 'k3d',
      dockerBin: 'docker',
      logger: silentLogger,
      prefix: 'sbx-',
      apiHost: '127.0.0.1',
      createTimeoutMs: 1000,
    });
    await assert.rejects(leaky.kubeconfig('sbx-x'), (error: ClusterError) => {
      assert.doesNotMatch(`${error.message}\n${error.detail}`, /TOPSECRETKEY|client-key-data/);
      return true;
    });
  });

  it('when a cluster re-used a network left from before, then its delete removes the network k3d keeps, and the volume', async () => {
    fake.addLeftovers('sbx-tidy');
    await runtime.create(spec('tidy', 6606)); // k3d: "Re-using existing network", so it counts as external
    await runtime.delete('sbx-tidy');
    assert.ok(!fake.networks().includes('k3d-sbx-tidy'));
    assert.ok(!fake.volumes().includes('k3d-sbx-tidy-images'));
  });

  it('when a create fails and so does its rollback, then the delete after it removes the network and volume k3d left', async () => {
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: 'sbx-norollback' });
    try {
      await assert.rejects(runtime.create(spec('norollback', 6607)), (error: ClusterError) =>
        /also FAILED to rollback/.test(error.detail),
      );
    } finally {
      fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: null });
    }
    assert.ok(!(await runtime.list()).some((c) => c.name === 'sbx-norollback'), 'k3d lists nothing');
    assert.ok(fake.networks().includes('k3d-sbx-norollback'));
    assert.ok((await runtime.leftovers()).includes('sbx-norollback'));

    await runtime.delete('sbx-norollback');
    assert.ok(!fake.networks().includes('k3d-sbx-norollback'));
    assert.ok(!fake.volumes().includes('k3d-sbx-norollback-images'));
    assert.ok(!(await runtime.leftovers()).includes('sbx-norollback'));
  });

  it('when docker cannot remove them, then the delete still succeeds, the failure is logged without secrets and counted, and removeLeftovers finishes it later', async () => {
    const warnings: { obj: object; msg?: string }[] = [];
    const failures: string[] = [];
    const noDocker = createK3dRuntime({
      run: createCommandRunner().run,
      bin: fake.binPath,
      dockerBin: path.join(fake.stateDir, 'no-docker-here'),
      logger: { ...silentLogger, warn: (obj, msg) => warnings.push({ obj, ...(msg ? { msg } : {}) }) },
      onLeftoverFailure: (kind) => failures.push(kind),
      prefix: 'sbx-',
      apiHost: '127.0.0.1',
      createTimeoutMs: 60_000,
    });
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: 'sbx-leaky' });
    try {
      await assert.rejects(noDocker.create(spec('leaky', 6608)), (error: ClusterError) =>
        /also FAILED to rollback/.test(error.detail),
      );
    } finally {
      fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: null });
    }
    await noDocker.delete('sbx-leaky'); // resolves: k3d lists no such cluster

    assert.deepEqual(failures, ['network', 'volume']);
    assert.deepEqual(
      warnings.map((w) => Object.keys(w.obj).sort()),
      [
        ['cluster', 'detail', 'err', 'network'],
        ['cluster', 'detail', 'err', 'volume'],
      ],
      'names and the error only',
    );
    assert.match(JSON.stringify(warnings), /no-docker-here was not found; install it or set its path/);
    assert.ok(fake.networks().includes('k3d-sbx-leaky'));
    assert.ok((await runtime.leftovers()).includes('sbx-leaky'));
    assert.equal(await runtime.removeLeftovers('sbx-leaky'), true);
    assert.ok(!fake.networks().includes('k3d-sbx-leaky'));
    assert.ok(!fake.volumes().includes('k3d-sbx-leaky-images'));
    assert.equal(await runtime.removeLeftovers('sbx-leaky'), true, 'already gone is success');
  });

  it('when a running cluster still uses its network and volume, then removeLeftovers leaves them and says so', async () => {
    await runtime.create(spec('inuse', 6609));
    assert.equal(await runtime.removeLeftovers('sbx-inuse'), false);
    assert.ok(fake.networks().includes('k3d-sbx-inuse'));
    assert.ok(fake.volumes().includes('k3d-sbx-inuse-images'));
    await runtime.delete('sbx-inuse');
  });

  it('when a name without the prefix is given, then k3d is never called', async () => {
    const before = fake.calls().length;
    await assert.rejects(runtime.delete('team-prod'), /does not carry the prefix "sbx-"/);
    fake.addLeftovers('team-prod');
    await assert.rejects(runtime.removeLeftovers('team-prod'), /does not carry the prefix "sbx-"/);
    assert.ok(fake.networks().includes('k3d-team-prod'));
    await assert.rejects(
      runtime.create({ ...spec('x', 6605), clusterName: 'prod' }),
      /does not carry the prefix/,
    );
    assert.equal(fake.calls().length, before);
  });
});
