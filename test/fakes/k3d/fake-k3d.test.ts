// Proves that the fake k3d behaves like k3d v5.8.3 where a driver can tell the difference
// (see /work/shared/reference/k3d-cli.md): streams, exit codes, texts, JSON/YAML shapes, kubeconfig, knobs.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createFakeK3d, type FakeK3d } from './fake-k3d.js';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let fake: FakeK3d;
let kubeconfig: string;

beforeEach(() => {
  fake = createFakeK3d();
  kubeconfig = path.join(fake.stateDir, 'scratch-kubeconfig.yaml');
});
afterEach(() => fake.cleanup());

/** A clean environment: only what the fake needs, plus a private KUBECONFIG unless a test overrides it. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: fake.homeDir, KUBECONFIG: kubeconfig, ...fake.env, ...extra };
}
function k3d(args: string[], extra: Record<string, string> = {}): Result {
  const result = spawnSync(fake.binPath, args, { env: childEnv(extra), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
function docker(args: string[], extra: Record<string, string> = {}): Result {
  const result = spawnSync(fake.dockerBinPath, args, { env: childEnv(extra), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
/** LOG_COLORS=false switches k3d's logger to logfmt, which is what the bot's driver uses. */
const logfmt = (args: string[], extra: Record<string, string> = {}) =>
  k3d(args, { LOG_COLORS: 'false', ...extra });

function start(args: string[], extra: Record<string, string> = {}): ChildProcess {
  return spawn(fake.binPath, args, { env: childEnv({ LOG_COLORS: 'false', ...extra }), stdio: 'ignore' });
}
function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A port nothing listens on right now, so tests never collide with a real service or another suite. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const MSG = /level=(\w+) msg="((?:[^"\\]|\\.)*)"/g;
/** `level msg` pairs of logfmt lines. */
const entries = (stream: string) =>
  [...stream.matchAll(MSG)].map((m) => `${m[1]} ${JSON.parse(`"${m[2]}"`)}`);
const messages = (stream: string) => entries(stream).map((e) => e.slice(e.indexOf(' ') + 1));
const listJson = (args: string[] = []) =>
  JSON.parse(k3d(['cluster', 'list', '-o', 'json', ...args]).stdout) as Record<string, unknown>[];
const decode = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');
const yamlField = (yaml: string, key: string) => new RegExp(`${key}: (.*)`).exec(yaml)?.[1] ?? '';

describe('fake k3d: process contract', () => {
  it('when FAKE_K3D_STATE_DIR is unset, then it exits 1 and says which variable to set', () => {
    const result = spawnSync(fake.binPath, ['version'], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /FAKE_K3D_STATE_DIR is not set/);
  });

  it('when asked for its version, then it prints the k3d and default k3s versions, also as JSON', () => {
    assert.deepEqual(k3d(['version']), {
      code: 0,
      stdout: 'k3d version v5.8.3\nk3s version v1.31.5-k3s1 (default)\n',
      stderr: '',
    });
    assert.equal(k3d(['version', '-o', 'json']).stdout, '{"k3d":"v5.8.3","k3s":"v1.31.5-k3s1"}\n');
  });

  it('when invoked, then calls() records argv, the resolved command, times, exit code and KUBECONFIG/LOG_COLORS', () => {
    logfmt(['cluster', 'ls', 'nope']);
    const [call] = fake.calls();
    assert.ok(call);
    assert.deepEqual(call.argv, ['cluster', 'ls', 'nope']);
    assert.equal(call.command, 'cluster list');
    assert.equal(call.exitCode, 1);
    assert.ok(call.end !== undefined && call.end >= call.start);
    assert.deepEqual(call.env, { KUBECONFIG: kubeconfig, LOG_COLORS: 'false' });
  });

  it('when a FATA is logged, then it goes to stderr, stdout stays empty and the exit code is 1', () => {
    const result = k3d(['cluster', 'list', 'nope']);
    assert.deepEqual(result, {
      code: 1,
      stdout: '',
      stderr: `\x1b[31mFATA\x1b[0m[0000] ${'No nodes found for given cluster'.padEnd(44)} \n`,
    });
  });

  it('when LOG_LEVEL=warn, then INFO lines are suppressed and stdout holds only plain output', () => {
    const result = k3d(['cluster', 'create', 'quiet'], { LOG_LEVEL: 'warn' });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'kubectl cluster-info\n');
  });

  it('when --verbose is given, then DEBU lines land on stdout like real k3d (corrupting JSON output)', () => {
    const result = k3d(['cluster', 'list', '-o', 'json', '--verbose']);
    assert.ok(result.stdout.startsWith('\x1b[37mDEBU\x1b[0m[0000] Runtime Info:'));
    assert.throws(() => JSON.parse(result.stdout));
  });
});

describe('fake k3d: cluster create', () => {
  it('when created with defaults, then coloured, padded INFO lines go to stdout and stderr stays empty', () => {
    const result = k3d(['cluster', 'create', 'demo']);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], `\x1b[36mINFO\x1b[0m[0000] ${'Prep: Network'.padEnd(44)} `);
    assert.ok(
      lines.includes(`\x1b[36mINFO\x1b[0m[0000] ${"Cluster 'demo' created successfully!".padEnd(44)} `),
    );
    assert.deepEqual(lines.slice(-2), ['kubectl cluster-info', '']);
  });

  it('when LOG_COLORS is false, then lines are logfmt and the phases come in k3d order', () => {
    const result = logfmt(['cluster', 'create', 'demo']);
    assert.match(
      result.stdout,
      /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=info msg="Prep: Network"\n/,
    );
    assert.deepEqual(
      messages(result.stdout).map((m) => m.replace(/172\.\d+\.0\.1/, 'GW')),
      [
        'Prep: Network',
        "Created network 'k3d-demo'",
        'Created image volume k3d-demo-images',
        'Starting new tools node...',
        "Creating node 'k3d-demo-server-0'",
        "Starting node 'k3d-demo-tools'",
        "Creating LoadBalancer 'k3d-demo-serverlb'",
        'Using the k3d-tools node to gather environment information',
        'HostIP: using network gateway GW address',
        "Starting cluster 'demo'",
        'Starting servers...',
        "Starting node 'k3d-demo-server-0'",
        'All agents already running.',
        'Starting helpers...',
        "Starting node 'k3d-demo-serverlb'",
        'Injecting records for hostAliases (incl. host.k3d.internal) and for 2 network members into CoreDNS configmap...',
        "Cluster 'demo' created successfully!",
        'You can now use it like this:',
      ],
    );
  });

  it('when created with 2 servers and agents, then the init-server lines and the quorum WARN (stderr) appear', () => {
    const result = logfmt(['cluster', 'create', 'ha', '--servers', '2', '-a', '2']);
    assert.equal(result.code, 0);
    const lines = messages(result.stdout);
    assert.ok(lines.includes('Creating initializing server node'));
    assert.ok(lines.includes('Starting the initializing server...'));
    assert.ok(lines.includes('Starting agents...'));
    assert.deepEqual(entries(result.stderr), [
      "warning You're creating 2 server nodes: Please consider creating at least 3 to achieve etcd quorum & fault tolerance",
    ]);
  });

  it('when created with default kubeconfig flags, then the entries are merged into $KUBECONFIG and current-context switches', () => {
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\ncurrent-context: other\ncontexts:\n- context:\n    cluster: other\n  name: other\n',
    );
    logfmt(['cluster', 'create', 'demo']);
    const text = readFileSync(kubeconfig, 'utf8');
    assert.match(text, /^- context:\n {4}cluster: k3d-demo\n {4}user: admin@k3d-demo\n {2}name: k3d-demo$/m);
    assert.match(text, /^ {2}name: other$/m);
    assert.match(text, /^current-context: k3d-demo$/m);
    assert.match(text, /^users:\n- name: admin@k3d-demo$/m);
  });

  it('when no KUBECONFIG is set, then the default kubeconfig under $HOME (FAKE_K3D_HOME) is written', () => {
    const result = spawnSync(fake.binPath, ['cluster', 'create', 'demo'], {
      env: { PATH: process.env.PATH ?? '', ...fake.env },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0);
    assert.match(
      readFileSync(path.join(fake.homeDir, '.kube', 'config'), 'utf8'),
      /current-context: k3d-demo/,
    );
  });

  it('when --kubeconfig-update-default=false, then it says so, prints the export line and writes no kubeconfig', () => {
    const result = logfmt(['cluster', 'create', 'demo', '--kubeconfig-update-default=false']);
    assert.equal(result.code, 0);
    assert.ok(
      messages(result.stdout).includes(
        '--kubeconfig-update-default=false --> sets --kubeconfig-switch-context=false',
      ),
    );
    assert.ok(
      result.stdout.endsWith(
        `export KUBECONFIG=$(${fake.binPath} kubeconfig write demo)\nkubectl cluster-info\n`,
      ),
    );
    assert.equal(existsSync(kubeconfig), false);
  });

  it('when only --kubeconfig-switch-context=false, then it prints the use-context hint', () => {
    const result = logfmt(['cluster', 'create', 'demo', '--kubeconfig-switch-context=false']);
    assert.ok(result.stdout.endsWith('kubectl config use-context k3d-demo\nkubectl cluster-info\n'));
  });

  it('when KUBECONFIG lists two files, then create still succeeds but WARNs and writes nothing', () => {
    const result = logfmt(['cluster', 'create', 'demo'], { KUBECONFIG: `${kubeconfig}:${kubeconfig}.2` });
    assert.equal(result.code, 0);
    assert.deepEqual(messages(result.stderr), [
      'failed to get default kubeconfig path: multiple kubeconfigs specified via KUBECONFIG env var: Please reduce to one entry, unset KUBECONFIG or explicitly choose an output',
    ]);
  });

  it('when the name is not an RFC 1123 hostname, then FATA with the double-space text and nothing is created', () => {
    const result = logfmt(['cluster', 'create', 'My_Cluster']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.deepEqual(entries(result.stderr), [
      "fatal Failed Cluster Configuration Validation:  provided cluster name 'My_Cluster' does not match requirements: Invalid cluster name. name My_Cluster is not a valid hostname as per RFC 1123",
    ]);
    assert.deepEqual(fake.clusters(), []);
  });

  it('when the name has 33 characters, then FATA says it must be <= 32', () => {
    const result = logfmt(['cluster', 'create', 'a'.repeat(33)]);
    assert.equal(result.code, 1);
    assert.deepEqual(messages(result.stderr), [
      `Failed Cluster Configuration Validation:  provided cluster name '${'a'.repeat(33)}' does not match requirements: Cluster name must be <= 32 characters, but has 33`,
    ]);
  });

  it('when the cluster already exists, then FATA with the exact text and the cluster is untouched', () => {
    fake.addCluster('demo');
    const before = fake.cluster('demo');
    const result = logfmt(['cluster', 'create', 'demo']);
    assert.equal(result.code, 1);
    assert.deepEqual(messages(result.stderr), [
      "Failed to create cluster 'demo' because a cluster with that name already exists",
    ]);
    assert.deepEqual(fake.cluster('demo'), before);
  });

  it('when an unknown flag is passed, then cobra prints Error + usage on stderr and logrus (not yet set up) logs FATA', () => {
    const result = k3d(['cluster', 'create', 'demo', '--bogus']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^Error: unknown flag: --bogus\nUsage:\n {2}k3d cluster create NAME \[flags\]\n\nFlags:\n/,
    );
    assert.match(result.stderr, /\n\ntime="[^"]+" level=fatal msg="unknown flag: --bogus"\n$/);
  });

  it('when the name starts with a dash, then it is parsed as shorthand flags', () => {
    const result = k3d(['cluster', 'create', '-xyz']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: unknown shorthand flag: 'x' in -xyz\n/);
  });

  it('when two names are given, then the Args error is logged by the configured logger', () => {
    const result = logfmt(['cluster', 'create', 'a', 'b']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: accepts between 0 and 1 arg\(s\), received 2\n/);
    assert.deepEqual(messages(result.stderr), ['accepts between 0 and 1 arg(s), received 2']);
  });

  it('when --k3s-arg has no node filter and the cluster has a load balancer, then FATA before anything is created', () => {
    const result = logfmt(['cluster', 'create', 'demo', '--k3s-arg', '--disable=traefik']);
    assert.equal(result.code, 1);
    assert.deepEqual(messages(result.stderr), [
      "K3sExtraArg '--disable=traefik' lacks a node filter, but there's more than one node",
    ]);
    assert.equal(logfmt(['cluster', 'create', 'demo', '--k3s-arg', '--disable=traefik@server:*']).code, 0);
  });

  it('when --timeout is negative or not a Go duration, then it fails like k3d', () => {
    assert.deepEqual(messages(logfmt(['cluster', 'create', 'demo', '--timeout', '-90s']).stderr), [
      "Failed Cluster Configuration Validation:  timeout may not be negative (is '-1m30s')",
    ]);
    assert.match(
      k3d(['cluster', 'create', 'demo', '--timeout', '60']).stderr,
      /^Error: invalid argument "60" for "--timeout" flag: time: missing unit in duration "60"\n/,
    );
  });

  it('when --api-port has a host, then the kubeconfig server uses it; without one it is 0.0.0.0', async () => {
    const [port, other] = [await freePort(), await freePort()];
    logfmt(['cluster', 'create', 'local', '--api-port', `127.0.0.1:${port}`]);
    logfmt(['cluster', 'create', 'anyhost', '--api-port', `${other}`]);
    assert.equal(
      yamlField(k3d(['kubeconfig', 'get', 'local']).stdout, 'server'),
      `https://127.0.0.1:${port}`,
    );
    assert.equal(
      yamlField(k3d(['kubeconfig', 'get', 'anyhost']).stdout, 'server'),
      `https://0.0.0.0:${other}`,
    );
    assert.deepEqual(messages(logfmt(['cluster', 'create', 'x', '--api-port', 'a:b']).stderr), [
      "Failed to apply CLI overrides: failed to parse API Port spec: Failed to parse Port Exposure specification 'a:b': Format must be [(HostIP|HostName):]HostPort",
    ]);
  });

  it("when the API port is held by a running cluster, then start fails with Docker's text and rolls back", async () => {
    const port = await freePort();
    fake.addCluster('holder', { apiHost: '127.0.0.1', apiPort: port });
    const result = logfmt(['cluster', 'create', 'second', '--api-port', `127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    const errors = messages(result.stderr);
    assert.match(
      errors[0] ?? '',
      /^Failed Cluster Start: Failed to add one or more helper nodes: runtime failed to start node 'k3d-second-serverlb': /,
    );
    assert.ok(errors[0]?.endsWith(`: Bind for 127.0.0.1:${port} failed: port is already allocated`));
    assert.deepEqual(errors.slice(1), [
      'Failed to create cluster >>> Rolling Back',
      'Cluster creation FAILED, all changes have been rolled back!',
    ]);
    assert.deepEqual(fake.clusters(), ['holder']);
  });

  it('when a host process listens on the API port, then the create fails with the userland-proxy bind error', async () => {
    const server: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = logfmt(['cluster', 'create', 'busy', '--no-lb', '--api-port', `127.0.0.1:${port}`]);
      assert.equal(result.code, 1);
      assert.match(
        messages(result.stderr)[0] ?? '',
        new RegExp(
          `^Failed Cluster Start: Failed to start server k3d-busy-server-0: .*listen tcp4 127\\.0\\.0\\.1:${port}: bind: address already in use$`,
        ),
      );
    } finally {
      server.close();
    }
  });

  it('when the start phase outlasts --timeout, then it fails with the deadline text and rolls back', () => {
    // A start phase far longer than the deadline: a fake that waited it out would be seen on any machine.
    fake.setKnobs({ FAKE_K3D_DELAY_MS: 30_000 });
    const began = Date.now();
    const result = logfmt(['cluster', 'create', 'slow', '--timeout', '200ms']);
    assert.equal(result.code, 1);
    assert.ok(Date.now() - began < 30_000, 'gave up at the deadline instead of finishing');
    assert.deepEqual(messages(result.stderr), [
      "Failed Cluster Start: Failed to start server k3d-slow-server-0: Node k3d-slow-server-0 failed to get ready: Context deadline exceeded while waiting for log message 'k3s is up and running' of node k3d-slow-server-0: context deadline exceeded",
      'Failed to create cluster >>> Rolling Back',
      'Cluster creation FAILED, all changes have been rolled back!',
    ]);
    assert.deepEqual(fake.clusters(), []);
  });
});

describe('fake k3d: cluster list', () => {
  it('when no cluster exists, then -o json prints [] and the table prints only its header', () => {
    assert.deepEqual(k3d(['cluster', 'list', '-o', 'json']), { code: 0, stdout: '[]\n', stderr: '' });
    assert.equal(k3d(['cluster', 'list']).stdout, 'NAME   SERVERS   AGENTS   LOADBALANCER\n');
  });

  it('when clusters exist, then -o json is one line, sorted by name, with k3d.Cluster keys in order', () => {
    logfmt(['cluster', 'create', 'zeta', '-a', '2']);
    logfmt(['cluster', 'create', 'alpha', '--no-lb']);
    const stdout = k3d(['cluster', 'list', '-o', 'json']).stdout;
    assert.equal(stdout.split('\n').length, 2);
    const [alpha, zeta] = JSON.parse(stdout) as Record<string, unknown>[];
    assert.ok(alpha && zeta);
    assert.deepEqual(Object.keys(zeta), [
      'name',
      'network',
      'nodes',
      'InitNode',
      'imageVolume',
      'serversRunning',
      'serversCount',
      'agentsRunning',
      'agentsCount',
      'hasLoadbalancer',
    ]);
    assert.equal(alpha.name, 'alpha');
    assert.equal('hasLoadbalancer' in alpha, false);
    assert.deepEqual(
      (zeta.nodes as { name: string }[]).map((n) => n.name),
      ['k3d-zeta-serverlb', 'k3d-zeta-agent-1', 'k3d-zeta-agent-0', 'k3d-zeta-server-0'],
    );
    assert.deepEqual(zeta.network, {
      name: 'k3d-zeta',
      id: '',
      ipam: { ipPrefix: '', Managed: false },
      Members: null,
    });
  });

  it('when a server node is listed, then it has the Node keys in struct order and the API labels', async () => {
    const port = await freePort();
    logfmt(['cluster', 'create', 'demo', '--api-port', `127.0.0.1:${port}`]);
    const nodes = listJson()[0]?.nodes as Record<string, unknown>[];
    const server = nodes.find((n) => n.role === 'server') ?? {};
    assert.deepEqual(Object.keys(server), [
      'name',
      'role',
      'image',
      'volumes',
      'env',
      'Cmd',
      'restart',
      'created',
      'runtimeLabels',
      'Networks',
      'ExtraHosts',
      'serverOpts',
      'agentOpts',
      'GPURequest',
      'Memory',
      'State',
      'IP',
      'K3dEntrypoint',
    ]);
    assert.deepEqual(server.serverOpts, {
      kubeAPI: { Port: '', Binding: { HostIp: '127.0.0.1', HostPort: String(port) }, host: '127.0.0.1' },
    });
    assert.equal((server.runtimeLabels as Record<string, string>)['k3d.server.api.port'], String(port));
    assert.deepEqual(server.State, { Running: true, Status: 'running', Started: '' });
    const lb = nodes.find((n) => n.role === 'loadbalancer') ?? {};
    assert.deepEqual(lb.portMappings, { 6443: [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
  });

  it('when created with --runtime-label, then the nodes its filter picks list it if its key starts with k3d, and k3d. keys are refused', () => {
    logfmt(['cluster', 'create', 'owned', '-a', '1', '--runtime-label', 'k3d-owner=bot@server:*']);
    logfmt(['cluster', 'create', 'plain', '--runtime-label', 'team=infra@all']);
    type Listed = { nodes: { role: string; runtimeLabels: Record<string, string> }[] };
    const [owned, plain] = listJson() as unknown as Listed[];
    const labelsOf = (cluster: Listed | undefined) =>
      Object.fromEntries((cluster?.nodes ?? []).map((n) => [n.role, n.runtimeLabels['k3d-owner']]));
    assert.deepEqual(labelsOf(owned), { server: 'bot', agent: undefined, loadbalancer: undefined });
    assert.deepEqual(labelsOf(plain), { server: undefined, loadbalancer: undefined });
    assert.ok(
      plain?.nodes.every((n) => !('team' in n.runtimeLabels)),
      'only k3d* keys are listed',
    );

    const reserved = logfmt(['cluster', 'create', 'bad', '--runtime-label', 'k3d.owner=bot@all']);
    assert.equal(reserved.code, 1);
    assert.deepEqual(messages(reserved.stderr), ['runtime label "k3d.owner" is reserved for internal usage']);
  });

  it('when a cluster is stopped (k3d cluster stop), then it is still listed with every node exited and no IP, and delete removes it', () => {
    logfmt(['cluster', 'create', 'halted', '-a', '1']);
    fake.stopCluster('halted');
    const [halted] = listJson();
    assert.deepEqual(
      [halted?.serversRunning, halted?.serversCount, halted?.agentsRunning, halted?.agentsCount],
      [0, 1, 0, 1],
    );
    const nodes = (halted?.nodes ?? []) as { State: unknown; IP: unknown }[];
    assert.equal(nodes.length, 3);
    for (const node of nodes) {
      assert.deepEqual(node.State, { Running: false, Status: 'exited', Started: '' });
      assert.deepEqual(node.IP, { IP: '', Static: false });
    }
    assert.equal(logfmt(['cluster', 'delete', 'halted']).code, 0);
    assert.deepEqual([fake.clusters(), fake.networks(), fake.volumes()], [[], [], []]);
  });

  it('when names are given (cluster get), then serverLoadBalancer and volumes are added', () => {
    logfmt(['cluster', 'create', 'demo']);
    const [viaGet] = JSON.parse(k3d(['cluster', 'get', 'demo', '-o', 'json']).stdout) as Record<
      string,
      unknown
    >[];
    assert.ok(viaGet);
    assert.deepEqual(Object.keys(viaGet).slice(3, 7), [
      'InitNode',
      'serverLoadBalancer',
      'imageVolume',
      'volumes',
    ]);
    assert.deepEqual((viaGet.serverLoadBalancer as { config: unknown }).config, {
      ports: { '6443.tcp': ['k3d-demo-server-0'] },
      settings: { workerConnections: 1024 },
    });
    assert.deepEqual(viaGet.volumes, ['k3d-demo-images']);
  });

  it('when a named cluster is missing, then stdout is empty and FATA No nodes found exits 1', () => {
    logfmt(['cluster', 'create', 'demo']);
    const result = logfmt(['cluster', 'list', 'demo', 'nope', '-o', 'json']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.deepEqual(entries(result.stderr), ['fatal No nodes found for given cluster']);
  });

  it('when the output format is unknown, then the table is printed with tabwriter spacing', () => {
    logfmt(['cluster', 'create', 'demo', '-a', '2']);
    fake.addCluster('stopped-one', { running: false });
    assert.equal(
      k3d(['cluster', 'list', '-o', 'table']).stdout,
      'NAME          SERVERS   AGENTS   LOADBALANCER\ndemo          1/1       2/2      true\nstopped-one   0/1       0/0      true\n',
    );
  });

  it('when -o yaml is asked for, then keys are sorted like sigs.k8s.io/yaml and sequences sit under their key', () => {
    logfmt(['cluster', 'create', 'demo']);
    const yaml = k3d(['cluster', 'list', '-o', 'yaml']).stdout;
    assert.match(
      yaml,
      /^- InitNode: null\n {2}agentsCount: 0\n {2}agentsRunning: 0\n {2}hasLoadbalancer: true\n/,
    );
    assert.match(yaml, /\n {2}nodes:\n {2}- Cmd: null\n/);
    assert.ok(yaml.endsWith('serversRunning: 1\n\n'));
  });
});

describe('fake k3d: kubeconfig get', () => {
  it('when the cluster exists, then it prints --- and a kubeconfig with sorted keys and preferences: {}', async () => {
    const port = await freePort();
    logfmt(['cluster', 'create', 'demo', '--api-port', `127.0.0.1:${port}`]);
    const result = k3d(['kubeconfig', 'get', 'demo']);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    const shape = result.stdout.replace(/-data: \S+/g, '-data: B64');
    assert.equal(
      shape,
      [
        '---',
        'apiVersion: v1',
        'clusters:',
        '- cluster:',
        '    certificate-authority-data: B64',
        `    server: https://127.0.0.1:${port}`,
        '  name: k3d-demo',
        'contexts:',
        '- context:',
        '    cluster: k3d-demo',
        '    user: admin@k3d-demo',
        '  name: k3d-demo',
        'current-context: k3d-demo',
        'kind: Config',
        'preferences: {}',
        'users:',
        '- name: admin@k3d-demo',
        '  user:',
        '    client-certificate-data: B64',
        '    client-key-data: B64',
        '',
      ].join('\n'),
    );
  });

  it('when decoded, then the data fields are PEM, the key is an EC key, unique per cluster and stable', () => {
    logfmt(['cluster', 'create', 'one']);
    logfmt(['cluster', 'create', 'two']);
    const one = k3d(['kubeconfig', 'get', 'one']).stdout;
    assert.equal(k3d(['kubeconfig', 'get', 'one']).stdout, one);
    assert.match(decode(yamlField(one, 'certificate-authority-data')), /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(decode(yamlField(one, 'client-certificate-data')), /-----END CERTIFICATE-----\n$/);
    assert.match(decode(yamlField(one, 'client-key-data')), /^-----BEGIN EC PRIVATE KEY-----\n/);
    const two = k3d(['kubeconfig', 'get', 'two']).stdout;
    assert.notEqual(yamlField(one, 'client-key-data'), yamlField(two, 'client-key-data'));
  });

  it('when the cluster is missing, then stdout is empty and FATA exits 1', () => {
    const result = logfmt(['kubeconfig', 'get', 'nope']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.deepEqual(entries(result.stderr), ['fatal No nodes found for given cluster']);
  });

  it('when no name is given, then the Args error of v5.8.3 (capital N) is printed with usage', () => {
    const result = logfmt(['kubeconfig', 'get']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^Error: Need to specify one or more cluster names \*or\* set `--all` flag\nUsage:\n/,
    );
  });

  it('when the cluster has no server container, then --- is printed, ERRO follows and the exit code is 1', () => {
    fake.addCluster('lbonly', { servers: 0, running: false });
    const result = logfmt(['kubeconfig', 'get', 'lbonly']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '---\n');
    assert.deepEqual(entries(result.stderr), [
      "error failed to get kubeconfig for cluster 'lbonly': didn't find any server node for cluster 'lbonly'",
    ]);
  });
});

describe('fake k3d: cluster delete', () => {
  it('when the cluster exists, then the delete lines are printed, it is gone and its kubeconfig entries are removed', () => {
    logfmt(['cluster', 'create', 'keep']);
    logfmt(['cluster', 'create', 'demo']);
    const result = logfmt(['cluster', 'rm', 'demo']);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.deepEqual(messages(result.stdout), [
      "Deleting cluster 'demo'",
      "Deleting cluster network 'k3d-demo'",
      'Deleting 1 attached volumes...',
      'Removing cluster details from default kubeconfig...',
      'Removing standalone kubeconfig file (if there is one)...',
      'Successfully deleted cluster demo!',
    ]);
    assert.deepEqual(fake.clusters(), ['keep']);
    const text = readFileSync(kubeconfig, 'utf8');
    assert.doesNotMatch(text, /k3d-demo/);
    assert.match(text, /current-context: k3d-keep/);
  });

  it('when the last cluster is deleted, then the kubeconfig is rewritten with null lists like client-go', () => {
    logfmt(['cluster', 'create', 'demo']);
    logfmt(['cluster', 'delete', 'demo']);
    assert.equal(
      readFileSync(kubeconfig, 'utf8'),
      'apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: null\n',
    );
  });

  it('when the default kubeconfig does not exist, then delete WARNs on stderr and still exits 0', () => {
    logfmt(['cluster', 'create', 'demo', '--kubeconfig-update-default=false']);
    const result = logfmt(['cluster', 'delete', 'demo']);
    assert.equal(result.code, 0);
    assert.deepEqual(messages(result.stderr), [
      'Failed to remove cluster details from default kubeconfig',
      `failed to get default kubeconfig file: open ${kubeconfig}: no such file or directory`,
    ]);
  });

  it('when the cluster does not exist, then it says nothing to delete and exits 0', () => {
    assert.deepEqual(logfmt(['cluster', 'delete', 'nope']).code, 0);
    assert.deepEqual(messages(logfmt(['cluster', 'delete', 'nope']).stdout), [
      "No nodes found for cluster 'nope', nothing to delete.",
      'No clusters found',
    ]);
  });

  it('when no name is given, then k3s-default is targeted; --all deletes every cluster', () => {
    assert.deepEqual(
      messages(logfmt(['cluster', 'delete']).stdout)[0],
      "No nodes found for cluster 'k3s-default', nothing to delete.",
    );
    fake.addCluster('a');
    fake.addCluster('b');
    const result = logfmt(['cluster', 'delete', '--all']);
    assert.equal(messages(result.stdout)[0], 'Deleting all clusters...');
    assert.deepEqual(fake.clusters(), []);
  });
});

describe('fake k3d: Docker networks and volumes', () => {
  it('when a cluster is created, then its network and image volume exist, and a delete removes both', () => {
    logfmt(['cluster', 'create', 'keep']);
    logfmt(['cluster', 'create', 'demo']);
    assert.deepEqual(fake.networks(), ['k3d-demo', 'k3d-keep']);
    assert.deepEqual(fake.volumes(), ['k3d-demo-images', 'k3d-keep-images']);
    logfmt(['cluster', 'delete', 'demo']);
    assert.deepEqual(fake.networks(), ['k3d-keep']);
    assert.deepEqual(fake.volumes(), ['k3d-keep-images']);
  });

  it('when a create rolls back after its containers exist, then the network and volume go with them', () => {
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL: true });
    assert.equal(logfmt(['cluster', 'create', 'rolled']).code, 1);
    assert.deepEqual([fake.clusters(), fake.networks(), fake.volumes()], [[], [], []]);
  });

  it('when a network is left from before, then create re-uses it as external and delete leaves it behind', () => {
    fake.addLeftovers('again');
    const create = logfmt(['cluster', 'create', 'again']);
    assert.equal(create.code, 0);
    const lines = messages(create.stdout);
    assert.match(lines[1] ?? '', /^Re-using existing network 'k3d-again' \([0-9a-f]{64}\)$/);
    assert.ok(!lines.includes("Created network 'k3d-again'"));
    const network = listJson()[0]?.network as Record<string, unknown> | undefined;
    assert.equal(network?.isExternal, true);

    const del = logfmt(['cluster', 'delete', 'again']);
    assert.ok(!messages(del.stdout).includes("Deleting cluster network 'k3d-again'"));
    assert.deepEqual(fake.networks(), ['k3d-again'], 'k3d does not delete an external network');
    assert.deepEqual(fake.volumes(), []);
  });

  it('when the fake docker removes a network and a volume, then it prints each name and exits 0', () => {
    fake.addLeftovers('left');
    assert.deepEqual(docker(['network', 'rm', 'k3d-left']), { code: 0, stdout: 'k3d-left\n', stderr: '' });
    assert.deepEqual(docker(['volume', 'rm', 'k3d-left-images']), {
      code: 0,
      stdout: 'k3d-left-images\n',
      stderr: '',
    });
    assert.deepEqual([fake.networks(), fake.volumes()], [[], []]);
  });

  it("when the network or volume does not exist, then the fake docker prints Docker's error on stderr and exits 1", () => {
    assert.deepEqual(docker(['network', 'rm', 'k3d-gone']), {
      code: 1,
      stdout: '',
      stderr: 'Error response from daemon: network k3d-gone not found\nexit status 1\n',
    });
    assert.deepEqual(docker(['volume', 'rm', 'k3d-gone-images']), {
      code: 1,
      stdout: '',
      stderr: 'Error response from daemon: get k3d-gone-images: no such volume\n',
    });
  });

  it('when a running cluster uses them, then network rm says active endpoints, volume rm says in use, and both stay', () => {
    logfmt(['cluster', 'create', 'busy']);
    const network = docker(['network', 'rm', 'k3d-busy']);
    assert.equal(network.code, 1);
    assert.match(
      network.stderr,
      /^Error response from daemon: error while removing network: network k3d-busy id [0-9a-f]{64} has active endpoints\nexit status 1\n$/,
    );
    const volume = docker(['volume', 'rm', 'k3d-busy-images']);
    assert.equal(volume.code, 1);
    assert.match(
      volume.stderr,
      /^Error response from daemon: remove k3d-busy-images: volume is in use - \[[0-9a-f]{64}\]\n$/,
    );
    assert.deepEqual([fake.networks(), fake.volumes()], [['k3d-busy'], ['k3d-busy-images']]);
  });

  it('when networks and volumes are listed by label, then only k3d-made ones are printed, one name a line, sorted', () => {
    fake.addLeftovers('b');
    fake.addLeftovers('a');
    const format = ['--format', '{{.Name}}'];
    assert.equal(docker(['network', 'ls', ...format]).stdout, 'bridge\nhost\nk3d-a\nk3d-b\nnone\n');
    assert.equal(docker(['network', 'ls', '--filter', 'label=app=k3d', ...format]).stdout, 'k3d-a\nk3d-b\n');
    assert.equal(
      docker(['volume', 'ls', '--filter=label=k3d.cluster=b', ...format]).stdout,
      'k3d-b-images\n',
    );
    assert.equal(docker(['network', 'ls', '--filter', 'label=other', ...format]).stdout, '');
    assert.equal(docker(['network', 'ls', '--format', '{{.ID}}']).code, 2, 'not emulated, not guessed');
  });

  it('when FAKE_K3D_DOCKER_DOWN is set, then the fake docker cannot reach the daemon either', () => {
    fake.addLeftovers('left');
    fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: true });
    const result = docker(['network', 'rm', 'k3d-left']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\./,
    );
    assert.equal(docker(['volume', 'ls', '--format', '{{.Name}}']).code, 1);
    assert.deepEqual(fake.networks(), ['k3d-left']);
  });
});

describe('fake k3d: knobs', () => {
  it('when FAKE_K3D_CREATE_FAIL matches the name, then the rollback sequence runs and the cluster is gone', () => {
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL: '^bad-' });
    const result = logfmt(['cluster', 'create', 'bad-1']);
    assert.equal(result.code, 1);
    assert.deepEqual(entries(result.stderr), [
      "error Failed Cluster Start: Failed to start server k3d-bad-1-server-0: Node k3d-bad-1-server-0 failed to get ready: error waiting for log line `k3s is up and running` from node 'k3d-bad-1-server-0': stopped returning log lines",
      'error Failed to create cluster >>> Rolling Back',
      'fatal Cluster creation FAILED, all changes have been rolled back!',
    ]);
    assert.deepEqual(messages(result.stdout).slice(-3), [
      "Deleting cluster 'bad-1'",
      "Deleting cluster network 'k3d-bad-1'",
      'Deleting 1 attached volumes...',
    ]);
    assert.deepEqual(fake.clusters(), []);
    assert.equal(logfmt(['cluster', 'create', 'good']).code, 0);
  });

  it('when FAKE_K3D_DISK_FULL is set, then creating the first container fails with Docker’s no space left text, wrapped as k3d wraps it, and the rollback fails', () => {
    fake.setKnobs({ FAKE_K3D_DISK_FULL: 'full' });
    const result = logfmt(['cluster', 'create', 'full']);
    assert.equal(result.code, 1);
    const errors = messages(result.stderr);
    assert.match(
      errors[0] ?? '',
      /^failed Cluster Creation: failed setup of server\/agent node k3d-full-server-0: failed to create node: .*docker failed to create container 'k3d-full-server-0': Error response from daemon: mkdir \/var\/lib\/docker\/overlay2\/[0-9a-f]{64}-init: no space left on device$/,
    );
    assert.equal(errors.at(-1), 'Cluster creation FAILED, also FAILED to rollback changes!');
    assert.deepEqual([fake.clusters(), fake.networks()], [[], ['k3d-full']]);
  });

  it('when FAKE_K3D_CREATE_FAIL_NO_ROLLBACK is set, then no container is made, the rollback fails too, and only the network and volume stay', () => {
    fake.setKnobs({ FAKE_K3D_CREATE_FAIL_NO_ROLLBACK: true });
    const result = logfmt(['cluster', 'create', 'left']);
    assert.equal(result.code, 1);
    assert.deepEqual(messages(result.stdout).slice(-2), [
      "Creating node 'k3d-left-server-0'",
      "Deleting cluster 'left'",
    ]);
    const errors = messages(result.stderr);
    assert.match(
      errors[0] ?? '',
      /^failed Cluster Creation: failed setup of server\/agent node k3d-left-server-0: .*docker failed to pull image/,
    );
    assert.deepEqual(errors.slice(1), [
      'Failed to create cluster >>> Rolling Back',
      'failed to get cluster: No nodes found for given cluster',
      'Cluster creation FAILED, also FAILED to rollback changes!',
    ]);
    assert.deepEqual(listJson(), [], 'nothing is listed');
    assert.deepEqual(fake.clusters(), []);
    assert.deepEqual(fake.networks(), ['k3d-left']);
    assert.deepEqual(fake.volumes(), ['k3d-left-images']);

    // k3d delete finds no container, so it leaves them too (k3d-cli.md §5).
    assert.deepEqual(messages(logfmt(['cluster', 'delete', 'left']).stdout), [
      "No nodes found for cluster 'left', nothing to delete.",
      'No clusters found',
    ]);
    assert.deepEqual(fake.networks(), ['k3d-left']);
    assert.deepEqual(fake.volumes(), ['k3d-left-images']);
  });

  it('when FAKE_K3D_HANG has create, then the partial cluster is listed with 0 running and kubeconfig get works', async () => {
    fake.setKnobs({ FAKE_K3D_HANG: 'create' });
    const child = start(['cluster', 'create', 'stuck']);
    await waitFor(() => fake.cluster('stuck') !== undefined);
    const [listed] = listJson();
    assert.equal(listed?.serversRunning, 0);
    assert.equal(listed?.serversCount, 1);
    assert.equal(k3d(['kubeconfig', 'get', 'stuck']).code, 0);
    child.kill('SIGTERM');
    assert.deepEqual(await exited(child), { code: null, signal: 'SIGTERM' });
    const call = fake.calls().find((c) => c.command === 'cluster create');
    assert.equal(call?.signal, 'SIGTERM');
    assert.equal(call?.exitCode, null);
  });

  it('when FAKE_K3D_DELETE_FAIL_TIMES=1, then the first delete logs ERRO, keeps the cluster and still exits 0', () => {
    logfmt(['cluster', 'create', 'sticky']);
    fake.setKnobs({ FAKE_K3D_DELETE_FAIL_TIMES: 1 });
    const first = logfmt(['cluster', 'delete', 'sticky']);
    assert.equal(first.code, 0);
    assert.match(
      entries(first.stderr)[0] ?? '',
      /^error docker failed to remove the container 'k3d-sticky-server-0': /,
    );
    assert.ok(messages(first.stdout).includes('Successfully deleted cluster sticky!'));
    assert.deepEqual(fake.clusters(), ['sticky']);
    assert.equal(logfmt(['cluster', 'delete', 'sticky']).stderr, '');
    assert.deepEqual(fake.clusters(), []);
  });

  it('when FAKE_K3D_LIST_MALFORMED is set, then list -o json prints truncated JSON and exits 0', () => {
    fake.addCluster('demo');
    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: true });
    const result = k3d(['cluster', 'list', '-o', 'json']);
    assert.equal(result.code, 0);
    assert.throws(() => JSON.parse(result.stdout));
    fake.setKnobs({ FAKE_K3D_LIST_MALFORMED: null });
    assert.doesNotThrow(() => listJson());
  });

  it('when FAKE_K3D_DOCKER_DOWN is set, then list fails, delete finds nothing (exit 0) and create cannot roll back', () => {
    fake.addCluster('demo');
    fake.setKnobs({ FAKE_K3D_DOCKER_DOWN: true });
    const list = logfmt(['cluster', 'list', '-o', 'json']);
    assert.equal(list.code, 1);
    assert.deepEqual(messages(list.stderr), [
      "runtime failed to list nodes: docker failed to get containers with labels 'map[app:k3d]': failed to list containers: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
    ]);
    const del = logfmt(['cluster', 'delete', 'demo']);
    assert.equal(del.code, 0);
    assert.deepEqual(messages(del.stdout), [
      "No nodes found for cluster 'demo', nothing to delete.",
      'No clusters found',
    ]);
    const create = logfmt(['cluster', 'create', 'fresh']);
    assert.equal(create.code, 1);
    assert.match(
      messages(create.stderr)[1] ?? '',
      /^Failed Cluster Preparation: Failed Network Preparation: /,
    );
    assert.equal(messages(create.stderr).at(-1), 'Cluster creation FAILED, also FAILED to rollback changes!');
    assert.deepEqual(fake.clusters(), ['demo']);
  });

  it('when creates run in parallel with FAKE_K3D_DELAY_MS, then maxConcurrent counts the overlap', async () => {
    fake.setKnobs({ FAKE_K3D_DELAY_MS: 600 });
    const children = ['p1', 'p2', 'p3'].map((name) => start(['cluster', 'create', name]));
    await Promise.all(children.map(exited));
    assert.equal(fake.maxConcurrent('create'), 3);
    logfmt(['cluster', 'delete', 'p1']);
    logfmt(['cluster', 'delete', 'p2']);
    assert.equal(fake.maxConcurrent('delete'), 1);
    assert.deepEqual(fake.clusters(), ['p3']);
  });
});
