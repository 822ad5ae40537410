#!/usr/bin/env node
// A faithful fake of the k3d v5.8.3 CLI for tests. "Clusters" are JSON files instead of Docker containers,
// but everything a driver can observe is reproduced: which stream a line goes to, logrus' line format, the
// exact error texts, exit codes, JSON/YAML shapes and the side effects on the default kubeconfig.
// Behaviour reference: /work/shared/reference/k3d-cli.md (checked against k3d's source at tag v5.8.3).
//
// The Docker objects k3d makes (the cluster's containers, the network k3d-NAME, the volume k3d-NAME-images) live in
// the state directory (./docker-state.mjs), which the fake `docker` (./fake-docker.mjs) reads and changes too.
//
// Environment: FAKE_K3D_STATE_DIR (required), FAKE_K3D_HOME (used instead of $HOME, so a test never touches
// the real ~/.kube/config), FAKE_K3D_ARGV0 (set by ../bin/k3d: the path k3d was started with).
// Failure knobs (KNOB_NAMES) come from the environment, overridden per key by <state>/knobs.json.
import { createHash, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DOCKER_DOWN, dockerObjects, readJson } from './docker-state.mjs';

const K3D_VERSION = 'v5.8.3';
const K3S_VERSION = 'v1.31.5-k3s1';
const KNOB_NAMES = [
  'FAKE_K3D_DELAY_MS', // total duration of a successful create, spread over its phases
  'FAKE_K3D_DELETE_DELAY_MS', // duration of deleting one cluster
  'FAKE_K3D_CREATE_FAIL', // 1/true, or a regex on the cluster name: the create fails at start and rolls back
  'FAKE_K3D_CREATE_FAIL_NO_ROLLBACK', // same syntax: creating the first node fails, so the rollback finds no
  // container and fails too, leaving the network and the volume behind (no cluster is listed)
  'FAKE_K3D_DISK_FULL', // same syntax: Docker has no disk left to create the first node's container, so the
  // rollback fails as for FAKE_K3D_CREATE_FAIL_NO_ROLLBACK
  'FAKE_K3D_HANG', // comma list of create,delete,list,kubeconfig
  'FAKE_K3D_DELETE_FAIL_TIMES', // the first N cluster deletions log ERRO, keep the cluster and exit 0
  'FAKE_K3D_LIST_MALFORMED', // `cluster list -o json` prints truncated JSON
  'FAKE_K3D_DOCKER_DOWN', // every Docker call fails like an unreachable daemon
];
const env = process.env;
const startedAt = Date.now();
const stateDir = env.FAKE_K3D_STATE_DIR;
const homeDir = env.FAKE_K3D_HOME || os.homedir();
let knobs = {};

/** Thrown to end the process with a code once everything has been printed (logrus' Fatal is os.Exit(1)). */
class Exit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}
/** A cobra usage error: "Error: <msg>" plus the usage on stderr, then FATA. */
class UsageError extends Error {}

// ---------------------------------------------------------------- logging (logrus as set up by cmd/root.go)
const LEVELS = ['panic', 'fatal', 'error', 'warning', 'info', 'debug', 'trace'];
const COLORS = { panic: 31, fatal: 31, error: 31, warning: 33, info: 36, debug: 37, trace: 37 };
// Before k3d's initLogging runs (flag errors happen earlier) logrus has its defaults: every level goes to
// stderr, coloured only on a terminal, logfmt otherwise.
const logger = { initialized: false, colored: Boolean(process.stderr.isTTY), fullTimestamp: false, level: 4 };

function initLogging(flags) {
  const colors = parseGoBool(env.LOG_COLORS);
  const envLevel = { warn: 'warning' }[env.LOG_LEVEL?.toLowerCase()] ?? env.LOG_LEVEL?.toLowerCase();
  let level = 'info';
  if (flags.trace) level = 'trace';
  else if (flags.verbose) level = 'debug';
  else if (LEVELS.includes(envLevel)) level = envLevel;
  Object.assign(logger, {
    initialized: true,
    colored: colors ?? true, // k3d sets ForceColors, so colours survive a pipe unless LOG_COLORS is false
    fullTimestamp: Boolean(flags.timestamps || env.LOG_TIMESTAMPS),
    level: LEVELS.indexOf(level),
  });
}

function formatLine(level, msg) {
  const now = new Date();
  if (!logger.colored) return `time=${goQuote(rfc3339(now))} level=${level} msg=${logfmtValue(msg)}\n`;
  const stamp = logger.fullTimestamp
    ? rfc3339(now)
    : String(Math.floor((now - startedAt) / 1000)).padStart(4, '0');
  return `\x1b[${COLORS[level]}m${level.slice(0, 4).toUpperCase()}\x1b[0m[${stamp}] ${msg.padEnd(44)} \n`;
}

function log(level, msg) {
  const index = LEVELS.indexOf(level);
  if (index > logger.level) return;
  const toStderr = !logger.initialized || index <= LEVELS.indexOf('warning');
  (toStderr ? process.stderr : process.stdout).write(formatLine(level, msg));
}
const info = (msg) => log('info', msg);
const warn = (msg) => log('warning', msg);
const error = (msg) => log('error', msg);
function fatal(msg) {
  log('fatal', msg);
  throw new Exit(1);
}
const out = (text) => process.stdout.write(text);

/** Go's strconv.ParseBool: undefined when the text is not a bool. */
function parseGoBool(text) {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
const goQuote = (s) => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
const logfmtValue = (s) => (/^[A-Za-z0-9\-._/@^+]*$/.test(s) ? s : goQuote(s));

/** time.RFC3339 in local time, as logrus prints it. */
function rfc3339(d) {
  const p = (n) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${date}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

// ---------------------------------------------------------------- state: one JSON file per Docker object
// Set up in main() once FAKE_K3D_STATE_DIR is known to be set.
let clusters;
let networks;
let volumes;
const readCluster = (name) => clusters.read(name);
const saveCluster = (c) => clusters.save(c);
const removeCluster = (name) => clusters.remove(name);
const allClusters = () => clusters.all();

/** ClusterPrepNetwork: a network left from before is re-used and then counts as external (not deleted). */
function prepNetwork(c) {
  const name = `k3d-${c.name}`;
  const existing = networks.read(name);
  if (existing) {
    info(`Re-using existing network '${name}' (${existing.id})`);
    return { networkId: existing.id, networkExternal: true };
  }
  const id = networkOf(c).id;
  networks.save({ name, id, labels: { app: 'k3d' } });
  info(`Created network '${name}'`);
  return { networkId: id, networkExternal: false };
}
/** ClusterPrepImageVolume: Docker's volume create returns an existing volume of that name unchanged. */
function prepImageVolume(c) {
  const name = `k3d-${c.name}-images`;
  if (!volumes.read(name))
    volumes.save({ name, labels: { app: 'k3d', 'k3d.cluster': c.name, 'k3d.version': K3D_VERSION } });
  info(`Created image volume ${name}`);
}
/** The end of ClusterDelete, once the containers are gone: the network (unless external), then the volume. */
function deleteNetworkAndVolume(c) {
  if (!c.networkExternal) {
    info(`Deleting cluster network 'k3d-${c.name}'`);
    networks.remove(`k3d-${c.name}`);
  }
  const attached = volumes.names().filter((v) => volumes.read(v)?.labels['k3d.cluster'] === c.name);
  info(`Deleting ${attached.length} attached volumes...`);
  for (const v of attached) volumes.remove(v);
}

function loadKnobs() {
  const result = {};
  for (const k of KNOB_NAMES) if (env[k] !== undefined) result[k] = env[k];
  for (const [k, v] of Object.entries(readJson(path.join(stateDir, 'knobs.json')) ?? {})) {
    if (!KNOB_NAMES.includes(k)) throw new Error(`unknown knob '${k}' in knobs.json`);
    if (v === null) delete result[k];
    else result[k] = String(v);
  }
  return result;
}
const knobOn = (name) => /^(1|t|true)$/i.test(knobs[name] ?? '');
const knobMatches = (name, clusterName) =>
  knobOn(name) || (!/^(0|f|false|)$/i.test(knobs[name] ?? '') && new RegExp(knobs[name]).test(clusterName));
const hangs = (what) => (knobs.FAKE_K3D_HANG ?? '').split(',').some((w) => w.trim() === what);
const forever = () => new Promise(() => setInterval(() => {}, 1 << 30));
const dockerDown = () => knobOn('FAKE_K3D_DOCKER_DOWN');
const dockerListError = (labels) =>
  `docker failed to get containers with labels 'map[${labels}]': failed to list containers: ${DOCKER_DOWN}`;

/** The first N deletions fail; a file per failure handed out makes the counter safe across processes. */
function takeDeleteFailure() {
  const times = Number(knobs.FAKE_K3D_DELETE_FAIL_TIMES ?? 0);
  fs.mkdirSync(path.join(stateDir, 'delete-failures'), { recursive: true });
  for (let i = 0; i < times; i++) {
    try {
      fs.closeSync(fs.openSync(path.join(stateDir, 'delete-failures', String(i)), 'wx'));
      return true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
  return false;
}

// ---------------------------------------------------------------- cluster model (what Docker would hold)
const hash = (text) => createHash('sha256').update(text).digest('hex');
const pemBase64 = (label, der) =>
  Buffer.from(
    `-----BEGIN ${label}-----\n${der
      .toString('base64')
      .match(/.{1,64}/g)
      .join('\n')}\n-----END ${label}-----\n`,
  ).toString('base64');

function newCluster(name, opts) {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return {
    name,
    ...opts,
    created: Date.now(),
    running: false,
    token: opts.token || Array.from({ length: 20 }, () => letters[randomInt(letters.length)]).join(''),
    kubeconfig: {
      certificateAuthorityData: pemBase64('CERTIFICATE', randomBytes(282)),
      clientCertificateData: pemBase64('CERTIFICATE', randomBytes(310)),
      clientKeyData: Buffer.from(privateKey).toString('base64'),
    },
  };
}

/** Nodes in creation order: (init) servers, agents, then the load balancer. */
function nodesOf(c) {
  const list = [];
  for (let i = 0; i < c.servers; i++)
    list.push({ name: `k3d-${c.name}-server-${i}`, role: 'server', init: i === 0 && c.servers > 1 });
  for (let i = 0; i < c.agents; i++) list.push({ name: `k3d-${c.name}-agent-${i}`, role: 'agent' });
  if (c.loadbalancer) list.push({ name: `k3d-${c.name}-serverlb`, role: 'loadbalancer' });
  return list;
}
function networkOf(c) {
  const id = hash(`network/${c.name}/${c.created}`);
  const octet = 18 + (Number.parseInt(id.slice(0, 2), 16) % 14);
  return {
    id,
    subnet: `172.${octet}.0.0/16`,
    gateway: `172.${octet}.0.1`,
    ip: (i) => `172.${octet}.0.${i + 3}`,
  };
}
/** Docker's Created: RFC 3339 in UTC with nanoseconds, trailing zeros trimmed. */
function createdOf(c, index) {
  const nanos = String(Number.parseInt(hash(`${c.name}/${index}`).slice(0, 8), 16) % 1e6).padStart(6, '0');
  const iso = new Date(c.created + index * 350).toISOString();
  const fraction = `${iso.slice(19, 23)}${nanos}`.replace(/\.?0+$/, '');
  return `${iso.slice(0, 19)}${fraction}Z`;
}

const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/** A node as `cluster list -o json` shows it (TranslateContainerDetailsToNode, keys in struct order). */
function nodeJson(c, node, index) {
  const netw = networkOf(c);
  const lbName = c.loadbalancer ? `k3d-${c.name}-serverlb` : '';
  const labels = {
    'k3d.cluster': c.name,
    'k3d.cluster.imageVolume': `k3d-${c.name}-images`,
    'k3d.cluster.network': `k3d-${c.name}`,
    'k3d.cluster.network.external': String(Boolean(c.networkExternal)),
    'k3d.cluster.network.id': c.networkId ?? netw.id,
    'k3d.cluster.network.iprange': netw.subnet,
    'k3d.cluster.token': c.token,
    'k3d.cluster.url': `https://k3d-${c.name}-server-0:6443`,
    'k3d.role': node.role,
    'k3d.server.loadbalancer': lbName,
    'k3d.version': K3D_VERSION,
  };
  // TranslateContainerDetailsToNode copies the labels whose key starts with "k3d": a --runtime-label such as
  // `k3d-owner` (only `k3d.` is reserved) shows in the list too.
  for (const { key, value, groups } of c.runtimeLabels ?? []) {
    const picks = (g) => g === 'all' || g === '' || g.replace(/s$/, '') === node.role;
    if (key.startsWith('k3d') && (groups.length === 0 || groups.some(picks))) labels[key] = value;
  }
  const binding = { HostIp: '', HostPort: '' };
  let kubeAPI = { Port: '', Binding: binding };
  if (node.role === 'server') {
    Object.assign(labels, { 'k3d.server.api.host': c.apiHost, 'k3d.server.api.hostIP': c.apiHostIP });
    labels['k3d.server.api.port'] = c.apiPort;
    if (c.servers > 1) labels['k3d.server.init'] = String(node.init);
    kubeAPI = { Port: '', Binding: { HostIp: c.apiHostIP, HostPort: c.apiPort }, host: c.apiHost };
  }
  const publishesApi = c.loadbalancer ? node.role === 'loadbalancer' : node.name === `k3d-${c.name}-server-0`;
  const k3sEnv = ['K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml', ...IMAGE_ENV];
  const joins = node.role === 'agent' || (node.role === 'server' && c.servers > 1 && !node.init);
  const cmd = ['server', ...(node.init ? ['--cluster-init'] : []), '--tls-san', c.apiHost];
  return {
    name: node.name,
    role: node.role,
    image: node.role === 'loadbalancer' ? PROXY_IMAGE_ID : `sha256:${hash(c.image)}`,
    ...(node.role === 'loadbalancer' ? {} : { volumes: [`k3d-${c.name}-images:/k3d/images`] }),
    env:
      node.role === 'loadbalancer'
        ? ['K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml', PATH_ENV, 'OS=linux', 'ARCH=amd64']
        : [
            `K3S_TOKEN=${c.token}`,
            ...(joins ? [`K3S_URL=https://k3d-${c.name}-server-0:6443`] : []),
            ...k3sEnv,
          ],
    Cmd: { server: [...cmd, ...(lbName ? ['--tls-san', lbName] : [])], agent: ['agent'], loadbalancer: null }[
      node.role
    ],
    ...(publishesApi ? { portMappings: { 6443: [{ HostIp: c.apiHostIP, HostPort: c.apiPort }] } } : {}),
    restart: true,
    created: createdOf(c, index),
    runtimeLabels: sortKeys(labels),
    Networks: [`k3d-${c.name}`],
    ExtraHosts: null,
    serverOpts: node.init ? { isInitializingServer: true, kubeAPI } : { kubeAPI },
    agentOpts: {},
    GPURequest: '',
    Memory: '',
    State: {
      Running: c.running,
      Status: c.running ? 'running' : c.stopped ? 'exited' : 'created',
      Started: '',
    },
    IP: { IP: c.running ? netw.ip(index) : '', Static: false },
    K3dEntrypoint: false,
  };
}
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const IMAGE_ENV = [
  'PATH=/var/lib/rancher/k3s/data/cni:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bin/aux',
  'CRI_CONFIG_FILE=/var/lib/rancher/k3s/agent/etc/crictl.yaml',
];
const PROXY_IMAGE_ID = 'sha256:3f8a1c2be0d64f0e9a7b55c1d2e4f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4';

/** One entry of `cluster list -o json`: k3d.Cluster's fields, then the counters (cmd/cluster/clusterList.go). */
function clusterJson(c, { details, token }) {
  const nodes = nodesOf(c).map((n, i) => nodeJson(c, n, i));
  const lb = nodes.find((n) => n.role === 'loadbalancer');
  const count = (role) => (c.running ? nodes.filter((n) => n.role === role).length : 0);
  const servers = nodesOf(c).filter((n) => n.role === 'server');
  return {
    name: c.name,
    network: {
      name: `k3d-${c.name}`,
      id: '',
      ...(c.networkExternal ? { isExternal: true } : {}),
      ipam: { ipPrefix: '', Managed: false },
      Members: null,
    },
    ...(token ? { clusterToken: c.token } : {}),
    nodes: nodes.reverse(), // Docker lists the newest container first
    InitNode: null,
    ...(details && lb
      ? {
          serverLoadBalancer: {
            ...lb,
            config: {
              ports: { '6443.tcp': servers.map((s) => s.name) },
              settings: { workerConnections: 1024 },
            },
          },
        }
      : {}),
    imageVolume: `k3d-${c.name}-images`,
    ...(details ? { volumes: [`k3d-${c.name}-images`] } : {}),
    serversRunning: count('server'),
    serversCount: c.servers,
    agentsRunning: count('agent'),
    agentsCount: c.agents,
    ...(lb ? { hasLoadbalancer: true } : {}),
  };
}

// ---------------------------------------------------------------- kubeconfig files (clientcmd.Write layout)
const configDir = () => env.XDG_CONFIG_HOME || path.join(homeDir, '.config', 'k3d');

/** client-go's default kubeconfig path; k3d refuses a KUBECONFIG list with more than one entry. */
function defaultKubeconfigPath() {
  const files = [...new Set((env.KUBECONFIG ?? '').split(':'))];
  if (env.KUBECONFIG && files.length > 1) {
    throw new Error(
      'failed to get default kubeconfig path: multiple kubeconfigs specified via KUBECONFIG env var: Please reduce to one entry, unset KUBECONFIG or explicitly choose an output',
    );
  }
  return env.KUBECONFIG || path.join(homeDir, '.kube', 'config');
}

/** The cluster's kubeconfig entries, renamed by KubeconfigGet (k3d-NAME, admin@k3d-NAME). */
function kubeconfigEntries(c) {
  if (c.servers < 1) {
    throw new Error(
      `failed to get kubeconfig for cluster '${c.name}': didn't find any server node for cluster '${c.name}'`,
    );
  }
  const ctx = `k3d-${c.name}`;
  const k = c.kubeconfig;
  const item = (name, text) => [{ name, lines: text.split('\n') }];
  return {
    clusters: item(
      ctx,
      `- cluster:
    certificate-authority-data: ${k.certificateAuthorityData}
    server: https://${c.apiHost}:${c.apiPort}
  name: ${ctx}`,
    ),
    contexts: item(
      ctx,
      `- context:
    cluster: ${ctx}
    user: admin@${ctx}
  name: ${ctx}`,
    ),
    users: item(
      `admin@${ctx}`,
      `- name: admin@${ctx}
  user:
    client-certificate-data: ${k.clientCertificateData}
    client-key-data: ${k.clientKeyData}`,
    ),
    currentContext: ctx,
    other: new Map(),
  };
}

const LIST_KEYS = ['clusters', 'contexts', 'users'];
const unquote = (s) =>
  /^".*"$/.test(s) ? JSON.parse(s) : /^'.*'$/.test(s) ? s.slice(1, -1).replace(/''/g, "'") : s;

/** Reads a kubeconfig in the block layout kubectl and k3d write; list items are kept as opaque text. */
function parseKubeconfig(text) {
  const doc = { clusters: [], contexts: [], users: [], currentContext: '', other: new Map() };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; ) {
    if (/^(\s*|#.*|---)$/.test(lines[i])) {
      i++;
      continue;
    }
    const m = /^([\w.-]+):\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) throw new Error(`yaml: line ${i + 1}: could not find expected ':'`);
    let j = i + 1;
    while (j < lines.length && /^(\s|-|$)/.test(lines[j]) && lines[j] !== '---') j++;
    if (LIST_KEYS.includes(m[1])) doc[m[1]] = parseItems(lines.slice(i + 1, j));
    else if (m[1] === 'current-context') doc.currentContext = unquote(m[2]);
    else doc.other.set(m[1], lines.slice(i, j).join('\n').trimEnd());
    i = j;
  }
  return doc;
}
function parseItems(block) {
  const indent = Math.min(...block.filter((l) => /^\s*- /.test(l)).map((l) => l.indexOf('-')));
  const items = [];
  for (const line of block.filter((l) => l.trim() !== '')) {
    const own = line.slice(indent);
    if (own.startsWith('- ')) items.push({ name: '', lines: [] });
    items.at(-1)?.lines.push(own);
  }
  for (const item of items) {
    const nameLine = item.lines.find((l) => /^(- | {2})name:/.test(l));
    item.name = nameLine ? unquote(nameLine.replace(/^(- | {2})name:\s*/, '').trim()) : '';
  }
  return items;
}
function renderKubeconfig(doc) {
  const blocks = new Map([
    ['apiVersion', 'apiVersion: v1'],
    ['kind', 'kind: Config'],
    ['preferences', 'preferences: {}'],
    ...doc.other,
  ]);
  for (const key of LIST_KEYS) {
    const items = [...doc[key]].sort((a, b) => (a.name < b.name ? -1 : 1));
    blocks.set(
      key,
      items.length ? `${key}:\n${items.map((i) => i.lines.join('\n')).join('\n')}` : `${key}: null`,
    );
  }
  blocks.set('current-context', `current-context: ${doc.currentContext === '' ? '""' : doc.currentContext}`);
  return `${[...blocks.keys()]
    .sort()
    .map((k) => blocks.get(k))
    .join('\n')}\n`;
}

/** k3d writes kubeconfigs to `<path>.k3d_<timestamp>` and renames over the (symlink-resolved) target. */
function writeKubeconfigFile(file, doc) {
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch {}
  const tmp = `${file}.k3d_${Date.now()}${randomInt(1000)}`;
  fs.writeFileSync(tmp, renderKubeconfig(doc), { mode: 0o600 });
  fs.renameSync(tmp, target);
}

/** KubeconfigGetWrite: merge the cluster's entries into `output` ('' = default kubeconfig, '-' = stdout). */
function kubeconfigGetWrite(c, output, { update, switchContext, overwrite }) {
  const entries = kubeconfigEntries(c);
  const file = output || defaultKubeconfigPath();
  if (file === '-') {
    out(renderKubeconfig(entries));
    return file;
  }
  if (overwrite) {
    writeKubeconfigFile(file, entries);
    return file;
  }
  let doc;
  try {
    if (!fs.existsSync(file)) fs.mkdirSync(path.dirname(file), { recursive: true });
    doc = parseKubeconfig(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  } catch (e) {
    throw new Error(`failed to open output file '${file}' or it's not a kubeconfig: ${e.message}`);
  }
  for (const [key, what] of Object.entries({ clusters: 'cluster', users: 'AuthInfo', contexts: 'context' })) {
    for (const entry of entries[key]) {
      if (doc[key].some((e) => e.name === entry.name) && !update) {
        throw new Error(`${what} '${entry.name}' already exists in target KubeConfig`);
      }
      doc[key] = [...doc[key].filter((e) => e.name !== entry.name), entry];
    }
  }
  if (doc.currentContext === '' || switchContext) doc.currentContext = entries.currentContext;
  writeKubeconfigFile(file, doc);
  return file;
}

function removeFromDefaultKubeconfig(name) {
  const file = defaultKubeconfigPath();
  let doc;
  try {
    doc = parseKubeconfig(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const reason = e.code === 'ENOENT' ? `open ${file}: no such file or directory` : e.message;
    throw new Error(`failed to get default kubeconfig file: ${reason}`);
  }
  const ctx = `k3d-${name}`;
  doc.clusters = doc.clusters.filter((e) => e.name !== ctx);
  doc.users = doc.users.filter((e) => e.name !== `admin@${ctx}`);
  doc.contexts = doc.contexts.filter((e) => e.name !== ctx);
  if (doc.currentContext === ctx) doc.currentContext = doc.contexts[0]?.name ?? ''; // Go picks any other
  writeKubeconfigFile(file, doc);
}

// ---------------------------------------------------------------- output formats
/** sigs.k8s.io/yaml (yaml.v2): sorted keys, sequences not indented under their key, non-strings quoted. */
function toYaml(value, indent = '') {
  if (value === null || typeof value !== 'object') return yamlScalar(value);
  if (Object.keys(value).length === 0) return Array.isArray(value) ? '[]' : '{}';
  const after = (v, ind, seqUnderKey) => {
    if (v === null || typeof v !== 'object' || Object.keys(v).length === 0) return ` ${toYaml(v)}`;
    return `\n${toYaml(v, Array.isArray(v) && seqUnderKey ? ind : `${ind}  `)}`;
  };
  if (Array.isArray(value)) {
    return value.map((v) => `${indent}-${after(v, indent, false).replace(`\n${indent}  `, ' ')}`).join('\n');
  }
  const keys = Object.keys(value).sort(yamlKeyOrder);
  return keys.map((k) => `${indent}${yamlScalar(k)}:${after(value[k], indent, true)}`).join('\n');
}
function yamlScalar(v) {
  if (typeof v !== 'string') return String(v);
  const resolvesToNonString =
    /^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(
      v,
    ) ||
    /^[-+]?(\.\d+|\d[\d_]*(\.\d*)?)([eE][-+]?\d+)?$/.test(v) ||
    /^\d{4}-\d\d?-\d\d?([Tt ]|$)/.test(v);
  if (v === '' || resolvesToNonString) return JSON.stringify(v);
  if (/^[,[\]{}#&*!|>'"%@`]|^[-?:](\s|$)|: |:$| #|^\s|\s$/.test(v)) return `'${v.replace(/'/g, "''")}'`;
  return v;
}
/** yaml.v2's key order: letters by code point, non-letters before letters, digit runs numerically. */
function yamlKeyOrder(a, b) {
  const isLetter = (ch) => /\p{L}/u.test(ch);
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] === b[i]) continue;
    if (isLetter(a[i]) && isLetter(b[i])) return a[i] < b[i] ? -1 : 1;
    if (isLetter(a[i]) || isLetter(b[i])) return isLetter(b[i]) ? -1 : 1;
    const [an, bn] = [a, b].map((s) => Number(/^\d*/.exec(s.slice(i))[0] || Number.NaN));
    if (an !== bn && !Number.isNaN(an) && !Number.isNaN(bn)) return an - bn;
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}
/** text/tabwriter with minwidth 6 and padding 3; the last cell of a line is not padded. */
function tabwrite(rows) {
  const widths = rows[0]?.map((_, col) => Math.max(6, ...rows.map((r) => r[col].length + 3))) ?? [];
  return rows
    .map(
      (r) => `${r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]))).join('')}\n`,
    )
    .join('');
}

// ---------------------------------------------------------------- Go/pflag value parsing
/** Go's time.ParseDuration, in milliseconds. */
function parseGoDuration(text) {
  const units = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  const sign = /^[-+]/.test(text) ? text[0] : '';
  let rest = text.slice(sign.length);
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`time: invalid duration ${goQuote(text)}`);
  let total = 0;
  while (rest) {
    const [whole, int, frac, unit] = /^(\d*)(\.\d*)?([^\d.]*)/.exec(rest);
    if (int === '' && (frac ?? '.') === '.') throw new Error(`time: invalid duration ${goQuote(text)}`);
    if (unit === '') throw new Error(`time: missing unit in duration ${goQuote(text)}`);
    if (!(unit in units)) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`);
    total += Number(`${int || '0'}${frac ?? ''}`) * units[unit];
    rest = rest.slice(whole.length);
  }
  return sign === '-' ? -total : total;
}
/** Go's Duration.String(), e.g. -1m30s, 500ms. */
function formatGoDuration(ms) {
  const abs = Math.abs(ms);
  const num = (n) => String(Number(n.toFixed(9)));
  let text;
  if (abs === 0) text = '0s';
  else if (abs < 1e-3) text = `${num(abs * 1e6)}ns`;
  else if (abs < 1) text = `${num(abs * 1e3)}µs`;
  else if (abs < 1e3) text = `${num(abs)}ms`;
  else {
    const h = Math.floor(abs / 3.6e6);
    const m = Math.floor((abs % 3.6e6) / 6e4);
    text = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${num((abs % 6e4) / 1e3)}s`;
  }
  return (ms < 0 ? '-' : '') + text;
}

function convertFlagValue(spec, raw, previous) {
  const label = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
  const invalid = (why) =>
    new UsageError(`invalid argument ${goQuote(raw)} for ${goQuote(label)} flag: ${why}`);
  switch (spec.type) {
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === undefined) throw invalid(`strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`);
      return b;
    }
    case 'int':
      if (!/^[-+]?\d+$/.test(raw)) throw invalid(`strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`);
      return Number(raw);
    case 'duration':
      try {
        return parseGoDuration(raw);
      } catch (e) {
        throw invalid(e.message);
      }
    case 'stringArray':
      return [...(previous ?? []), raw];
    case 'stringSlice':
      return [...(previous ?? []), ...raw.split(',')];
    default:
      return raw;
  }
}

/** pflag: --name[=value], -abc shorthand runs, bools take no separate value, `--` ends the flags. */
function parseFlags(args, specs) {
  const values = {};
  const positionals = [];
  const set = (spec, raw) => {
    values[spec.name] = convertFlagValue(spec, raw, values[spec.name]);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = specs.find((s) => s.name === name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, arg.slice(eq + 1));
      else if (spec.type === 'bool') set(spec, 'true');
      else if (i + 1 < args.length) set(spec, args[++i]);
      else throw new UsageError(`flag needs an argument: ${arg}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let rest = arg.slice(1); rest.length > 0; ) {
        const spec = specs.find((s) => s.short === rest[0]);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${rest[0]}' in -${rest}`);
        const inline = rest.length > 2 && rest[1] === '=';
        const value = inline
          ? rest.slice(2)
          : spec.type === 'bool'
            ? 'true'
            : rest.length > 1
              ? rest.slice(1)
              : args[++i];
        if (value === undefined) throw new UsageError(`flag needs an argument: '${rest[0]}' in -${rest}`);
        set(spec, value);
        rest = spec.type === 'bool' && !inline ? rest.slice(1) : '';
      }
    } else positionals.push(arg);
  }
  return { values, positionals };
}

// ---------------------------------------------------------------- cluster create
const NAME_RE =
  /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
const API_PORT_RE =
  /^(?<hostref>(?<hostip>\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})|(?<hostname>\S+):)?(?<port>(\d{1,5}|random))$/;
const NODE_FILTER_RE =
  /^(server|servers|agent|agents|loadbalancer|all)(:((\d+,?)+|\d*-\d*|\*))?(:[A-Za-z]+)?$/;
// Flags that carry a node filter, in the order k3d processes them, with the words its errors use.
const FILTERED_FLAGS = [
  { flag: 'volume', filterErr: 'volume mapping' },
  { flag: 'port' },
  { flag: 'k3s-node-label', lacks: 'k3s node label mapping', filterErr: 'k3s node label mapping' },
  { flag: 'runtime-label', lacks: 'RuntimeLabelmapping', filterErr: 'runtime label mapping' },
  { flag: 'env', lacks: 'EnvVarMapping', filterErr: 'environment variable config' },
  { flag: 'k3s-arg', lacks: 'K3sExtraArg', filterErr: 'k3s extra args config' },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, 'localhost', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** cliutil.ParsePortExposureSpec: [HOST:]PORT; a host name is resolved, the kubeconfig keeps the name. */
async function parseApiPort(spec) {
  if (spec === undefined)
    return { apiHost: '0.0.0.0', apiHostIP: '0.0.0.0', apiPort: String(await freePort()) };
  const m = API_PORT_RE.exec(spec);
  if (!m)
    throw new Error(
      `Failed to parse Port Exposure specification '${spec}': Format must be [(HostIP|HostName):]HostPort`,
    );
  let { hostip, hostname, port } = m.groups;
  if (hostname) {
    const addrs = await lookup(hostname, { all: true }).catch(() => {
      throw new Error(
        `Failed to lookup host '${hostname}' specified for Port Exposure: lookup ${hostname}: no such host`,
      );
    });
    hostip = addrs.filter((a) => a.family === 4).at(-1)?.address;
    if (!hostip) throw new Error(`Failed to lookup IPv4 address for host '${hostname}'`);
  }
  hostip ??= '0.0.0.0';
  if (port === 'random') port = String(await freePort());
  const spec2 = `${hostip}:${port}:6443/tcp`;
  if (!net.isIPv4(hostip))
    throw new Error(`failed to parse port spec for Port Exposure '${spec2}': invalid IP address: ${hostip}`);
  if (Number(port) > 65535)
    throw new Error(`failed to parse port spec for Port Exposure '${spec2}': invalid hostPort: ${port}`);
  return { apiHost: hostname ?? hostip, apiHostIP: hostip, apiPort: String(Number(port)) };
}

/** cliutil.SplitFiltersFromFlag: VALUE[@FILTER[;FILTER]], with `\@` for a literal @. */
function splitFilters(text) {
  if (!text.includes('@')) return [text, []];
  const parts = [];
  let buffer = '';
  const pieces = text.split('@');
  pieces.forEach((piece, i) => {
    if (piece.endsWith('\\') && !piece.endsWith('\\\\') && i !== pieces.length - 1)
      buffer += `${piece.slice(0, -1)}@`;
    else {
      parts.push(buffer + (piece.endsWith('\\\\') && i !== pieces.length - 1 ? piece.slice(0, -1) : piece));
      buffer = '';
    }
  });
  if (parts.length > 2)
    fatal(
      `Invalid flag '${text}': only one unescaped '@' allowed for node filter(s) (Escape literal '@' with '\\')`,
    );
  if (parts.length < 2)
    fatal(
      `Invalid flag '${text}' includes unescaped '@' but is missing a node filter (Escape literal '@' with '\\')`,
    );
  return [parts[0], parts[1].split(';')];
}

/** applyCLIOverrides + TransformSimpleToClusterConfig + ValidateClusterConfig, in k3d's order. */
async function prepareCreate(flags, args) {
  let api;
  try {
    api = await parseApiPort(flags['api-port']);
  } catch (e) {
    fatal(`Failed to apply CLI overrides: failed to parse API Port spec: ${e.message}`);
  }
  const mappings = FILTERED_FLAGS.map((f) => {
    const merged = new Map();
    for (const text of flags[f.flag] ?? []) {
      const [value, filters] = splitFilters(text);
      if (f.flag === 'runtime-label' && /^(k3s\.|k3d\.|app$)/.test(value.split('=')[0])) {
        fatal(`runtime label "${value.split('=')[0]}" is reserved for internal usage`);
      }
      merged.set(value, [...(merged.get(value) ?? []), ...filters]);
    }
    return { ...f, merged };
  });
  const spec = {
    servers: flags.servers ?? 1, // cobra shows 0, but viper's default of 1 wins
    agents: flags.agents ?? 0,
    loadbalancer: !flags['no-lb'],
    image: flags.image || `docker.io/rancher/k3s:${K3S_VERSION}`,
    token: flags.token ?? '',
    ...api,
  };
  const name = args[0] || 'k3s-default';
  const nodeCount = Math.max(spec.servers, 0) + Math.max(spec.agents, 0) + (spec.loadbalancer ? 1 : 0);
  for (const { flag, lacks, filterErr, merged } of mappings) {
    for (const [value, filters] of merged) {
      if (flag === 'port') {
        if (filters.length === 0 && nodeCount > 1)
          info(
            `portmapping '${value}' lacks a nodefilter, but there's more than one node: defaulting to [servers:*:proxy agents:*:proxy]`,
          );
        continue;
      }
      if (lacks && filters.length === 0 && nodeCount > 1)
        fatal(`${lacks} '${value}' lacks a node filter, but there's more than one node`);
      if (filters.length === 0 || filters[0] === '') warn('No node filter specified');
      const bad = filters.find((f) => f !== '' && !NODE_FILTER_RE.test(f));
      if (bad !== undefined) {
        fatal(
          `failed to filter nodes for ${filterErr} '${value}': Failed to parse node filters: invalid format or empty subset in '${bad}'`,
        );
      }
    }
  }
  const invalid = (why) => fatal(`Failed Cluster Configuration Validation:  ${why}`); // Fatalln's double space
  const requirement = (why) => invalid(`provided cluster name '${name}' does not match requirements: ${why}`);
  if (!NAME_RE.test(name))
    requirement(`Invalid cluster name. name ${name} is not a valid hostname as per RFC 1123`);
  const length = Buffer.byteLength(name);
  if (length > 32) requirement(`Cluster name must be <= 32 characters, but has ${length}`);
  if ((flags.timeout ?? 0) < 0)
    invalid(`timeout may not be negative (is '${formatGoDuration(flags.timeout)}')`);
  const disablesCoreDns = [...mappings.at(-1).merged.keys()].some((a) => /--disable[= ]coredns/.test(a));
  // Docker labels on the containers the filters pick: KEY[=VALUE] with the filters' groups (subsets not emulated)
  spec.runtimeLabels = [...mappings.find((m) => m.flag === 'runtime-label').merged].map(
    ([label, filters]) => {
      const [key, value = ''] = label.split(/=(.*)/s);
      return { key, value, groups: filters.map((f) => f.split(':')[0]) };
    },
  );
  return { name, spec, disablesCoreDns };
}

/** What Docker answers when the API port is published: taken by another cluster, or by a host process. */
async function portConflict(c, nodeName) {
  const endpoint = `Error response from daemon: driver failed programming external connectivity on endpoint ${nodeName} (${hash(nodeName + c.created)})`;
  const holders = allClusters().filter((o) => o.name !== c.name && o.running && o.apiPort === c.apiPort);
  // Docker's port allocator only knows per-IP bindings; a 0.0.0.0 vs 127.0.0.1 clash fails in the proxy's bind
  if (holders.some((o) => o.apiHostIP === c.apiHostIP)) {
    return `${endpoint}: Bind for ${c.apiHostIP}:${c.apiPort} failed: port is already allocated`;
  }
  // A host process is seen by connecting to the port, not by binding it: a bind holds the port for a moment, and
  // another fake Docker host (a test file running alongside) checking the same port then would find it taken.
  const busy =
    holders.some((o) => [o.apiHostIP, c.apiHostIP].includes('0.0.0.0')) ||
    (await new Promise((resolve) => {
      const socket = net.connect({ port: Number(c.apiPort), host: c.apiHostIP });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    }));
  if (busy)
    return `${endpoint}: Error starting userland proxy: listen tcp4 ${c.apiHostIP}:${c.apiPort}: bind: address already in use`;
  return undefined;
}

/** ClusterStart's sequence: init server, other servers, agents, then helpers (the load balancer). */
function startPlan(c) {
  const nodes = nodesOf(c);
  // biome-ignore format: a table: header, nodes, ready log line (lower-cased by k3d), error prefix, line when empty
  const groups = [
    ['Starting the initializing server...', nodes.filter((n) => n.init), 'containerd is now running',
      () => 'Failed to start initializing server node: '],
    ['Starting servers...', nodes.filter((n) => n.role === 'server' && !n.init), 'k3s is up and running',
      (n) => `Failed to start server ${n}: `, 'All servers already running.'],
    ['Starting agents...', nodes.filter((n) => n.role === 'agent'), 'successfully registered node',
      () => 'Failed to add one or more agents: ', 'All agents already running.'],
    ['Starting helpers...', nodes.filter((n) => n.role === 'loadbalancer'), 'start worker processes',
      () => 'Failed to add one or more helper nodes: ', 'All helpers already running.'],
  ];
  return groups.flatMap(([header, members, ready, wrap, none]) => {
    if (members.length === 0) return none ? [{ say: none }] : [];
    return members.map((n, i) => ({ header: i === 0 ? header : undefined, node: n.name, ready, wrap }));
  });
}

class RunError extends Error {}
const QUORUM_WARNING =
  "You're creating 2 server nodes: Please consider creating at least 3 to achieve etcd quorum & fault tolerance";

/** ClusterRun: prep, create containers, start them. The cluster file appears with the first container. */
async function clusterRun(c, { timeoutMs, disablesCoreDns }) {
  const delay = Number(knobs.FAKE_K3D_DELAY_MS ?? 0);
  info('Prep: Network');
  if (dockerDown()) {
    throw new RunError(
      `Failed Cluster Preparation: Failed Network Preparation: failed to create cluster network: failed to check for duplicate docker networks: docker failed to list networks: ${DOCKER_DOWN}`,
    );
  }
  Object.assign(c, prepNetwork(c));
  prepImageVolume(c);
  info('Starting new tools node...');
  await sleep(delay * 0.1);

  const nodes = nodesOf(c);
  const perNode = (delay * 0.25) / Math.max(nodes.length, 1);
  const lastK3sNode = nodes.filter((n) => n.role !== 'loadbalancer').at(-1);
  if (c.servers > 1) info('Creating initializing server node');
  if (knobMatches('FAKE_K3D_CREATE_FAIL_NO_ROLLBACK', c.name)) {
    // e.g. the k3s image cannot be pulled: no container is created, but the network and volume exist
    const first = nodes[0];
    info(`Creating node '${first.name}'`);
    throw new RunError(
      `failed Cluster Creation: failed setup of server/agent node ${first.name}: failed to create node: runtime failed to create node '${first.name}': failed to create container for node '${first.name}': docker failed to pull image '${c.image}': Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`,
    );
  }
  if (knobMatches('FAKE_K3D_DISK_FULL', c.name)) {
    // k3d's wrapping (cluster.go, node.go, docker/node.go, docker/container.go) around the daemon's answer
    const first = nodes[0];
    info(`Creating node '${first.name}'`);
    throw new RunError(
      `failed Cluster Creation: failed setup of server/agent node ${first.name}: failed to create node: runtime failed to create node '${first.name}': failed to create container for node '${first.name}': docker failed to create container '${first.name}': Error response from daemon: mkdir /var/lib/docker/overlay2/${hash(first.name)}-init: no space left on device`,
    );
  }
  saveCluster(c); // from here on containers exist: a killed create leaves a partial cluster behind
  for (const [i, node] of nodes.entries()) {
    if (node.role === 'loadbalancer') info(`Creating LoadBalancer '${node.name}'`);
    else info(`Creating node '${node.name}'`);
    if (i === 0) info(`Starting node 'k3d-${c.name}-tools'`); // the tools node starts in a goroutine meanwhile
    if (c.servers === 2 && node === lastK3sNode) warn(QUORUM_WARNING); // after the k3s nodes, before the LB
    await sleep(perNode);
  }
  info('Using the k3d-tools node to gather environment information');
  info(`HostIP: using network gateway ${networkOf(c).gateway} address`);

  info(`Starting cluster '${c.name}'`);
  const plan = startPlan(c);
  const perStart = (delay * 0.55) / Math.max(plan.filter((s) => s.node).length, 1);
  const apiNode = c.loadbalancer ? `k3d-${c.name}-serverlb` : `k3d-${c.name}-server-0`;
  const failing = knobMatches('FAKE_K3D_CREATE_FAIL', c.name);
  let spent = 0; // time used inside ClusterStart's own --timeout context
  for (const step of plan) {
    if (step.say) info(step.say);
    if (!step.node) continue;
    if (step.header) info(step.header);
    info(`Starting node '${step.node}'`);
    const fail = (why) => new RunError(`Failed Cluster Start: ${step.wrap(step.node)}${why}`);
    const conflict = step.node === apiNode ? await portConflict(c, step.node) : undefined;
    if (conflict)
      throw fail(
        `runtime failed to start node '${step.node}': docker failed to start container for node '${step.node}': ${conflict}`,
      );
    if (hangs('create')) await forever(); // like #621: waiting for a log line that never comes ignores --timeout
    if (failing)
      throw fail(
        `Node ${step.node} failed to get ready: error waiting for log line \`${step.ready}\` from node '${step.node}': stopped returning log lines`,
      );
    if (timeoutMs > 0 && spent + perStart > timeoutMs) {
      await sleep(timeoutMs - spent);
      throw fail(
        `Node ${step.node} failed to get ready: Context deadline exceeded while waiting for log message '${step.ready}' of node ${step.node}: context deadline exceeded`,
      );
    }
    await sleep(perStart);
    spent += perStart;
  }
  saveCluster({ ...c, running: true });
  if (c.servers + c.agents > 0 && !disablesCoreDns) {
    const members = nodes.length;
    info(
      `Injecting records for hostAliases (incl. host.k3d.internal) and for ${members} network members into CoreDNS configmap...`,
    );
  }
  await sleep(delay * 0.1);
}

/** cmd/cluster/clusterCreate.go's failure path: ERRO, rollback via ClusterDelete, FATA. */
function rollback(c, err, noRollbackFlag) {
  error(err.message);
  if (noRollbackFlag) fatal('Cluster creation FAILED, rollback deactivated.');
  error('Failed to create cluster >>> Rolling Back');
  info(`Deleting cluster '${c.name}'`);
  if (dockerDown())
    error(`Failed to get nodes for cluster '${c.name}': ${dockerListError(`k3d.cluster:${c.name}`)}`);
  // ClusterDelete starts with ClusterGet: without a container it fails, and the network and volume stay.
  const saved = dockerDown() ? undefined : readCluster(c.name);
  if (!saved) {
    error('failed to get cluster: No nodes found for given cluster');
    fatal('Cluster creation FAILED, also FAILED to rollback changes!');
  }
  removeCluster(c.name);
  deleteNetworkAndVolume(saved);
  fatal('Cluster creation FAILED, all changes have been rolled back!');
}

async function runCreate({ flags, args }) {
  for (const flag of ['config', 'network', 'subnet', 'registry-create', 'registry-use', 'registry-config']) {
    if (flags[flag] !== undefined) throw new Error(`flag --${flag} is not emulated`);
  }
  const { name, spec, disablesCoreDns } = await prepareCreate(flags, args);
  if (dockerDown())
    error(`Failed to get nodes for cluster '${name}': ${dockerListError(`k3d.cluster:${name}`)}`);
  else if (readCluster(name))
    fatal(`Failed to create cluster '${name}' because a cluster with that name already exists`);
  const c = newCluster(name, spec);
  try {
    await clusterRun(c, { timeoutMs: flags.timeout ?? 0, disablesCoreDns });
  } catch (e) {
    if (!(e instanceof RunError)) throw e;
    rollback(c, e, flags['no-rollback']);
  }
  info(`Cluster '${name}' created successfully!`);
  const update = flags['kubeconfig-update-default'] ?? true;
  let switchContext = flags['kubeconfig-switch-context'] ?? true;
  if (!update && switchContext) {
    info('--kubeconfig-update-default=false --> sets --kubeconfig-switch-context=false');
    switchContext = false;
  }
  if (update) {
    try {
      kubeconfigGetWrite(c, '', { update: true, switchContext, overwrite: false });
    } catch (e) {
      warn(e.message);
    }
  }
  info('You can now use it like this:');
  if (update && !switchContext) out(`kubectl config use-context k3d-${name}\n`);
  else if (!switchContext)
    out(`export KUBECONFIG=$(${env.FAKE_K3D_ARGV0 || 'k3d'} kubeconfig write ${name})\n`);
  out('kubectl cluster-info\n');
}

// ---------------------------------------------------------------- list, kubeconfig, delete, version
/** ClusterGet: Docker errors are only logged, and then the cluster "has no nodes". */
function clusterGet(name) {
  if (!dockerDown()) return readCluster(name);
  error(`Failed to get nodes for cluster '${name}': ${dockerListError(`k3d.cluster:${name}`)}`);
  return undefined;
}
const getOrFatal = (name) => clusterGet(name) ?? fatal('No nodes found for given cluster');
function clusterListOrFatal() {
  if (dockerDown()) fatal(`runtime failed to list nodes: ${dockerListError('app:k3d')}`);
  return allClusters().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function runList({ flags, args }) {
  if (hangs('list')) await forever();
  const clusters = args.length > 0 ? args.map(getOrFatal) : clusterListOrFatal();
  clusters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const format = (flags.output ?? '').toLowerCase();
  const entries = () => clusters.map((c) => clusterJson(c, { details: args.length > 0, token: flags.token }));
  if (format === 'json') {
    const json = JSON.stringify(entries());
    out(`${knobOn('FAKE_K3D_LIST_MALFORMED') ? json.slice(0, Math.ceil(json.length / 2)) : json}\n`);
  } else if (format === 'yaml') out(`${toYaml(entries())}\n\n`);
  else {
    const rows = flags['no-headers']
      ? []
      : [['NAME', 'SERVERS', 'AGENTS', 'LOADBALANCER', ...(flags.token ? ['TOKEN'] : [])]];
    for (const c of clusters) {
      const j = clusterJson(c, { details: false, token: false });
      const counts = [`${j.serversRunning}/${j.serversCount}`, `${j.agentsRunning}/${j.agentsCount}`];
      rows.push([c.name, ...counts, String(Boolean(j.hasLoadbalancer)), ...(flags.token ? [c.token] : [])]);
    }
    out(tabwrite(rows));
  }
}

async function runKubeconfigGet({ flags, args }) {
  const clusters = flags.all ? clusterListOrFatal() : args.map(getOrFatal);
  let failed = false;
  for (const c of clusters) {
    out('---\n'); // printed before the kubeconfig is copied out of the server container
    if (hangs('kubeconfig')) await forever();
    try {
      kubeconfigGetWrite(c, '-', { update: true, switchContext: true, overwrite: true });
    } catch (e) {
      error(e.message);
      failed = true;
    }
  }
  if (failed) throw new Exit(1);
}

async function runKubeconfigMerge({ flags, args }) {
  if (flags['kubeconfig-merge-default'] && flags.output)
    fatal("Cannot use both '--output' and '--kubeconfig-merge-default' at the same time");
  const clusters = flags.all
    ? clusterListOrFatal()
    : (args.length > 0 ? args : ['k3s-default']).map(getOrFatal);
  fs.mkdirSync(configDir(), { recursive: true });
  const outputs = [];
  let failed = false;
  for (const c of clusters) {
    const output =
      flags.output ??
      (flags['kubeconfig-merge-default'] ? '' : path.join(configDir(), `kubeconfig-${c.name}.yaml`));
    const options = {
      update: flags.update ?? true,
      switchContext: flags['kubeconfig-switch-context'] ?? true,
      overwrite: flags.overwrite ?? false,
    };
    try {
      outputs.push(kubeconfigGetWrite(c, output, options));
    } catch (e) {
      error(e.message);
      failed = true;
    }
  }
  if (flags.output !== '-') out(`${outputs.join(':')}\n`);
  if (failed) throw new Exit(1);
}

async function deleteCluster(c) {
  info(`Deleting cluster '${c.name}'`);
  if (hangs('delete')) await forever();
  await sleep(Number(knobs.FAKE_K3D_DELETE_DELAY_MS ?? 0));
  const stuck = takeDeleteFailure(); // NodeDelete only logs a failed `docker rm -f` (#982)
  if (stuck) {
    const server0 = `k3d-${c.name}-server-0`;
    error(
      `docker failed to remove the container '${server0}': Error response from daemon: cannot remove container "/${server0}": could not kill: tried to kill container, but did not receive an exit event`,
    );
    saveCluster({ ...c, servers: Math.min(c.servers, 1), agents: 0, loadbalancer: false });
    // The container that would not go keeps its network endpoint and the volume: both stay.
    if (!c.networkExternal) info(`Deleting cluster network 'k3d-${c.name}'`);
    info('Deleting 1 attached volumes...');
    warn(
      `Failed to delete volume 'k3d-${c.name}-images' of cluster '${c.name}': docker failed to delete volume 'k3d-${c.name}-images': Error response from daemon: remove k3d-${c.name}-images: volume is in use - [${hash(c.name)}] -> Try to delete it manually`,
    );
  } else {
    removeCluster(c.name);
    deleteNetworkAndVolume(c);
  }
  info('Removing cluster details from default kubeconfig...');
  try {
    removeFromDefaultKubeconfig(c.name);
  } catch (e) {
    warn('Failed to remove cluster details from default kubeconfig');
    warn(e.message);
  }
  info('Removing standalone kubeconfig file (if there is one)...');
  fs.mkdirSync(configDir(), { recursive: true });
  fs.rmSync(path.join(configDir(), `kubeconfig-${c.name}.yaml`), { force: true });
  info(`Successfully deleted cluster ${c.name}!`);
}

async function runDelete({ flags, args }) {
  let clusters;
  if (flags.all) {
    info('Deleting all clusters...');
    clusters = clusterListOrFatal();
  } else {
    clusters = [];
    for (const name of args.length > 0 ? args : ['k3s-default']) {
      const c = clusterGet(name);
      if (c) clusters.push(c);
      else info(`No nodes found for cluster '${name}', nothing to delete.`);
    }
  }
  if (clusters.length === 0) info('No clusters found');
  for (const c of clusters) await deleteCluster(c);
}

function runVersion({ flags }) {
  if (flags.output === 'json') out(`${JSON.stringify({ k3d: K3D_VERSION, k3s: K3S_VERSION })}\n`);
  else out(`k3d version ${K3D_VERSION}\nk3s version ${K3S_VERSION} (default)\n`);
}

// ---------------------------------------------------------------- command table and cobra behaviour
/**
 * pflag definitions, one per line: name, shorthand, type, default shown by --help ('-' = none), usage text.
 * As in pflag, the first `backquoted` part of a usage text names the flag's value in the help.
 */
function flagTable(text) {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [, name, short, type, def, usage] = /^\s*(\S+)\s+(\S)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
      return {
        name,
        short: short === '-' ? '' : short,
        type,
        def: def === '-' ? '' : def,
        usage: usage.replaceAll('\\n', '\n'),
      };
    });
}
const flag = (name, type, usage) => ({ name, short: '', type, def: '', usage });
const GLOBAL_FLAGS = flagTable(`
  verbose     - bool - Enable verbose output (debug logging)
  trace       - bool - Enable super verbose output (trace logging)
  timestamps  - bool - Enable Log timestamps
`);
const CREATE_FLAGS = flagTable(`
  agents                    a int         -    Specify how many agents you want to create
  agents-memory             - string      -    Memory limit imposed on the agents nodes [From docker]
  api-port                  - string      -    Specify the Kubernetes API server port exposed on the LoadBalancer (Format: \`[HOST:]HOSTPORT\`)\\n - Example: \`k3d cluster create --servers 3 --api-port 0.0.0.0:6550\`
  config                    c string      -    Path of a config file to use
  env                       e stringArray -    Add environment variables to nodes (Format: \`KEY[=VALUE][@NODEFILTER[;NODEFILTER...]]\`
  gpus                      - string      -    GPU devices to add to the cluster node containers ('all' to pass all GPUs) [From docker]
  host-alias                - stringArray -    Add \`ip:host[,host,...]\` mappings
  host-pid-mode             - bool        -    Enable host pid mode of server(s) and agent(s)
  image                     i string      -    Specify k3s image that you want to use for the nodes
  k3s-arg                   - stringArray -    Additional args passed to k3s command (Format: \`ARG@NODEFILTER[;@NODEFILTER]\`)\\n - Example: \`k3d cluster create --k3s-arg "--disable=traefik@server:0"\`
  k3s-node-label            - stringArray -    Add label to k3s node (Format: \`KEY[=VALUE][@NODEFILTER[;NODEFILTER...]]\`
  kubeconfig-switch-context - bool        true Directly switch the default kubeconfig's current-context to the new cluster's context (requires --kubeconfig-update-default)
  kubeconfig-update-default - bool        true Directly update the default kubeconfig with the new cluster's context
  lb-config-override        - stringSlice -    Use dotted YAML path syntax to override nginx loadbalancer settings
  network                   - string      -    Join an existing network
  no-image-volume           - bool        -    Disable the creation of a volume for importing images
  no-lb                     - bool        -    Disable the creation of a LoadBalancer in front of the server nodes
  no-rollback               - bool        -    Disable the automatic rollback actions, if anything goes wrong
  port                      p stringArray -    Map ports from the node containers (via the serverlb) to the host (Format: \`[HOST:][HOSTPORT:]CONTAINERPORT[/PROTOCOL][@NODEFILTER]\`)
  registry-config           - string      -    Specify path to an extra registries.yaml file
  registry-create           - string      -    Create a k3d-managed registry and connect it to the cluster (Format: \`NAME[:HOST][:HOSTPORT]\`
  registry-use              - stringArray -    Connect to one or more k3d-managed registries running locally
  runtime-label             - stringArray -    Add label to container runtime (Format: \`KEY[=VALUE][@NODEFILTER[;NODEFILTER...]]\`
  runtime-ulimit            - stringArray -    Add ulimit to container runtime (Format: \`NAME[=SOFT]:[HARD]\`
  servers                   s int         -    Specify how many servers you want to create
  servers-memory            - string      -    Memory limit imposed on the server nodes [From docker]
  subnet                    - string      -    [Experimental: IPAM] Define a subnet for the newly created container network (Example: \`172.28.0.0/16\`)
  timeout                   - duration    -    Rollback changes if cluster couldn't be created in specified duration.
  token                     - string      -    Specify a cluster token. By default, we generate one.
  volume                    v stringArray -    Mount volumes into the nodes (Format: \`[SOURCE:]DEST[@NODEFILTER[;NODEFILTER...]]\`
  wait                      - bool        true Wait for the server(s) to be ready before returning. Use '--timeout DURATION' to not wait forever.
`);
const MERGE_FLAGS = flagTable(`
  all                       a bool   -    Get kubeconfigs from all existing clusters
  kubeconfig-merge-default  d bool   -    Merge into the default kubeconfig ($KUBECONFIG or $HOME/.kube/config)
  kubeconfig-switch-context s bool   true Switch to new context
  output                    o string -    Define output [ - | FILE ] (default from $KUBECONFIG or $HOME/.kube/config
  overwrite                 - bool   -    [Careful!] Overwrite existing file, ignoring its contents
  update                    u bool   true Update conflicting fields in existing kubeconfig
`);
const OTHER_FLAGS = flagTable(`
  version-output            o string -    This will return version information as a different format.  Only json is supported
  delete-all                a bool   -    Delete all existing clusters
  delete-config             c string -    Path of a config file to use
  list-no-headers           - bool   -    Disable headers
  list-output               o string -    Output format. One of: json|yaml
  list-token                - bool   -    Print k3s cluster token
  kubeconfig-all            a bool   -    Output kubeconfigs from all existing clusters
`);
/** The flags of OTHER_FLAGS whose name starts with `prefix-`, under their real names. */
const flagsOf = (prefix) =>
  OTHER_FLAGS.filter((f) => f.name.startsWith(`${prefix}-`)).map((f) => ({
    ...f,
    name: f.name.slice(prefix.length + 1),
  }));

// biome-ignore format: a table reads better one command per entry
const COMMANDS = {
  version: { use: 'version', short: 'Show k3d and default k3s version', run: runVersion, flags: flagsOf('version'),
    args: (a) => (a.length > 0 ? `unknown command ${goQuote(a[0])} for "k3d version"` : undefined) },
  'cluster create': { use: 'create NAME', short: 'Create a new cluster', run: runCreate, flags: CREATE_FLAGS,
    args: (a) => (a.length > 1 ? `accepts between 0 and 1 arg(s), received ${a.length}` : undefined) },
  'cluster delete': { use: 'delete [NAME [NAME ...] | --all]', aliases: ['del', 'rm'], short: 'Delete cluster(s).',
    run: runDelete, flags: flagsOf('delete') },
  'cluster list': { use: 'list [NAME [NAME...]]', aliases: ['ls', 'get'], short: 'List cluster(s)', run: runList,
    flags: flagsOf('list') },
  'kubeconfig get': { use: 'get [CLUSTER [CLUSTER [...]] | --all]', aliases: ['print', 'show'],
    short: 'Print kubeconfig(s) from cluster(s).', run: runKubeconfigGet, flags: flagsOf('kubeconfig'),
    args: (a, f) => ((a.length < 1 && !f.all) || (a.length > 0 && f.all)
      ? 'Need to specify one or more cluster names *or* set `--all` flag' : undefined) },
  'kubeconfig merge': { use: 'merge [CLUSTER [CLUSTER [...]] | --all]', aliases: ['write'],
    short: 'Write/Merge kubeconfig(s) from cluster(s) into new or existing kubeconfig/file.', run: runKubeconfigMerge,
    flags: MERGE_FLAGS },
};
// Groups print their help; real subcommands the fake does not emulate fail loudly instead of lying.
// biome-ignore format: a table
const GROUPS = {
  cluster: { short: 'Manage cluster(s)',
    more: { edit: '[EXPERIMENTAL] Edit cluster(s).', start: 'Start existing k3d cluster(s)', stop: 'Stop existing k3d cluster(s)' } },
  kubeconfig: { short: 'Manage kubeconfig(s)', more: {} },
};
// biome-ignore format: a table
const NOT_EMULATED = { completion: 'Generate completion scripts for [bash, zsh, fish, powershell | psh]', config: 'Work with config file(s)', debug: '',
  help: 'Help about any command', image: 'Handle container images.', node: 'Manage node(s)', registry: 'Manage registry/registries' };

/** pflag's FlagUsages: sorted, `backquoted` word as the value name, usage column aligned 3 past the widest. */
function flagUsages(flags) {
  const typeNames = {
    int: 'int',
    string: 'string',
    duration: 'duration',
    stringArray: 'stringArray',
    stringSlice: 'strings',
  };
  const rows = [...flags]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((f) => {
      const quoted = /`([^`]*)`/.exec(f.usage);
      const varname = quoted ? quoted[1] : typeNames[f.type];
      const left = `${f.short ? `  -${f.short}, --` : '      --'}${f.name}${varname ? ` ${varname}` : ''}`;
      return [
        left,
        `${quoted ? f.usage.replace(quoted[0], quoted[1]) : f.usage}${f.def ? ` (default ${f.def})` : ''}`,
      ];
    });
  const width = Math.max(...rows.map(([left]) => left.length)) + 3;
  return rows
    .map(([left, usage]) => `${left.padEnd(width)}${usage.replaceAll('\n', `\n${' '.repeat(width)}`)}`)
    .join('\n');
}
const helpFlag = (name) => ({ ...flag('help', 'bool', `help for ${name}`), short: 'h' });
const commandList = (entries) => {
  const pad = Math.max(11, ...entries.map(([n]) => n.length));
  return entries.map(([n, s]) => `  ${n.padEnd(pad)} ${s}`).join('\n');
};

function usageText(path_, cmd) {
  const name = cmd.use.split(' ')[0];
  const parent = path_.split(' ').slice(0, -1).join(' ');
  const aliases = cmd.aliases ? `\n\nAliases:\n  ${[name, ...cmd.aliases].join(', ')}` : '';
  const flags = flagUsages([...cmd.flags, helpFlag(name)]);
  return `Usage:\n  k3d ${parent ? `${parent} ` : ''}${cmd.use} [flags]${aliases}\n\nFlags:\n${flags}\n\nGlobal Flags:\n${flagUsages(GLOBAL_FLAGS)}\n`;
}
function groupUsage(group) {
  const own = group
    ? [
        ...Object.entries(COMMANDS)
          .filter(([p]) => p.startsWith(`${group} `))
          .map(([, c]) => [c.use.split(' ')[0], c.short]),
        ...Object.entries(GROUPS[group].more),
      ]
    : [
        ...Object.entries(GROUPS).map(([n, g]) => [n, g.short]),
        ['version', COMMANDS.version.short],
        ...Object.entries(NOT_EMULATED).filter(([, s]) => s),
      ];
  const where = group ? `k3d ${group}` : 'k3d';
  const flags = group
    ? flagUsages([helpFlag(group)])
    : flagUsages([
        ...GLOBAL_FLAGS,
        helpFlag('k3d'),
        flag('version', 'bool', 'Show k3d and default k3s version'),
      ]);
  const global = group ? `\n\nGlobal Flags:\n${flagUsages(GLOBAL_FLAGS)}` : '';
  return `Usage:\n  ${where} [flags]\n  ${where} [command]\n\nAvailable Commands:\n${commandList(own.sort(([a], [b]) => (a < b ? -1 : 1)))}\n\nFlags:\n${flags}${global}\n\nUse "${where} [command] --help" for more information about a command.\n`;
}

/** cobra's Find: the first non-flag words name the command; aliases resolve to their command. */
function resolveCommand(argv) {
  const words = argv.map((a, i) => [a, i]).filter(([a]) => !a.startsWith('-'));
  const drop = (...indexes) => argv.filter((_, i) => !indexes.includes(i));
  const [first, second] = words;
  if (!first) return { path: '', rest: argv };
  if (first[0] === 'version') return { path: 'version', cmd: COMMANDS.version, rest: drop(first[1]) };
  if (GROUPS[first[0]]) {
    const entry = Object.entries(COMMANDS).find(
      ([p, c]) =>
        p.startsWith(`${first[0]} `) &&
        second &&
        [c.use.split(' ')[0], ...(c.aliases ?? [])].includes(second[0]),
    );
    if (entry) return { path: entry[0], cmd: entry[1], rest: drop(first[1], second[1]) };
    if (second && second[0] in GROUPS[first[0]].more)
      return { path: `${first[0]} ${second[0]}`, notEmulated: true, rest: [] };
    return { path: first[0], group: first[0], rest: drop(first[1]) };
  }
  if (first[0] in NOT_EMULATED) return { path: first[0], notEmulated: true, rest: [] };
  return { path: '', unknown: first[0], rest: argv };
}

async function execute(argv) {
  const target = resolveCommand(argv);
  if (target.notEmulated) throw new Error(`'k3d ${target.path}' is not emulated`);
  if (target.unknown !== undefined) {
    process.stderr.write(
      `Error: unknown command ${goQuote(target.unknown)} for "k3d"\nRun 'k3d --help' for usage.\n`,
    );
    fatal(`unknown command ${goQuote(target.unknown)} for "k3d"`);
  }
  const cmd = target.cmd;
  const specs = [
    ...(cmd?.flags ?? (target.path ? [] : [flag('version', 'bool', '')])),
    ...GLOBAL_FLAGS,
    helpFlag(''),
  ];
  const usage = () => (cmd ? usageText(target.path, cmd) : groupUsage(target.group));
  let parsed;
  try {
    parsed = parseFlags(target.rest, specs);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`Error: ${e.message}\n${usage()}\n`);
    fatal(e.message); // k3d's logger is not set up yet: logrus defaults (logfmt on a pipe)
  }
  const { values: flags, positionals: args } = parsed;
  if (flags.help)
    return out(
      `${cmd?.short ?? GROUPS[target.group]?.short ?? 'https://k3d.io/ -> Run k3s in Docker!'}\n\n${usage()}`,
    );
  initLogging(flags);
  if (!dockerDown())
    log(
      'debug',
      'Runtime Info:\n&{Name:docker Endpoint:/var/run/docker.sock Version:27.5.1 OSType:linux OS:Ubuntu 24.04.1 LTS Arch:x86_64 CgroupVersion:2 CgroupDriver:systemd Filesystem:extfs InfoName:fake-k3d}',
    );
  if (!cmd && !target.group) {
    if (flags.version) return runVersion({ flags: {} });
    return process.stderr.write(usage()); // root's Run calls cmd.Usage(), which writes to stderr
  }
  if (!cmd) return out(`${GROUPS[target.group].short}\n\n${usage()}`); // a group's Run prints its help
  const argsError = cmd.args?.(args, flags);
  if (argsError) {
    process.stderr.write(`Error: ${argsError}\n${usage()}\n`);
    fatal(argsError);
  }
  await cmd.run({ flags, args });
}

// ---------------------------------------------------------------- invocation log and process exit
async function main() {
  if (!stateDir) {
    process.stderr.write(
      'fake k3d: FAKE_K3D_STATE_DIR is not set; point it at a directory (see test/fakes/k3d/fake-k3d.ts)\n',
    );
    return 1;
  }
  clusters = dockerObjects(stateDir, 'clusters');
  networks = dockerObjects(stateDir, 'networks');
  volumes = dockerObjects(stateDir, 'volumes');
  const argv = process.argv.slice(2);
  const id = `${process.pid}-${startedAt}-${randomBytes(3).toString('hex')}`;
  const record = (entry) =>
    fs.appendFileSync(path.join(stateDir, 'calls.jsonl'), `${JSON.stringify({ id, ...entry })}\n`);
  const callEnv = Object.fromEntries(
    ['KUBECONFIG', 'LOG_COLORS'].filter((k) => env[k] !== undefined).map((k) => [k, env[k]]),
  );
  record({
    event: 'start',
    pid: process.pid,
    argv,
    command: resolveCommand(argv).path,
    start: startedAt,
    env: callEnv,
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.once(signal, () => {
      record({ event: 'end', end: Date.now(), exitCode: null, signal });
      process.kill(process.pid, signal); // k3d has no handler: die of the signal, without rollback
    });
  }
  // A Go program writing to a closed stdout/stderr dies of SIGPIPE; Node ignores SIGPIPE, so restore the
  // default disposition (adding and removing a listener does that) and raise it.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => {
      if (e.code !== 'EPIPE') throw e;
      record({ event: 'end', end: Date.now(), exitCode: null, signal: 'SIGPIPE' });
      const noop = () => {};
      process.on('SIGPIPE', noop).off('SIGPIPE', noop);
      process.kill(process.pid, 'SIGPIPE');
    });
  }
  let code = 0;
  try {
    knobs = loadKnobs();
    await execute(argv);
  } catch (e) {
    if (e instanceof Exit) code = e.code;
    else {
      process.stderr.write(`fake k3d: ${e.message}\n`);
      code = 2;
    }
  }
  record({ event: 'end', end: Date.now(), exitCode: code, signal: null });
  return code;
}

process.exitCode = await main();
