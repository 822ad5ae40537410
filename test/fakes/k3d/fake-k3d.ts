// Test-side handle on the fake `k3d` executable (test/fakes/bin/k3d -> fake-k3d.mjs) and the fake `docker`
// (test/fakes/bin/docker -> fake-docker.mjs) over one fake Docker host: a private state directory, the
// environment that points the fakes at it, and readers for what they did.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Failure and timing knobs; each maps to the environment variable of the same name. */
export interface FakeK3dKnobs {
  /** Total duration of a successful `cluster create`, spread over its phases (default 0). */
  FAKE_K3D_DELAY_MS?: number;
  /** Duration of deleting one cluster (default 0). */
  FAKE_K3D_DELETE_DELAY_MS?: number;
  /** `true`, or a regex matched against the cluster name: create fails at start and rolls back. */
  FAKE_K3D_CREATE_FAIL?: boolean | string;
  /**
   * Same syntax: creating the first node fails (an image pull), so there is no container for the rollback to
   * find: it fails too, no cluster is listed, and the network `k3d-NAME` and volume `k3d-NAME-images` stay.
   */
  FAKE_K3D_CREATE_FAIL_NO_ROLLBACK?: boolean | string;
  /** Same syntax: Docker has no disk space left for the first node's container (`no space left on device`). */
  FAKE_K3D_DISK_FULL?: boolean | string;
  /** Comma list of `create,delete,list,kubeconfig`: print the first lines, then never return. */
  FAKE_K3D_HANG?: string;
  /** The first N cluster deletions log ERRO, leave the cluster in place and still exit 0. */
  FAKE_K3D_DELETE_FAIL_TIMES?: number;
  /** `cluster list -o json` prints truncated JSON and exits 0. */
  FAKE_K3D_LIST_MALFORMED?: boolean;
  /** Every Docker call (of k3d and of the fake docker) fails as if the daemon were unreachable. */
  FAKE_K3D_DOCKER_DOWN?: boolean;
}
export type FakeK3dKnobName = keyof FakeK3dKnobs;
/** `null` removes a knob from knobs.json, so the environment's value (if any) applies again. */
export type FakeK3dKnobPatch = { [K in FakeK3dKnobName]?: FakeK3dKnobs[K] | null };

/** What the fake stores per cluster in `<stateDir>/clusters/<name>.json`. */
export interface FakeK3dCluster {
  name: string;
  servers: number;
  agents: number;
  loadbalancer: boolean;
  image: string;
  /** Host in the kubeconfig's server URL: the `--api-port` host, or `0.0.0.0`. */
  apiHost: string;
  apiHostIP: string;
  apiPort: string;
  /** ms since the epoch */
  created: number;
  /** false while a create has not started the nodes yet (partial cluster), or once stopped */
  running: boolean;
  /** Its nodes were started and then stopped (`k3d cluster stop`, `docker stop`): they show as `exited`. */
  stopped?: boolean;
  /** true when the create re-used a network left from before: k3d then does not delete it with the cluster */
  networkExternal?: boolean;
  token: string;
  /** `--runtime-label KEY=VALUE@FILTER`s, with the group of each filter (`all`, `server`, `loadbalancer`...). */
  runtimeLabels?: { key: string; value: string; groups: string[] }[];
  kubeconfig: { certificateAuthorityData: string; clientCertificateData: string; clientKeyData: string };
}

export interface FakeK3dCall {
  readonly id: string;
  readonly argv: readonly string[];
  /** Resolved command path with aliases expanded, e.g. `cluster create`, `cluster delete`, `version`; '' if none. */
  readonly command: string;
  readonly pid: number;
  /** ms since the epoch */
  readonly start: number;
  /** undefined while running, or when the process died of SIGKILL */
  readonly end: number | undefined;
  /** null when it died of a signal it recorded (SIGTERM, SIGINT, SIGHUP) */
  readonly exitCode: number | null | undefined;
  readonly signal: string | undefined;
  readonly env: { readonly KUBECONFIG?: string; readonly LOG_COLORS?: string };
}

export interface AddClusterOptions {
  running?: boolean;
  servers?: number;
  agents?: number;
  loadbalancer?: boolean;
  apiHost?: string;
  apiPort?: number;
  token?: string;
  /** Docker labels on every node, as `--runtime-label KEY=VALUE@all` puts them. */
  labels?: Record<string, string>;
}

export interface FakeK3dOptions {
  /** Knobs written to knobs.json before the first invocation. */
  knobs?: FakeK3dKnobPatch;
}

export interface FakeK3d {
  /** Absolute path of the executable to run instead of `k3d`. */
  readonly binPath: string;
  /** Absolute path of the executable to run instead of `docker`; it sees the same networks and volumes. */
  readonly dockerBinPath: string;
  /** Directory holding `k3d`, for prepending to PATH. */
  readonly binDir: string;
  readonly stateDir: string;
  /** Stands in for $HOME: the default kubeconfig is `<homeDir>/.kube/config` when KUBECONFIG is unset. */
  readonly homeDir: string;
  /** Merge into the child's environment (k3d's and docker's): FAKE_K3D_STATE_DIR and FAKE_K3D_HOME. */
  readonly env: Record<string, string>;
  calls(): FakeK3dCall[];
  /** Names of the clusters that exist now (partial ones included), sorted. */
  clusters(): string[];
  cluster(name: string): FakeK3dCluster | undefined;
  /** Names of the Docker networks k3d made (`k3d-NAME`) that exist now, sorted. */
  networks(): string[];
  /** Names of the Docker volumes k3d made (`k3d-NAME-images`) that exist now, sorted. */
  volumes(): string[];
  /** Takes effect on the next invocation. */
  setKnobs(patch: FakeK3dKnobPatch): void;
  /** Plants a cluster, with its network and volume, as if created outside the bot (orphan, foreign or half-created). */
  addCluster(name: string, options?: AddClusterOptions): FakeK3dCluster;
  /**
   * Stops every node of a cluster, as `k3d cluster stop NAME` does (listed, no node running, each `exited`), or
   * with `running` true starts them again, as `k3d cluster start NAME` does.
   */
  stopCluster(name: string, running?: boolean): void;
  /** Plants the network and volume of a cluster that has no containers, as a killed create leaves them. */
  addLeftovers(clusterName: string): void;
  /** Highest number of overlapping invocations of `cluster create` or `cluster delete`. */
  maxConcurrent(subcommand: 'create' | 'delete'): number;
  cleanup(): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function createFakeK3d(options: FakeK3dOptions = {}): FakeK3d {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'fake-k3d-'));
  const homeDir = path.join(stateDir, 'home');
  const clustersDir = path.join(stateDir, 'clusters');
  for (const dir of [clustersDir, homeDir, path.join(stateDir, 'networks'), path.join(stateDir, 'volumes')])
    mkdirSync(dir, { recursive: true });
  const binPath = path.resolve(here, '../bin/k3d');
  const objectFile = (kind: string, name: string) =>
    path.join(stateDir, kind, `${encodeURIComponent(name)}.json`);
  const clusterFile = (name: string) => objectFile('clusters', name);
  const names = (kind: string) =>
    readdirSync(path.join(stateDir, kind))
      .filter((f) => f.endsWith('.json'))
      .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)))
      .sort();
  /** The records fake-k3d.mjs writes when a create makes the network and the image volume. */
  const addNetworkAndVolume = (clusterName: string) => {
    const network = `k3d-${clusterName}`;
    const id = randomBytes(32).toString('hex');
    writeJsonAtomic(objectFile('networks', network), { name: network, id, labels: { app: 'k3d' } });
    const volume = `k3d-${clusterName}-images`;
    writeJsonAtomic(objectFile('volumes', volume), {
      name: volume,
      labels: { app: 'k3d', 'k3d.cluster': clusterName, 'k3d.version': 'v5.8.3' },
    });
  };

  const fake: FakeK3d = {
    binPath,
    dockerBinPath: path.resolve(here, '../bin/docker'),
    binDir: path.dirname(binPath),
    stateDir,
    homeDir,
    env: { FAKE_K3D_STATE_DIR: stateDir, FAKE_K3D_HOME: homeDir },
    calls: () => readCalls(path.join(stateDir, 'calls.jsonl')),
    clusters: () => names('clusters'),
    cluster: (name) => readJsonFile<FakeK3dCluster>(clusterFile(name)),
    networks: () => names('networks'),
    volumes: () => names('volumes'),
    setKnobs(patch) {
      const file = path.join(stateDir, 'knobs.json');
      writeJsonAtomic(file, { ...readJsonFile<Record<string, unknown>>(file), ...patch });
    },
    addCluster(name, opts = {}) {
      const cluster = plantedCluster(name, opts);
      addNetworkAndVolume(name);
      writeJsonAtomic(clusterFile(name), cluster);
      return cluster;
    },
    stopCluster(name, running = false) {
      const cluster = readJsonFile<FakeK3dCluster>(clusterFile(name));
      if (!cluster) throw new Error(`no cluster ${name} to stop`);
      writeJsonAtomic(clusterFile(name), { ...cluster, running, stopped: !running });
    },
    addLeftovers: addNetworkAndVolume,
    maxConcurrent: (subcommand) =>
      maxOverlap(fake.calls().filter((c) => c.command === `cluster ${subcommand}`)),
    cleanup: () => rmSync(stateDir, { recursive: true, force: true }),
  };
  if (options.knobs) fake.setKnobs(options.knobs);
  return fake;
}

function plantedCluster(name: string, opts: AddClusterOptions): FakeK3dCluster {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const apiHost = opts.apiHost ?? '0.0.0.0';
  return {
    name,
    servers: opts.servers ?? 1,
    agents: opts.agents ?? 0,
    loadbalancer: opts.loadbalancer ?? true,
    image: 'docker.io/rancher/k3s:v1.31.5-k3s1',
    apiHost,
    apiHostIP: /^\d+\.\d+\.\d+\.\d+$/.test(apiHost) ? apiHost : '127.0.0.1',
    apiPort: String(opts.apiPort ?? 30000 + (randomBytes(2).readUInt16BE() % 30000)),
    created: Date.now(),
    running: opts.running ?? true,
    runtimeLabels: Object.entries(opts.labels ?? {}).map(([key, value]) => ({ key, value, groups: ['all'] })),
    token:
      opts.token ??
      randomBytes(15)
        .toString('base64')
        .replace(/[^a-zA-Z]/g, 'x')
        .slice(0, 20),
    kubeconfig: {
      certificateAuthorityData: pemBase64('CERTIFICATE', randomBytes(282)),
      clientCertificateData: pemBase64('CERTIFICATE', randomBytes(310)),
      clientKeyData: Buffer.from(privateKey).toString('base64'),
    },
  };
}

function pemBase64(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return Buffer.from(`-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`).toString('base64');
}

function readJsonFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

interface StartRecord {
  event: 'start';
  id: string;
  pid: number;
  argv: string[];
  command: string;
  start: number;
  env: { KUBECONFIG?: string; LOG_COLORS?: string };
}
interface EndRecord {
  event: 'end';
  id: string;
  end: number;
  exitCode: number | null;
  signal: string | null;
}

/** calls.jsonl holds a start line and (unless SIGKILLed) an end line per invocation, matched by id. */
function readCalls(file: string): FakeK3dCall[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const records = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StartRecord | EndRecord);
  const ends = new Map(records.filter((r): r is EndRecord => r.event === 'end').map((r) => [r.id, r]));
  return records
    .filter((r): r is StartRecord => r.event === 'start')
    .map((r) => {
      const end = ends.get(r.id);
      return {
        id: r.id,
        argv: r.argv,
        command: r.command,
        pid: r.pid,
        start: r.start,
        end: end?.end,
        exitCode: end?.exitCode,
        signal: end?.signal ?? undefined,
        env: r.env,
      };
    })
    .sort((a, b) => a.start - b.start);
}

/** Sweep over start/end points; an end at the same instant as a start does not overlap it. */
function maxOverlap(calls: readonly FakeK3dCall[]): number {
  const points = calls.flatMap((c) => [
    { at: c.start, delta: 1 },
    { at: c.end ?? Number.POSITIVE_INFINITY, delta: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const point of points) {
    current += point.delta;
    max = Math.max(max, current);
  }
  return max;
}
