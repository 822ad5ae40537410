import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coreDnsProblem, nodeProblem } from '../../../src/adapters/kubectl/cluster-checks.js';
import { parseReadinessList } from '../../../src/adapters/kubectl/kubectl-output.js';
import { kubectlTimeout } from '../../../src/adapters/kubectl/suite-run.js';
import { tempNamespaceName } from '../../../src/adapters/kubectl/temp-namespace.js';

const node = (name: string, ready: string, reason?: string) => ({
  metadata: { name, uid: 'x' },
  status: {
    conditions: [
      { type: 'MemoryPressure', status: 'False' },
      { type: 'Ready', status: ready, reason },
    ],
  },
});

describe('kubectl output and checks', () => {
  it('when kubectl prints a node list, then each node reads as Ready or not with the reason', () => {
    const stdout = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [node('a', 'True'), node('b', 'False', 'KubeletNotReady'), { metadata: { name: 'c' } }],
    });
    assert.deepEqual(parseReadinessList(stdout), [
      { name: 'a', ready: true, reason: undefined },
      { name: 'b', ready: false, reason: 'KubeletNotReady' },
      { name: 'c', ready: false, reason: 'no Ready condition' },
    ]);
  });

  it('when kubectl prints something else, then parsing says so instead of guessing', () => {
    assert.equal(parseReadinessList(''), undefined);
    assert.equal(parseReadinessList('error: the server doesn\'t have a resource type "nodes"'), undefined);
    assert.equal(parseReadinessList('{"items": [{"metadata": {}}]}'), undefined);
  });

  it('when nodes are missing or not Ready, then the problem names both', () => {
    const ready = { name: 'k3d-x-server-0', ready: true, reason: undefined };
    const notReady = { name: 'k3d-x-agent-0', ready: false, reason: 'KubeletNotReady' };
    assert.equal(nodeProblem([ready, { ...ready, name: 'k3d-x-agent-0' }], 1, 1), undefined);
    assert.equal(
      nodeProblem([ready, notReady], 1, 2),
      'expected 3 nodes (1 server + 2 agents), the API lists 2; not Ready: k3d-x-agent-0 (KubeletNotReady)',
    );
  });

  it('when no CoreDNS pod is Ready, then the problem says which pods there are', () => {
    assert.equal(coreDnsProblem([]), 'no CoreDNS pod (kube-system, k8s-app=kube-dns) exists');
    assert.equal(
      coreDnsProblem([{ name: 'coredns-1', ready: false, reason: 'Pending' }]),
      'no CoreDNS pod is Ready: coredns-1 (Pending)',
    );
    assert.equal(coreDnsProblem([{ name: 'coredns-1', ready: true, reason: undefined }]), undefined);
  });

  it("when a wait has a step limit, then kubectl's own --timeout ends a little before it", () => {
    assert.equal(kubectlTimeout(120_000), '115s');
    assert.equal(kubectlTimeout(2000), '1500ms');
    assert.equal(kubectlTimeout(500), '1s');
  });

  it('when a suite name is odd, then the temporary namespace is still a valid label', () => {
    assert.match(tempNamespaceName('smoke'), /^sbx-smoke-[0-9a-f]{6}$/);
    assert.match(tempNamespaceName('My_Suite.v2'), /^sbx-my-suite-v2-[0-9a-f]{6}$/);
    assert.match(tempNamespaceName('___'), /^sbx-suite-[0-9a-f]{6}$/);
    assert.ok(tempNamespaceName('x'.repeat(63)).length <= 63);
  });
});
