// A faithful fake of `kubectl` 1.31 for the smoke-test feature: the handful of commands the bot runs,
// with real kubectl's output texts and exit codes, against clusters the fake `k3d` keeps in
// $FAKE_K3D_STATE_DIR/clusters/<name>.json. Plain ESM with Node built-ins so it runs without a build.
// Anything it does not know fails loudly as an unknown command, so a test sees every unexpected call.
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const CLIENT_VERSION = 'v1.31.4';
const K3S_VERSION = 'v1.31.5+k3s1';
const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
const OPS = ['nodes', 'dns', 'create-ns', 'apply', 'rollout', 'wait', 'raw', 'delete-ns'];
// Namespaces every cluster has; they exist without a state file. The first three may not be deleted.
const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const stateDir = process.env.FAKE_K3D_STATE_DIR || undefined;
const startedAt = new Date();

/** An error kubectl prints verbatim on stderr before exiting 1. */
class KubectlError extends Error {}
const fail = (message) => {
  throw new KubectlError(message);
};
const out = (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hash = (text) => createHash('sha256').update(text).digest('hex');
// Stable ids, so repeated `get` calls describe the same objects.
const uid = (seed) => {
  const h = hash(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const iso = (date) => date.toISOString().replace(/\.\d+Z$/, 'Z');
const sortedKeys = (obj) => Object.fromEntries(Object.entries(obj).sort(([a], [b]) => a.localeCompare(b)));

// ---------------------------------------------------------------- argv

// pflag semantics: `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`; booleans take `=false`.
const VALUE_FLAGS = {
  kubeconfig: 'kubeconfig',
  namespace: 'namespace',
  n: 'namespace',
  output: 'output',
  o: 'output',
  selector: 'selector',
  l: 'selector',
  filename: 'filename',
  f: 'filename',
  timeout: 'timeout',
  for: 'for',
  raw: 'raw',
};
const BOOL_FLAGS = ['client', 'all', 'ignore-not-found', 'wait'];

function parseArgv(argv) {
  const positionals = [];
  const flags = {}; // name -> every value given, in order
  const unknown = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^(--?)([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      positionals.push(arg);
      continue;
    }
    const long = m[1] === '--';
    let key = m[2];
    let value = m[3];
    if (!long && key.length > 1) [key, value] = [key[0], key.slice(1)]; // -nvalue
    const name = VALUE_FLAGS[key] ?? (long && BOOL_FLAGS.includes(key) ? key : undefined);
    if (!name) {
      unknown.push(arg);
      continue;
    }
    if (BOOL_FLAGS.includes(name)) value ??= 'true';
    else if (value === undefined) {
      if (i + 1 >= argv.length)
        fail(`error: flag needs an argument: ${long ? `--${key}` : `'${key}' in -${key}`}`);
      value = argv[++i];
    }
    flags[name] = [...(flags[name] ?? []), value];
  }
  const last = (name) => flags[name]?.at(-1);
  return { positionals, flags, last, unknown };
}

/** `90s`, `2m`, `1m30s`, `500ms` -> milliseconds (Go duration syntax, which kubectl's --timeout uses). */
function goDuration(text, fallbackMs) {
  if (text === undefined) return fallbackMs;
  if (text === '0') return 0;
  const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * units[unit];
  return total;
}

// ---------------------------------------------------------------- knobs and call log

const KNOB_KEYS = [
  'FAKE_KUBECTL_FAIL',
  'FAKE_KUBECTL_HANG',
  'FAKE_KUBECTL_NOT_READY_NODES',
  'FAKE_KUBECTL_MISSING_NODES',
  'FAKE_KUBECTL_DELAY_MS',
];

/** Environment first, then `<state>/kubectl-knobs.json` (read on every call, so a test can flip it mid-run). */
function loadKnobs() {
  const raw = {};
  for (const key of KNOB_KEYS) if (process.env[key]) raw[key] = process.env[key];
  if (stateDir) {
    try {
      Object.assign(raw, JSON.parse(readFileSync(path.join(stateDir, 'kubectl-knobs.json'), 'utf8')));
    } catch (err) {
      if (err.code !== 'ENOENT') throw new Error(`fake kubectl: bad kubectl-knobs.json: ${err.message}`);
    }
  }
  const ops = (key) => {
    const list = Array.isArray(raw[key]) ? raw[key] : String(raw[key] ?? '').split(',');
    const names = list.map((s) => String(s).trim()).filter(Boolean);
    const bad = names.find((n) => !OPS.includes(n));
    if (bad) throw new Error(`fake kubectl: unknown op "${bad}" in ${key} (known: ${OPS.join(',')})`);
    return new Set(names);
  };
  const count = (key) => Math.max(0, Number(raw[key] ?? 0) || 0);
  return {
    fail: ops('FAKE_KUBECTL_FAIL'),
    hang: ops('FAKE_KUBECTL_HANG'),
    notReadyNodes: count('FAKE_KUBECTL_NOT_READY_NODES'),
    missingNodes: count('FAKE_KUBECTL_MISSING_NODES'),
    delayMs: count('FAKE_KUBECTL_DELAY_MS'),
  };
}

function appendCall(record) {
  if (!stateDir) return;
  mkdirSync(stateDir, { recursive: true });
  appendFileSync(path.join(stateDir, 'kubectl-calls.jsonl'), `${JSON.stringify(record)}\n`);
}

// ---------------------------------------------------------------- kubeconfig -> cluster

const unquote = (v) =>
  v
    .replace(/\s+#.*$/, '')
    .trim()
    .replace(/^(["'])(.*)\1$/, '$2');

/** Items of a top-level YAML list (`clusters:`, `contexts:`), each flattened to its non-empty scalar keys. */
function yamlListItems(lines, key) {
  const start = lines.findIndex((l) => l.startsWith(`${key}:`));
  const items = [];
  let itemIndent;
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    if (/^[^\s-]/.test(line)) break; // the next top-level key
    const m = /^(\s*)(- +)?([\w.-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] && (itemIndent === undefined || m[1].length === itemIndent)) {
      itemIndent = m[1].length;
      items.push({});
    }
    const value = unquote(m[4]);
    if (items.length > 0 && value && !(m[3] in items.at(-1))) items.at(-1)[m[3]] = value;
  }
  return items;
}

function parseKubeconfig(text) {
  try {
    const c = JSON.parse(text);
    return {
      currentContext: c['current-context'] ?? '',
      contexts: (c.contexts ?? []).map((x) => ({ name: x.name, cluster: x.context?.cluster })),
      clusters: (c.clusters ?? []).map((x) => ({ name: x.name, server: x.cluster?.server })),
    };
  } catch {
    const lines = text.split(/\r?\n/);
    const current = lines.map((l) => /^current-context:\s*(.*)$/.exec(l)).find(Boolean);
    return {
      currentContext: current ? unquote(current[1]) : '',
      contexts: yamlListItems(lines, 'contexts'),
      clusters: yamlListItems(lines, 'clusters'),
    };
  }
}

/** Which kubeconfig kubectl would load: --kubeconfig (must exist), else the first existing $KUBECONFIG entry, else ~/.kube/config. */
function locateKubeconfig(args) {
  const explicit = args.last('kubeconfig');
  if (explicit) return { path: explicit, mustExist: true };
  const candidates = process.env.KUBECONFIG
    ? process.env.KUBECONFIG.split(path.delimiter).filter(Boolean)
    : [path.join(homedir(), '.kube', 'config')];
  return { path: candidates.find((p) => fileMode(p) !== null) ?? null, mustExist: false };
}

function fileMode(p) {
  try {
    return statSync(p).mode & 0o777;
  } catch {
    return null;
  }
}

/** The API server and k3d cluster the kubeconfig points at. No usable config means kubectl's localhost:8080 default. */
function resolveTarget(kubeconfig) {
  const fallback = { server: 'http://localhost:8080', cluster: null };
  if (kubeconfig.path === null) return fallback;
  if (kubeconfig.mustExist && fileMode(kubeconfig.path) === null) {
    fail(`error: stat ${kubeconfig.path}: no such file or directory`);
  }
  const config = parseKubeconfig(readFileSync(kubeconfig.path, 'utf8'));
  if (!config.currentContext) return fallback;
  const context = config.contexts.find((c) => c.name === config.currentContext);
  if (!context) {
    fail(
      `Error in configuration: \n* context was not found for specified context: ${config.currentContext}\n* cluster has no server defined`,
    );
  }
  const server = config.clusters.find((c) => c.name === context.cluster)?.server;
  if (!server) return fallback;
  return { server, cluster: config.currentContext.replace(/^k3d-/, '') };
}

/** The fake k3d's record of a cluster, or null. Read tolerantly: only `running`, `servers`, `agents`, `apiPort` matter. */
function readCluster(name) {
  if (!stateDir || !name) return null;
  try {
    const c = JSON.parse(readFileSync(path.join(stateDir, 'clusters', `${name}.json`), 'utf8'));
    const n = (v, d) => (Array.isArray(v) ? v.length : Number.isFinite(Number(v)) ? Number(v) : d);
    const created = statSync(path.join(stateDir, 'clusters', `${name}.json`)).mtime;
    return { ...c, name, servers: n(c.servers, 1), agents: n(c.agents, 0), created };
  } catch {
    return null;
  }
}

/** What kubectl prints when nothing listens on the API port. Most commands first fail API discovery 5 times. */
function connectionRefused(server, withDiscovery) {
  const hostPort = server.replace(/^\w+:\/\//, '').replace(/\/.*$/, '');
  const dial = hostPort.replace(/^localhost:/, '127.0.0.1:');
  const now = new Date();
  const p2 = (n, w = 2) => String(n).padStart(w, '0');
  const stamp = `E${p2(now.getMonth() + 1)}${p2(now.getDate())} ${p2(now.getHours())}:${p2(now.getMinutes())}:${p2(now.getSeconds())}.${p2(now.getMilliseconds() * 1000, 6)}`;
  const klog = `${stamp} ${String(process.pid).padStart(7)} memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: Get \\"${server}/api?timeout=32s\\": dial tcp ${dial}: connect: connection refused"`;
  const lines = withDiscovery ? Array(5).fill(klog) : [];
  return [
    ...lines,
    `The connection to the server ${hostPort} was refused - did you specify the right host or port?`,
  ].join('\n');
}

// ---------------------------------------------------------------- namespace state

const nsDir = (cluster) => path.join(stateDir, 'kubectl', cluster);
const nsFile = (cluster, ns) => path.join(nsDir(cluster), `${ns}.json`);

/** A namespace's state, or null when it does not exist. Default namespaces always exist. */
function loadNs(cluster, ns) {
  try {
    return JSON.parse(readFileSync(nsFile(cluster, ns), 'utf8'));
  } catch {
    return DEFAULT_NAMESPACES.includes(ns) ? { name: ns, createdAt: null, objects: {} } : null;
  }
}

/** Write-then-rename, so a concurrent reader never sees half a file. */
function saveNs(cluster, state) {
  mkdirSync(nsDir(cluster), { recursive: true });
  const tmp = `${nsFile(cluster, state.name)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, nsFile(cluster, state.name));
}

const objectsOf = (state, kind) =>
  Object.values(state?.objects ?? {})
    .filter((o) => o.kind === kind)
    .sort((a, b) => a.name.localeCompare(b.name));

// ---------------------------------------------------------------- manifests

// kind -> [apiVersion, the resource name kubectl prints]. Other kinds fail like a missing CRD.
const KINDS = {
  Deployment: ['apps/v1', 'deployment.apps'],
  StatefulSet: ['apps/v1', 'statefulset.apps'],
  DaemonSet: ['apps/v1', 'daemonset.apps'],
  Job: ['batch/v1', 'job.batch'],
  Service: ['v1', 'service'],
  ConfigMap: ['v1', 'configmap'],
  Secret: ['v1', 'secret'],
  Pod: ['v1', 'pod'],
  ServiceAccount: ['v1', 'serviceaccount'],
  Namespace: ['v1', 'namespace'],
  Ingress: ['networking.k8s.io/v1', 'ingress.networking.k8s.io'],
};

/** The lines under `lines[at]` (its block): deeper lines, and `- ` items at its own indent (legal YAML). */
function blockAfter(lines, at) {
  const indent = /^\s*/.exec(lines[at])[0].length;
  const block = [];
  for (const line of lines.slice(at + 1)) {
    const [lead] = /^\s*/.exec(line);
    const text = line.slice(lead.length);
    const inside =
      !text ||
      text.startsWith('#') ||
      lead.length > indent ||
      (lead.length === indent && text.startsWith('-'));
    if (!inside) break;
    block.push(line);
  }
  return block;
}

/** Just enough of one YAML document: top-level kind/apiVersion, metadata.name/namespace, spec.replicas and ports. */
function describeYaml(text) {
  const lines = text.split(/\r?\n/);
  const top = (key) => lines.map((l) => new RegExp(`^${key}:\\s*(.*)$`).exec(l)).find(Boolean)?.[1];
  const child = (parent, key) => {
    const at = lines.findIndex((l) => l.startsWith(`${parent}:`));
    if (at < 0) return { block: [] };
    const block = blockAfter(lines, at);
    const indent = /^\s*/.exec(block.find((l) => l.trim()) ?? '')[0];
    const m = block.map((l) => new RegExp(`^${indent}${key}:\\s*(.*)$`).exec(l)).find(Boolean);
    return { value: m && unquote(m[1]), block };
  };
  const spec = child('spec', 'replicas');
  const portsAt = spec.block.findIndex((l) => /^\s*ports:\s*$/.test(l));
  const portLines = portsAt < 0 ? [] : blockAfter(spec.block, portsAt);
  const field = (re) => portLines.map((l) => re.exec(l)?.[1]).filter(Boolean);
  return {
    kind: top('kind') && unquote(top('kind')),
    apiVersion: top('apiVersion') && unquote(top('apiVersion')),
    name: child('metadata', 'name').value,
    namespace: child('metadata', 'namespace').value,
    replicas: spec.value === undefined ? 1 : Number(spec.value),
    ports: [...field(/^\s*(?:-\s+)?port:\s*(\d+)/), ...field(/^\s*(?:-\s+)?name:\s*["']?([\w-]+)/)],
  };
}

function describeJson(obj) {
  return {
    kind: obj.kind,
    apiVersion: obj.apiVersion,
    name: obj.metadata?.name,
    namespace: obj.metadata?.namespace,
    replicas: obj.spec?.replicas ?? 1,
    ports: (obj.spec?.ports ?? []).flatMap((p) => [String(p.port), p.name].filter(Boolean)),
  };
}

/** A directory's manifests, as kubectl picks them without -R: its own .yaml/.yml/.json files, sorted. */
const manifestFiles = (dir) =>
  readdirSync(dir)
    .filter((n) => /\.(ya?ml|json)$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));

/** `-f` sources -> [{source, doc}] in kubectl's order: as given, a directory's .yaml/.yml/.json files sorted. */
function readManifests(filenames) {
  const docs = [];
  for (const f of filenames) {
    let files;
    if (f === '-') files = [['STDIN', readFileSync(0, 'utf8')]];
    else if (fileMode(f) === null) fail(`error: the path "${f}" does not exist`);
    else if (statSync(f).isDirectory()) {
      files = manifestFiles(f).map((file) => [file, readFileSync(file, 'utf8')]);
    } else files = [[f, readFileSync(f, 'utf8')]];
    for (const [source, text] of files) {
      if (source.endsWith('.json') || text.trimStart().startsWith('{')) {
        let obj;
        try {
          obj = JSON.parse(text);
        } catch (err) {
          fail(`error: error parsing ${source}: ${err.message}`);
        }
        for (const item of obj.kind === 'List' ? obj.items : [obj]) {
          docs.push({ source, doc: describeJson(item), digest: hash(JSON.stringify(item)) });
        }
        continue;
      }
      for (const part of text.split(/^---[ \t]*(?:#.*)?$/m)) {
        const meaningful = part.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#'));
        // Comments and spacing do not change an object, so they do not make a re-apply `configured`.
        if (meaningful.length > 0)
          docs.push({ source, doc: describeYaml(part), digest: hash(meaningful.join('\n')) });
      }
    }
  }
  return docs;
}

// ---------------------------------------------------------------- fixtures

function nodeList(cluster, knobs) {
  const specs = [];
  for (let i = 0; i < cluster.servers; i++)
    specs.push({ name: `k3d-${cluster.name}-server-${i}`, server: true });
  for (let i = 0; i < cluster.agents; i++)
    specs.push({ name: `k3d-${cluster.name}-agent-${i}`, server: false });
  // Knobs degrade from the end of creation order (agents before servers); the API lists by name.
  const listed = specs.slice(0, Math.max(0, specs.length - knobs.missingNodes));
  const items = listed.map((spec, i) => {
    const ready = i < listed.length - knobs.notReadyNodes;
    return nodeObject(cluster, spec, specs.indexOf(spec), ready);
  });
  return list(items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)));
}

function nodeObject(cluster, { name, server }, index, ready) {
  const ip = `172.18.0.${index + 2}`;
  const created = iso(cluster.created);
  const now = iso(new Date());
  const condition = (type, status, reason, message) => ({
    lastHeartbeatTime: now,
    lastTransitionTime: created,
    message,
    reason,
    status,
    type,
  });
  const labels = {
    'beta.kubernetes.io/arch': ARCH,
    'beta.kubernetes.io/instance-type': 'k3s',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': ARCH,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'k3s',
  };
  if (server) {
    labels['node-role.kubernetes.io/control-plane'] = 'true';
    labels['node-role.kubernetes.io/master'] = 'true';
    if (cluster.servers > 1) labels['node-role.kubernetes.io/etcd'] = 'true'; // embedded etcd only in HA
  }
  const resources = { cpu: '4', 'ephemeral-storage': '102107096Ki', memory: '8141100Ki', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: sortedKeys({
        'alpha.kubernetes.io/provided-node-ip': ip,
        'flannel.alpha.coreos.com/backend-type': 'vxlan',
        'flannel.alpha.coreos.com/public-ip': ip,
        'k3s.io/hostname': name,
        'k3s.io/internal-ip': ip,
        'k3s.io/node-args': JSON.stringify([server ? 'server' : 'agent']),
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      }),
      creationTimestamp: created,
      labels: sortedKeys(labels),
      name,
      resourceVersion: String(600 + index),
      uid: uid(`${cluster.name}/${name}`),
    },
    spec: {
      podCIDR: `10.42.${index}.0/24`,
      podCIDRs: [`10.42.${index}.0/24`],
      providerID: `k3s://${name}`,
      ...(ready ? {} : { taints: [{ effect: 'NoSchedule', key: 'node.kubernetes.io/not-ready' }] }),
    },
    status: {
      addresses: [
        { address: ip, type: 'InternalIP' },
        { address: name, type: 'Hostname' },
      ],
      allocatable: resources,
      capacity: resources,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        ready
          ? condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
          : condition(
              'Ready',
              'False',
              'KubeletNotReady',
              'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
            ),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: ARCH,
        bootID: uid(`boot/${cluster.name}/${name}`),
        containerRuntimeVersion: 'containerd://1.7.23-k3s2',
        kernelVersion: '6.8.0-51-generic',
        kubeProxyVersion: K3S_VERSION,
        kubeletVersion: K3S_VERSION,
        machineID: '',
        operatingSystem: 'linux',
        osImage: `K3s ${K3S_VERSION}`,
      },
    },
  };
}

function corednsPod(cluster) {
  const suffix = [...hash(cluster.name).slice(0, 5)]
    .map((c) => 'bcdfghjklmnpqrstvwxz2456789'[parseInt(c, 16)])
    .join('');
  const created = iso(cluster.created);
  const node = `k3d-${cluster.name}-server-0`;
  const image = 'rancher/mirrored-coredns-coredns:1.12.0';
  const conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      creationTimestamp: created,
      generateName: 'coredns-ccb96694c-',
      labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': 'ccb96694c' },
      name: `coredns-ccb96694c-${suffix}`,
      namespace: 'kube-system',
      ownerReferences: [
        { apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'ReplicaSet' },
      ].map((o) => ({ ...o, name: 'coredns-ccb96694c', uid: uid(`${cluster.name}/rs/coredns`) })),
      resourceVersion: '512',
      uid: uid(`${cluster.name}/pod/coredns`),
    },
    spec: {
      containers: [
        {
          args: ['-conf', '/etc/coredns/Corefile'],
          image,
          name: 'coredns',
          ports: [
            { containerPort: 53, name: 'dns', protocol: 'UDP' },
            { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
            { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
          ],
        },
      ],
      nodeName: node,
      priorityClassName: 'system-cluster-critical',
      serviceAccountName: 'coredns',
    },
    status: {
      conditions: conditions.map((type) => ({ lastTransitionTime: created, status: 'True', type })),
      containerStatuses: [
        {
          containerID: `containerd://${hash(`${cluster.name}/coredns`)}`,
          image: `docker.io/${image}`,
          imageID: `docker.io/rancher/mirrored-coredns-coredns@sha256:${hash(image)}`,
          lastState: {},
          name: 'coredns',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: created } },
        },
      ],
      hostIP: '172.18.0.2',
      phase: 'Running',
      podIP: '10.42.0.3',
      qosClass: 'Burstable',
      startTime: created,
    },
  };
}

const list = (items) => ({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } });

const NGINX_WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

// ---------------------------------------------------------------- commands

// What an overloaded API server answers a write it could not finish.
const TIMEOUT_5XX =
  'Error from server (InternalError): Internal error occurred: Timeout: request did not complete within requested timeout - context deadline exceeded';
const NS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KIND_ALIASES = {
  Deployment: ['deployment', 'deployments', 'deploy', 'deployment.apps'],
  Job: ['job', 'jobs', 'job.batch'],
};
const kindOf = (word) => Object.keys(KIND_ALIASES).find((k) => KIND_ALIASES[k].includes(word));
// A real kubectl call in a shape this fake does not model: an unknown command naming the whole call.
const unsupported = (argv) => fail(`error: unknown command "${argv.join(' ')}" for "kubectl"`);
const plural = (kind) => `${kind.toLowerCase()}s`;

function cmdVersion() {
  const info = {
    clientVersion: {
      major: '1',
      minor: '31',
      gitVersion: CLIENT_VERSION,
      gitCommit: 'a78aa47129b8539636eb86a9d00e31b2720fe06b',
      gitTreeState: 'clean',
      buildDate: '2024-12-10T11:43:21Z',
      goVersion: 'go1.22.9',
      compiler: 'gc',
      platform: `${process.platform}/${ARCH}`,
    },
    kustomizeVersion: 'v5.4.2',
  };
  out(JSON.stringify(info, null, 2));
}

function cmdCreateNs({ cluster, args, knobs }) {
  const name = args.positionals[2];
  if (knobs.fail.has('create-ns')) fail(TIMEOUT_5XX);
  if (!NS_NAME.test(name) || name.length > 63) {
    fail(
      `The Namespace "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    );
  }
  if (loadNs(cluster.name, name))
    fail(`Error from server (AlreadyExists): namespaces "${name}" already exists`);
  saveNs(cluster.name, { name, createdAt: new Date().toISOString(), objects: {} });
  out(`namespace/${name} created`);
}

function cmdApply({ cluster, args, knobs }) {
  const filenames = args.flags.filename;
  const ns = args.last('namespace') ?? 'default';
  const docs = readManifests(filenames);
  if (docs.length === 0) fail('error: no objects passed to apply');
  // Client-side checks run over every document before anything is sent, like kubectl's resource builder.
  for (const { source, doc } of docs) {
    const missing = [!doc.apiVersion && 'apiVersion not set', !doc.kind && 'kind not set'].filter(Boolean);
    if (missing.length > 0) {
      const data = missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`;
      fail(
        `error: error validating "${source}": error validating data: ${data}; if you choose to ignore these errors, turn validation off with --validate=false`,
      );
    }
    if (KINDS[doc.kind]?.[0] !== doc.apiVersion) {
      fail(
        `error: resource mapping not found for name: "${doc.name ?? ''}" namespace: "${doc.namespace ?? ''}" from "${source}": no matches for kind "${doc.kind}" in version "${doc.apiVersion}"\nensure CRDs are installed first`,
      );
    }
  }
  if (knobs.fail.has('apply')) {
    const { source, doc } = docs[0];
    fail(
      `Error from server (BadRequest): error when creating "${source}": ${doc.kind} in version "${doc.apiVersion.split('/').at(-1)}" cannot be handled as a ${doc.kind}: strict decoding error: unknown field "spec.replica"`,
    );
  }
  const errors = [];
  for (const { source, doc, digest } of docs) {
    const resource = `${KINDS[doc.kind][1]}/${doc.name}`;
    if (!doc.name) {
      errors.push(
        `error: error when retrieving current configuration of:\nResource: "${KINDS[doc.kind][1]}", GroupVersionKind: "${doc.apiVersion}, Kind=${doc.kind}"\nName: "", Namespace: "${ns}"\nfrom server for: "${source}": resource name may not be empty`,
      );
    } else if (doc.kind === 'Namespace') {
      const existed = loadNs(cluster.name, doc.name);
      if (!existed)
        saveNs(cluster.name, { name: doc.name, createdAt: new Date().toISOString(), objects: {} });
      out(`${resource} ${existed ? 'unchanged' : 'created'}`);
    } else if (doc.namespace && doc.namespace !== ns && args.last('namespace')) {
      errors.push(
        `error: the namespace from the provided object "${doc.namespace}" does not match the namespace "${ns}". You must pass '--namespace=${doc.namespace}' to perform this operation.`,
      );
    } else {
      const target = doc.namespace ?? ns;
      const state = loadNs(cluster.name, target);
      if (!state) {
        errors.push(
          `Error from server (NotFound): error when creating "${source}": namespaces "${target}" not found`,
        );
        continue;
      }
      const key = `${doc.kind}/${doc.name}`;
      const before = state.objects[key];
      const verb = !before ? 'created' : before.digest === digest ? 'unchanged' : 'configured';
      // A changed Deployment rolls out again, so `rollout status` waits once more.
      const rolledOut = verb === 'unchanged' && before.rolledOut;
      state.objects[key] = {
        kind: doc.kind,
        name: doc.name,
        digest,
        replicas: doc.replicas,
        ports: doc.ports,
        rolledOut,
      };
      saveNs(cluster.name, state);
      out(`${resource} ${verb}`);
    }
  }
  if (errors.length > 0) fail(errors.join('\n'));
}

function cmdRollout({ cluster, args, knobs, argv }) {
  const [kindWord, name] =
    args.positionals.length === 3 ? args.positionals[2].split('/') : args.positionals.slice(2);
  if (kindOf(kindWord) !== 'Deployment') unsupported(argv);
  const ns = args.last('namespace') ?? 'default';
  const state = loadNs(cluster.name, ns);
  const deployment = state?.objects[`Deployment/${name}`];
  if (!deployment) fail(`Error from server (NotFound): deployments.apps "${name}" not found`);
  const replicas = deployment.replicas;
  const waiting = (ready) =>
    `Waiting for deployment "${name}" rollout to finish: ${ready} of ${replicas} updated replicas are available...`;
  if (knobs.fail.has('rollout')) {
    out(waiting(0));
    fail(`error: deployment "${name}" exceeded its progress deadline`);
  }
  // The first watch of a fresh rollout sees the replicas come up one by one; later calls see it done.
  if (!deployment.rolledOut) for (let ready = 0; ready < replicas; ready++) out(waiting(ready));
  deployment.rolledOut = true;
  saveNs(cluster.name, state);
  out(`deployment "${name}" successfully rolled out`);
}

async function cmdWait({ cluster, args, knobs, argv }) {
  const kind = kindOf(args.positionals[1]);
  if (!kind) unsupported(argv);
  const m = /^condition=([^=]+)(?:=(.*))?$/.exec(args.last('for') ?? '');
  if (!m) unsupported(argv); // --for=delete, --for=jsonpath=...
  const objects = objectsOf(loadNs(cluster.name, args.last('namespace') ?? 'default'), kind);
  if (objects.length === 0) fail('error: no matching resources found');
  const timedOut = `error: timed out waiting for the condition on ${plural(kind)}/${objects[0].name}`;
  if (knobs.fail.has('wait')) fail(timedOut);
  // Fake objects reach these conditions at once; any other condition never comes, so kubectl sits out its timeout.
  const reachable = { Deployment: ['available', 'progressing'], Job: ['complete'] }[kind];
  const wanted = (m[2] ?? 'true').toLowerCase();
  if (!reachable.includes(m[1].toLowerCase()) || wanted !== 'true') {
    await sleep(goDuration(args.last('timeout'), 30_000));
    fail(timedOut);
  }
  for (const o of objects) out(`${KINDS[kind][1]}/${o.name} condition met`);
}

function cmdRaw({ cluster, args, knobs }) {
  const url = args.last('raw');
  if (knobs.fail.has('raw'))
    fail('Error from server (ServiceUnavailable): the server is currently unable to handle the request');
  if (['/healthz', '/livez', '/readyz'].includes(url)) return out('ok');
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)\/proxy(\/.*)?$/.exec(url);
  if (!m) fail('Error from server (NotFound): the server could not find the requested resource');
  const [, ns, target, rest] = m;
  const parts = target.split(':'); // [scheme:]name[:port]
  const [name, port] = parts.length === 3 ? parts.slice(1) : parts;
  const state = loadNs(cluster.name, ns);
  const service = state?.objects[`Service/${name}`];
  if (!service) fail(`Error from server (NotFound): services "${name}" not found`);
  const noEndpoints = `Error from server (ServiceUnavailable): no endpoints available for service "${target}"`;
  if (port && service.ports.length > 0 && !service.ports.includes(port)) fail(noEndpoints);
  if (objectsOf(state, 'Deployment').length === 0) fail(noEndpoints); // nothing could back the service
  if (rest && !['/', '/index.html'].includes(rest)) {
    fail('Error from server (NotFound): the server could not find the requested resource');
  }
  process.stdout.write(NGINX_WELCOME);
}

function cmdDeleteNs({ cluster, args, knobs }) {
  const name = args.positionals[2];
  if (knobs.fail.has('delete-ns')) fail(TIMEOUT_5XX);
  if (['default', 'kube-system', 'kube-public'].includes(name)) {
    fail(
      `Error from server (Forbidden): namespaces "${name}" is forbidden: this namespace may not be deleted`,
    );
  }
  if (!loadNs(cluster.name, name)) {
    if (args.last('ignore-not-found') === 'true') return;
    fail(`Error from server (NotFound): namespaces "${name}" not found`);
  }
  rmSync(nsFile(cluster.name, name), { force: true });
  out(`namespace "${name}" deleted`);
}

function cmdGetNodes({ cluster, knobs }) {
  if (knobs.fail.has('nodes'))
    fail(
      'Error from server (ServiceUnavailable): the server is currently unable to handle the request (get nodes)',
    );
  out(JSON.stringify(nodeList(cluster, knobs), null, 4));
}

function cmdGetDns({ cluster, knobs }) {
  if (knobs.fail.has('dns'))
    fail(
      'Error from server (ServiceUnavailable): the server is currently unable to handle the request (get pods)',
    );
  out(JSON.stringify(list([corednsPod(cluster)]), null, 4));
}

// The supported shapes, one row each: op (the name knobs use), positionals (`a|b` alternatives, UPPER any word,
// TYPE/NAME a word with a slash), flags besides --kubeconfig (`name` optional, `+name` required,
// `name=value` required with exactly that value), handler.
const COMMANDS = [
  ['version', 'version', 'client=true output=json', cmdVersion],
  ['nodes', 'get nodes|node|no', 'output=json namespace', cmdGetNodes],
  ['dns', 'get pods|pod|po', 'output=json namespace=kube-system selector=k8s-app=kube-dns', cmdGetDns],
  ['raw', 'get', '+raw', cmdRaw],
  ['create-ns', 'create namespace|ns NAME', 'namespace', cmdCreateNs],
  ['apply', 'apply', '+filename namespace', cmdApply],
  ['rollout', 'rollout status TYPE/NAME', 'namespace timeout', cmdRollout],
  ['rollout', 'rollout status TYPE NAME', 'namespace timeout', cmdRollout],
  ['wait', 'wait TYPE', '+for all=true namespace timeout', cmdWait],
  ['delete-ns', 'delete namespace|ns NAME', 'ignore-not-found wait', cmdDeleteNs],
];

function matchesShape(shape, flagSpec, args) {
  const words = shape.split(' ');
  const wordsMatch = words.every((w, i) => {
    const p = args.positionals[i] ?? '';
    if (w === 'TYPE/NAME') return /^[^/]+\/[^/]+$/.test(p);
    return /^[A-Z]+$/.test(w) || w.split('|').includes(p);
  });
  const specs = new Map(
    flagSpec.split(' ').map((s) => {
      const [name, ...value] = s.replace(/^\+/, '').split('=');
      return [name, { required: s.startsWith('+') || value.length > 0, value: value.join('=') || undefined }];
    }),
  );
  const flagsMatch =
    Object.keys(args.flags).every((f) => f === 'kubeconfig' || specs.has(f)) &&
    [...specs].every(([name, spec]) =>
      args.last(name) === undefined
        ? !spec.required
        : spec.value === undefined || args.last(name) === spec.value,
    );
  return words.length === args.positionals.length && wordsMatch && flagsMatch && args.unknown.length === 0;
}

function matchCommand(argv, args) {
  const verb = args.positionals[0];
  if (!COMMANDS.some(([, shape]) => shape.split(' ')[0] === verb)) {
    fail(`error: unknown command "${verb ?? ''}" for "kubectl"`);
  }
  const row = COMMANDS.find(([, shape, flags]) => matchesShape(shape, flags, args));
  if (!row) unsupported(argv);
  const [op, , , run] = row;
  // Commands that resolve resource types first show discovery errors when the server is unreachable.
  return { op, run, local: op === 'version', discovery: !['raw', 'apply'].includes(op) };
}

// ---------------------------------------------------------------- main

async function main(argv) {
  const call = { argv, op: null, start: startedAt.toISOString(), kubeconfig: null, kubeconfigMode0600: null };
  process.on('exit', (code) => appendCall({ ...call, end: new Date().toISOString(), exitCode: code }));
  try {
    const knobs = loadKnobs();
    if (knobs.delayMs > 0) await sleep(knobs.delayMs);
    const args = parseArgv(argv);
    const command = matchCommand(argv, args);
    call.op = command.op;
    const kubeconfig = locateKubeconfig(args);
    call.kubeconfig = kubeconfig.path;
    if (kubeconfig.path !== null) call.kubeconfigMode0600 = fileMode(kubeconfig.path) === 0o600;
    if (command.local) return command.run({ args, knobs, argv });

    const target = resolveTarget(kubeconfig);
    const cluster = readCluster(target.cluster);
    const port = /:(\d+)(?:\/|$)/.exec(target.server)?.[1];
    const portMatches = cluster?.apiPort === undefined || String(cluster.apiPort) === port;
    if (!cluster || cluster.running === false || !portMatches) {
      if (command.op !== 'apply') fail(connectionRefused(target.server, command.discovery));
      // apply downloads the OpenAPI schema to validate each file before anything else.
      const sources = (args.flags.filename ?? []).flatMap((f) => {
        if (f === '-') return ['STDIN'];
        if (fileMode(f) === null || !statSync(f).isDirectory()) return [f];
        return manifestFiles(f);
      });
      const dial = target.server.replace(/^\w+:\/\//, '').replace(/^localhost:/, '127.0.0.1:');
      const lines = sources.map(
        (s) =>
          `error validating "${s}": error validating data: failed to download openapi: Get "${target.server}/openapi/v2?timeout=32s": dial tcp ${dial}: connect: connection refused; if you choose to ignore these errors, turn validation off with --validate=false`,
      );
      fail(`error: ${lines.join('\n')}`);
    }
    if (knobs.hang.has(command.op)) {
      // Record the call now: the bot's timeout kills this process, so no exit handler will run.
      appendCall({ ...call, end: null, exitCode: null, hung: true });
      process.removeAllListeners('exit');
      await new Promise(() => setInterval(() => {}, 1 << 30));
    }
    await command.run({ cluster, args, knobs, argv });
  } catch (err) {
    if (!(err instanceof KubectlError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv.slice(2));
