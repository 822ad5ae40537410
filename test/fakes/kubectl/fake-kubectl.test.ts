import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createFakeKubectl, type FakeKubectl, KUBECTL_OPS } from './fake-kubectl.js';

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface Sandbox {
  dir: string;
  fake: FakeKubectl;
  kubeconfig: string;
  /** Runs the fake with `--kubeconfig` appended (unless `bare`) and the fake's environment. */
  kubectl(
    args: string[],
    opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number; bare?: boolean },
  ): Run;
  writeCluster(fields: Record<string, unknown>): void;
  file(name: string, text: string): string;
}

/** A temp state dir with one cluster record as the fake k3d would write it, and the kubeconfig k3d would print. */
function sandbox(t: { after(fn: () => void): void }, cluster: Record<string, unknown> = {}): Sandbox {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-kubectl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stateDir = path.join(dir, 'state');
  const fake = createFakeKubectl({ stateDir });
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  };
  const writeCluster = (fields: Record<string, unknown>) => {
    const record = {
      name: 'demo',
      servers: 1,
      agents: 2,
      running: true,
      apiHost: '0.0.0.0',
      apiPort: 45678,
      ...fields,
    };
    file(`state/clusters/${String(record.name)}.json`, JSON.stringify(record));
  };
  writeCluster(cluster);
  const kubeconfig = file('kubeconfig.yaml', kubeconfigYaml('demo', 45678));
  chmodSync(kubeconfig, 0o600);
  const kubectl: Sandbox['kubectl'] = (args, opts = {}) => {
    const started = performance.now();
    const r = spawnSync(fake.binPath, opts.bare ? args : [...args, '--kubeconfig', kubeconfig], {
      encoding: 'utf8',
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 20_000,
      env: { PATH: process.env.PATH ?? '', ...fake.env, ...opts.env },
    });
    return {
      status: r.status,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      ms: performance.now() - started,
    };
  };
  return { dir, fake, kubeconfig, kubectl, writeCluster, file };
}

/** What `k3d kubeconfig get NAME` prints. */
function kubeconfigYaml(name: string, port: number): string {
  return `---
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi==
    server: https://0.0.0.0:${port}
  name: k3d-${name}
contexts:
- context:
    cluster: k3d-${name}
    user: admin@k3d-${name}
  name: k3d-${name}
current-context: k3d-${name}
kind: Config
preferences: {}
users:
- name: admin@k3d-${name}
  user:
    client-certificate-data: LS0tLS1CRUdJTi==
    client-key-data: LS0tLS1CRUdJTi==
`;
}

const DEPLOYMENT = `# the smoke app
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
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
`;

function ok(r: Run, why = ''): string {
  assert.equal(r.status, 0, `${why} expected exit 0, got ${r.status}: ${r.stderr}`);
  return r.stdout;
}
function failed(r: Run): string {
  assert.equal(r.status, 1, `expected exit 1, got ${r.status}: ${r.stdout}`);
  return r.stderr;
}

interface NodeJson {
  metadata: { name: string; labels: Record<string, string> };
  spec: { taints?: { key: string }[] };
  status: {
    conditions: { type: string; status: string; reason: string }[];
    nodeInfo: { kubeletVersion: string };
  };
}
const readyOf = (n: NodeJson) => n.status.conditions.find((c) => c.type === 'Ready');

/** A cluster with namespace `smoke` holding the nginx deployment, its service and a job. */
function withSmokeApp(s: Sandbox): void {
  ok(s.kubectl(['create', 'namespace', 'smoke']));
  ok(
    s.kubectl(['apply', '-n', 'smoke', '-f', s.file('app.yaml', `${DEPLOYMENT}---\n${SERVICE}---\n${JOB}`)]),
  );
}

describe('fake kubectl', () => {
  test('prints the v1.31.4 client version as JSON without needing a cluster or a kubeconfig', (t) => {
    const s = sandbox(t, { running: false });
    const r = s.kubectl(['version', '--client', '-o', 'json', '--kubeconfig', '/nowhere'], { bare: true });
    const version = JSON.parse(ok(r));
    assert.equal(version.clientVersion.gitVersion, 'v1.31.4');
    assert.equal(version.clientVersion.major, '1');
    assert.equal(version.kustomizeVersion, 'v5.4.2');
  });

  test('lists one Ready node per server and agent, by name, with control-plane labels on servers only', (t) => {
    const s = sandbox(t, { servers: 1, agents: 2 });
    const list = JSON.parse(ok(s.kubectl(['get', 'nodes', '-o', 'json'])));
    assert.equal(list.kind, 'List');
    const nodes = list.items as NodeJson[];
    assert.deepEqual(
      nodes.map((n) => n.metadata.name),
      ['k3d-demo-agent-0', 'k3d-demo-agent-1', 'k3d-demo-server-0'],
    );
    for (const n of nodes) {
      assert.equal(readyOf(n)?.status, 'True');
      assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.31.5+k3s1');
      const isServer = n.metadata.name.includes('-server-');
      assert.equal(n.metadata.labels['node-role.kubernetes.io/control-plane'], isServer ? 'true' : undefined);
    }
  });

  test('reports the last created nodes NotReady and leaves out missing ones when the knobs say so', (t) => {
    const s = sandbox(t, { servers: 1, agents: 3 });
    s.fake.setKnobs({ FAKE_KUBECTL_MISSING_NODES: 1, FAKE_KUBECTL_NOT_READY_NODES: 1 });
    const nodes = JSON.parse(ok(s.kubectl(['get', 'nodes', '-o', 'json']))).items as NodeJson[];
    assert.deepEqual(
      nodes.map((n) => [n.metadata.name, readyOf(n)?.status]),
      [
        ['k3d-demo-agent-0', 'True'],
        ['k3d-demo-agent-1', 'False'],
        ['k3d-demo-server-0', 'True'],
      ],
    );
    const notReady = nodes.find((n) => readyOf(n)?.status === 'False');
    assert.equal(readyOf(notReady!)?.reason, 'KubeletNotReady');
    assert.equal(notReady?.spec.taints?.[0]?.key, 'node.kubernetes.io/not-ready');
  });

  test('returns one running, ready coredns pod for the kube-dns selector', (t) => {
    const s = sandbox(t);
    const r = s.kubectl([
      'get',
      'pods',
      '-o',
      'json',
      '--selector=k8s-app=kube-dns',
      '--namespace=kube-system',
    ]);
    const pods = JSON.parse(ok(r)).items;
    assert.equal(pods.length, 1);
    assert.match(pods[0].metadata.name, /^coredns-ccb96694c-[a-z0-9]{5}$/);
    assert.equal(pods[0].status.phase, 'Running');
    assert.equal(pods[0].status.containerStatuses[0].ready, true);
    assert.equal(pods[0].status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
  });

  test('refuses the connection like kubectl when the cluster is stopped, unknown or on another port', (t) => {
    const s = sandbox(t, { running: false });
    const refused =
      'The connection to the server 0.0.0.0:45678 was refused - did you specify the right host or port?';
    const stderr = failed(s.kubectl(['get', 'nodes', '-o', 'json']));
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.at(-1), refused);
    assert.equal(lines.length, 6, 'five discovery errors come first');
    assert.match(
      lines[0] ?? '',
      /^E\d{4} .* memcache\.go:265\] "Unhandled Error" err="couldn't get current server API group list/,
    );
    // get --raw skips discovery: only the final line.
    assert.equal(failed(s.kubectl(['get', '--raw', '/healthz'])), `${refused}\n`);
    // apply fails earlier, downloading the OpenAPI schema to validate the file.
    const manifest = s.file('d.yaml', DEPLOYMENT);
    assert.equal(
      failed(s.kubectl(['apply', '-n', 'default', '-f', manifest])),
      `error: error validating "${manifest}": error validating data: failed to download openapi: Get "https://0.0.0.0:45678/openapi/v2?timeout=32s": dial tcp 0.0.0.0:45678: connect: connection refused; if you choose to ignore these errors, turn validation off with --validate=false\n`,
    );
    s.writeCluster({ running: true, apiPort: 40000 });
    assert.match(failed(s.kubectl(['get', 'nodes', '-o', 'json'])), /server 0\.0\.0\.0:45678 was refused/);
    s.writeCluster({ name: 'other' });
    rmSync(path.join(s.dir, 'state', 'clusters', 'demo.json'));
    assert.match(failed(s.kubectl(['create', 'namespace', 'x'])), /was refused - did you specify/);
  });

  test('fails like kubectl when the --kubeconfig file does not exist', (t) => {
    const s = sandbox(t);
    const missing = path.join(s.dir, 'gone.yaml');
    const r = s.kubectl(['get', 'nodes', '-o', 'json', `--kubeconfig=${missing}`], { bare: true });
    assert.equal(failed(r), `error: stat ${missing}: no such file or directory\n`);
  });

  test('finds the cluster through $KUBECONFIG, and falls back to localhost:8080 when that file is missing', (t) => {
    const s = sandbox(t);
    ok(s.kubectl(['get', 'nodes', '-o', 'json'], { bare: true, env: { KUBECONFIG: s.kubeconfig } }));
    const r = s.kubectl(['get', 'nodes', '-o', 'json'], {
      bare: true,
      env: { KUBECONFIG: path.join(s.dir, 'gone') },
    });
    assert.match(failed(r), /The connection to the server localhost:8080 was refused/);
  });

  test('creates a namespace once, then says it already exists, and rejects invalid names', (t) => {
    const s = sandbox(t);
    assert.equal(ok(s.kubectl(['create', 'namespace', 'smoke-1'])), 'namespace/smoke-1 created\n');
    assert.equal(
      failed(s.kubectl(['create', 'namespace', 'smoke-1'])),
      'Error from server (AlreadyExists): namespaces "smoke-1" already exists\n',
    );
    assert.match(failed(s.kubectl(['create', 'ns', 'default'])), /namespaces "default" already exists/);
    assert.match(failed(s.kubectl(['create', 'namespace', 'Smoke'])), /^The Namespace "Smoke" is invalid: /);
    assert.deepEqual(s.fake.namespaces('demo'), ['smoke-1']);
  });

  test('applies a multi-document file, a directory and stdin, then reports unchanged and configured', (t) => {
    const s = sandbox(t);
    ok(s.kubectl(['create', 'namespace', 'smoke']));
    const file = s.file('app.yaml', `${DEPLOYMENT}---\n${SERVICE}`);
    assert.equal(
      ok(s.kubectl(['apply', '-n', 'smoke', '-f', file])),
      'deployment.apps/web created\nservice/web created\n',
    );
    s.file('dir/b-job.yml', JOB);
    s.file(
      'dir/a-config.json',
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }),
    );
    s.file('dir/notes.txt', 'not a manifest');
    assert.equal(
      ok(s.kubectl(['apply', '-f', path.join(s.dir, 'dir'), '--namespace', 'smoke'])),
      'configmap/cfg created\njob.batch/probe created\n',
    );
    // Comments do not change an object; a new image does.
    const edited = `# reformatted\n${DEPLOYMENT.replace('nginx:1.27', 'nginx:1.28')}`;
    assert.equal(
      ok(s.kubectl(['apply', '-n', 'smoke', '-f', '-'], { input: `${edited}---\n# c\n${SERVICE}` })),
      'deployment.apps/web configured\nservice/web unchanged\n',
    );
  });

  test('fails to apply into a missing namespace with NotFound for every object and records nothing', (t) => {
    const s = sandbox(t);
    const file = s.file('app.yaml', `${DEPLOYMENT}---\n${SERVICE}`);
    const stderr = failed(s.kubectl(['apply', '-n', 'nope', '-f', file]));
    const notFound = `Error from server (NotFound): error when creating "${file}": namespaces "nope" not found`;
    assert.equal(stderr, `${notFound}\n${notFound}\n`);
    assert.equal(
      failed(s.kubectl(['apply', '-n', 'nope', '-f', '-'], { input: SERVICE })),
      'Error from server (NotFound): error when creating "STDIN": namespaces "nope" not found\n',
    );
    assert.deepEqual(s.fake.namespaces('demo'), []);
  });

  test('rejects manifests without a kind, of an unknown kind or from a missing path before creating anything', (t) => {
    const s = sandbox(t);
    const bad = s.file('bad.yaml', `${SERVICE}---\nmetadata:\n  name: x\n`);
    assert.match(
      failed(s.kubectl(['apply', '-f', bad])),
      /error validating data: \[apiVersion not set, kind not set\]/,
    );
    const crd = s.file('crd.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n');
    assert.match(
      failed(s.kubectl(['apply', '-f', crd])),
      /no matches for kind "Widget" in version "example.com\/v1"/,
    );
    assert.equal(
      failed(s.kubectl(['apply', '-f', '/no/such'])),
      'error: the path "/no/such" does not exist\n',
    );
    const r = s.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/']);
    assert.match(failed(r), /services "web" not found/, 'the valid Service in bad.yaml was not created');
  });

  test('waits for a fresh rollout replica by replica, then reports it rolled out; unknown ones are NotFound', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    const args = ['rollout', 'status', 'deployment/web', '-n', 'smoke', '--timeout=90s'];
    assert.equal(
      ok(s.kubectl(args)),
      'Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...\n' +
        'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...\n' +
        'deployment "web" successfully rolled out\n',
    );
    assert.equal(ok(s.kubectl(args)), 'deployment "web" successfully rolled out\n');
    assert.equal(
      failed(s.kubectl(['rollout', 'status', 'deployment/api', '-n', 'smoke', '--timeout=90s'])),
      'Error from server (NotFound): deployments.apps "api" not found\n',
    );
  });

  test('waits for every deployment and job, and finds no matching resources in an empty namespace', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    const available = [
      'wait',
      '--for=condition=Available',
      'deployment',
      '--all',
      '-n',
      'smoke',
      '--timeout=120s',
    ];
    assert.equal(ok(s.kubectl(available)), 'deployment.apps/web condition met\n');
    const complete = ['wait', '--for=condition=Complete', 'job', '--all', '-n', 'smoke', '--timeout=60s'];
    assert.equal(ok(s.kubectl(complete)), 'job.batch/probe condition met\n');
    const empty = [
      'wait',
      '--for=condition=Available',
      'deployment',
      '--all',
      '-n',
      'default',
      '--timeout=5s',
    ];
    assert.equal(failed(s.kubectl(empty)), 'error: no matching resources found\n');
  });

  test('sits out the timeout when waiting for a condition the objects never reach', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    const r = s.kubectl([
      'wait',
      '--for=condition=Complete',
      'deployment',
      '--all',
      '-n',
      'smoke',
      '--timeout=1s',
    ]);
    assert.equal(failed(r), 'error: timed out waiting for the condition on deployments/web\n');
    assert.ok(r.ms >= 1000, `took ${r.ms} ms`);
  });

  test('serves the nginx welcome page through the service proxy, and NotFound for a missing service', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    const page = ok(s.kubectl(['get', '--raw', '/api/v1/namespaces/smoke/services/web:80/proxy/']));
    assert.match(page, /^<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!<\/title>/);
    assert.equal(
      failed(s.kubectl(['get', '--raw', '/api/v1/namespaces/smoke/services/db:80/proxy/'])),
      'Error from server (NotFound): services "db" not found\n',
    );
    assert.match(
      failed(s.kubectl(['get', '--raw', '/api/v1/namespaces/smoke/services/web:81/proxy/'])),
      /no endpoints/,
    );
  });

  test('deletes a namespace with its objects, fails on a missing one unless told to ignore it', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    assert.deepEqual(s.fake.namespaces('demo'), ['smoke']);
    assert.equal(
      ok(s.kubectl(['delete', 'namespace', 'smoke', '--wait=false'])),
      'namespace "smoke" deleted\n',
    );
    assert.deepEqual(s.fake.namespaces('demo'), []);
    assert.equal(
      failed(s.kubectl(['delete', 'namespace', 'smoke'])),
      'Error from server (NotFound): namespaces "smoke" not found\n',
    );
    assert.equal(ok(s.kubectl(['delete', 'namespace', 'smoke', '--ignore-not-found', '--wait=false'])), '');
    assert.match(
      failed(s.kubectl(['delete', 'namespace', 'kube-system'])),
      /this namespace may not be deleted/,
    );
    // The namespace comes back empty: its objects went with it.
    ok(s.kubectl(['create', 'namespace', 'smoke']));
    assert.match(failed(s.kubectl(['rollout', 'status', 'deploy/web', '-n', 'smoke'])), /not found/);
  });

  test('accepts flags in any order and in both --flag value and --flag=value forms', (t) => {
    const s = sandbox(t);
    ok(s.kubectl(['--kubeconfig', s.kubeconfig, 'create', 'namespace', 'smoke'], { bare: true }));
    const file = s.file('d.yaml', DEPLOYMENT);
    ok(
      s.kubectl([`--kubeconfig=${s.kubeconfig}`, '--namespace=smoke', 'apply', `--filename=${file}`], {
        bare: true,
      }),
    );
    ok(s.kubectl(['-nsmoke', 'rollout', '--timeout', '90s', 'status', 'deployment', 'web']));
    ok(s.kubectl(['wait', '-n=smoke', '--all', 'deployments', '--for', 'condition=available']));
    ok(s.kubectl(['-o', 'json', 'get', 'nodes']));
  });

  test('rejects unknown commands and unsupported shapes of known ones as unknown commands', (t) => {
    const s = sandbox(t);
    assert.equal(
      failed(s.kubectl(['logs', 'web'], { bare: true })),
      'error: unknown command "logs" for "kubectl"\n',
    );
    for (const args of [
      ['get', 'nodes'],
      ['get', 'pods', '-n', 'default', '-o', 'json'],
      ['delete', 'deployment', 'web'],
      ['apply', '-f', 'x.yaml', '--server-side'],
    ]) {
      assert.equal(
        failed(s.kubectl(args, { bare: true })),
        `error: unknown command "${args.join(' ')}" for "kubectl"\n`,
      );
    }
    assert.equal(s.fake.calls().at(-1)?.op, null);
  });

  test('fails each operation named in FAKE_KUBECTL_FAIL with a kubectl-like error and exit 1', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    const argvOf = {
      nodes: ['get', 'nodes', '-o', 'json'],
      dns: ['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'json'],
      'create-ns': ['create', 'namespace', 'other'],
      apply: ['apply', '-n', 'smoke', '-f', s.file('d.yaml', DEPLOYMENT)],
      rollout: ['rollout', 'status', 'deployment/web', '-n', 'smoke', '--timeout=90s'],
      wait: ['wait', '--for=condition=Available', 'deployment', '--all', '-n', 'smoke', '--timeout=120s'],
      raw: ['get', '--raw', '/api/v1/namespaces/smoke/services/web:80/proxy/'],
      'delete-ns': ['delete', 'namespace', 'smoke', '--ignore-not-found', '--wait=false'],
    } as const;
    const expected = {
      nodes: /^Error from server \(ServiceUnavailable\): .*\(get nodes\)$/,
      dns: /^Error from server \(ServiceUnavailable\): .*\(get pods\)$/,
      'create-ns': /^Error from server \(InternalError\): Internal error occurred: Timeout/,
      apply: /^Error from server \(BadRequest\): error when creating ".*d\.yaml": .*strict decoding error/,
      rollout: /^error: deployment "web" exceeded its progress deadline$/,
      wait: /^error: timed out waiting for the condition on deployments\/web$/,
      raw: /^Error from server \(ServiceUnavailable\): the server is currently unable to handle the request$/,
      'delete-ns': /^Error from server \(InternalError\): Internal error occurred: Timeout/,
    };
    for (const op of KUBECTL_OPS) {
      const r = s.kubectl([...argvOf[op]], { env: { FAKE_KUBECTL_FAIL: op } });
      assert.match(failed(r).trimEnd(), expected[op], op);
    }
    assert.deepEqual(s.fake.namespaces('demo'), ['smoke'], 'nothing was created or deleted');
  });

  test('hangs an operation named in FAKE_KUBECTL_HANG until it is killed, and logs the call as hung', (t) => {
    const s = sandbox(t);
    s.fake.setKnobs({ FAKE_KUBECTL_HANG: ['nodes'] });
    const r = s.kubectl(['get', 'nodes', '-o', 'json'], { timeoutMs: 1500 });
    assert.equal(r.signal, 'SIGTERM');
    assert.equal(r.stdout, '');
    const call = s.fake.calls().at(-1);
    assert.equal(call?.hung, true);
    assert.equal(call?.end, null);
    ok(s.kubectl(['create', 'namespace', 'smoke']));
  });

  test('reads the knobs file on every call, and it overrides the environment', (t) => {
    const s = sandbox(t);
    const getNodes = () =>
      s.kubectl(['get', 'nodes', '-o', 'json'], { env: { FAKE_KUBECTL_FAIL: 'nodes,dns' } });
    failed(getNodes());
    s.fake.setKnobs({ FAKE_KUBECTL_FAIL: ['dns'] });
    ok(getNodes());
    s.fake.setKnobs({ FAKE_KUBECTL_MISSING_NODES: 2 });
    assert.equal(JSON.parse(ok(getNodes())).items.length, 1);
  });

  test('delays every call by FAKE_KUBECTL_DELAY_MS', (t) => {
    const s = sandbox(t);
    const r = s.kubectl(['version', '--client', '-o', 'json'], { env: { FAKE_KUBECTL_DELAY_MS: '700' } });
    ok(r);
    assert.ok(r.ms >= 700, `took ${r.ms} ms`);
  });

  test('logs every call with argv, times, exit code, kubeconfig path and whether the kubeconfig is 0600', (t) => {
    const s = sandbox(t);
    ok(s.kubectl(['get', 'nodes', '-o', 'json']));
    chmodSync(s.kubeconfig, 0o644);
    failed(s.kubectl(['delete', 'namespace', 'nope']));
    const [first, second] = s.fake.calls();
    assert.deepEqual(first?.argv, ['get', 'nodes', '-o', 'json', '--kubeconfig', s.kubeconfig]);
    assert.equal(first?.op, 'nodes');
    assert.equal(first?.exitCode, 0);
    assert.equal(first?.kubeconfig, s.kubeconfig);
    assert.equal(first?.kubeconfigMode0600, true);
    assert.ok(Date.parse(first?.end ?? '') >= Date.parse(first?.start ?? ''));
    assert.equal(second?.op, 'delete-ns');
    assert.equal(second?.exitCode, 1);
    assert.equal(second?.kubeconfigMode0600, false);
  });

  test('cleans up only what the fake kubectl wrote', (t) => {
    const s = sandbox(t);
    withSmokeApp(s);
    s.fake.setKnobs({ FAKE_KUBECTL_DELAY_MS: 1 });
    s.fake.cleanup();
    assert.deepEqual(s.fake.calls(), []);
    assert.deepEqual(s.fake.namespaces('demo'), []);
    ok(s.kubectl(['get', 'nodes', '-o', 'json']), 'the cluster record of the fake k3d is still there');
  });
});
