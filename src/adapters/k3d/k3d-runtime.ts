import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterError, type ClusterRuntime, type CreateClusterSpec, type Logger } from '../../core/ports.js';
import { CommandError, type CommandRunner, outputTail } from '../../lib/command-runner.js';
import { KeyedMutex } from '../../lib/keyed-mutex.js';
import { failureReason, OWNER_LABEL, parseClusterList, parseKubeconfig } from './k3d-output.js';

export interface K3dRuntimeOptions {
  run: CommandRunner;
  bin: string;
  /** The docker CLI, for the network and volume k3d leaves behind (k3d-cli.md §1.6, §5, §10). */
  dockerBin: string;
  logger: Logger;
  /** Called for each network or volume that could not be removed (a metric); the reconciler retries them. */
  onLeftoverFailure?: (kind: DockerObjectKind) => void;
  /** Only clusters with this prefix are ever created or deleted. */
  prefix: string;
  /** Host written into kubeconfigs (`--api-port HOST:PORT`). */
  apiHost: string;
  createTimeoutMs: number;
}

export type DockerObjectKind = 'network' | 'volume';

/** The limit of every k3d and docker call but a create (SANDBOX_CREATE_TIMEOUT). */
const COMMAND_TIMEOUT_MS = 120_000;

/** Docker's texts for a network or volume that does not exist (also the older `No such network: NAME`). */
const DOCKER_NOT_FOUND =
  /^Error response from daemon: (network \S+ not found|get \S+: no such volume)|No such network/m;

/** Docker's two texts: the port is published by another container, or a host process listens on it. */
const PORT_IN_USE = /port is already allocated|bind: address already in use/;
/** A daemon that cannot be reached fails a create in its first phase, before any container (k3d-cli.md §1.6). */
const DOCKER_DOWN = /^.*Failed Cluster Preparation: .*Cannot connect to the Docker daemon/m;

/** Docker's texts for what is wrong with the Docker host, and the words a sandbox's owner is given first. */
const DOCKER_HOST_CAUSES: [RegExp, string][] = [
  [/no space left on device/, 'the Docker host is out of disk space'],
  [/Cannot connect to the Docker daemon/, 'the Docker daemon on the bot’s host cannot be reached'],
  [PORT_IN_USE, 'its API port is taken on the Docker host'],
];

/**
 * ClusterRuntime over the k3d CLI. Every call runs with LOG_COLORS=false (parseable logfmt), k3d's default
 * LOG_LEVEL (the bot's own LOG_LEVEL=debug would put DEBU lines on the stdout that carries the JSON and the
 * kubeconfig) and a private scratch KUBECONFIG, so k3d never touches the operator's ~/.kube/config; operations
 * on one name are serialised.
 */
export function createK3dRuntime(options: K3dRuntimeOptions): ClusterRuntime {
  const { run, bin, dockerBin, logger, prefix, apiHost, createTimeoutMs } = options;
  const perName = new KeyedMutex();

  function assertOurs(clusterName: string): void {
    if (!clusterName.startsWith(prefix) || clusterName.length > 32) {
      throw new Error(`refusing to touch cluster "${clusterName}": it does not carry the prefix "${prefix}"`);
    }
  }

  async function k3d(args: string[], timeoutMs = COMMAND_TIMEOUT_MS) {
    const scratch = await mkdtemp(path.join(tmpdir(), 'sandbox-k3d-'));
    try {
      return await run(bin, args, {
        timeoutMs,
        env: { LOG_COLORS: 'false', LOG_LEVEL: 'info', KUBECONFIG: path.join(scratch, 'kubeconfig.yaml') },
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * `detail` (shown in the approval thread) comes from stderr, or from stdout's progress lines when k3d wrote
   * no error. Never from the stdout of `kubeconfig get`: that is the secret itself.
   */
  function toClusterError(error: unknown, what: string, stdoutIsSecret = false): ClusterError {
    if (!(error instanceof CommandError)) return new ClusterError(`${what}: ${String(error)}`, '');
    const detail = outputTail(error.stderr || (stdoutIsSecret ? '' : error.stdout));
    if (error.timedOut) return new ClusterError(`${what}: ${error.message}`, detail, 'timeout');
    if (error.exitCode === undefined)
      return new ClusterError(`${what}: ${error.message}`, detail, 'unavailable');
    const reason = failureReason(error.stderr) ?? error.message;
    const kind = PORT_IN_USE.test(error.stderr)
      ? 'port_in_use'
      : DOCKER_DOWN.test(error.stderr)
        ? 'docker_down'
        : 'failed';
    // k3d wraps Docker's answer in four or five phases: the cause ends a 400-character line, past what the
    // audit channel and a thread's summary show. A cause the Docker host can mend is said first.
    const cause = DOCKER_HOST_CAUSES.find(([pattern]) => pattern.test(error.stderr))?.[1];
    return new ClusterError(`${what}: ${cause ? `${cause} (${reason})` : reason}`, detail, kind);
  }

  async function list() {
    let stdout: string;
    try {
      ({ stdout } = await k3d(['cluster', 'list', '-o', 'json']));
    } catch (error) {
      throw toClusterError(error, 'k3d cluster list failed');
    }
    const clusters = parseClusterList(stdout, prefix);
    if (!clusters) {
      throw new ClusterError(
        'k3d cluster list printed output that is not the expected JSON',
        outputTail(stdout),
        'unavailable',
      );
    }
    return clusters;
  }

  /**
   * k3d leaves the network `k3d-NAME` and the volume `k3d-NAME-images` behind when a create's rollback fails
   * (no container existed yet) or a create is killed, and `k3d cluster delete` only finds containers; each
   * leaked bridge network holds one of Docker's ~30 address pools. Removes both; one already gone is fine.
   */
  async function removeNetworkAndVolume(clusterName: string): Promise<boolean> {
    const removed = [
      await removeDockerObject(clusterName, 'network', `k3d-${clusterName}`),
      await removeDockerObject(clusterName, 'volume', `k3d-${clusterName}-images`),
    ];
    return removed.every(Boolean);
  }

  async function removeDockerObject(clusterName: string, kind: DockerObjectKind, name: string) {
    try {
      await run(dockerBin, [kind, 'rm', name], { timeoutMs: COMMAND_TIMEOUT_MS });
      return true;
    } catch (error) {
      if (error instanceof CommandError && DOCKER_NOT_FOUND.test(error.stderr)) return true;
      const detail = error instanceof CommandError ? error.stderrTail : '';
      logger.warn(
        { cluster: clusterName, [kind]: name, err: (error as Error).message, detail },
        `removing the Docker ${kind} of a deleted cluster failed; the reconciler tries again`,
      );
      options.onLeftoverFailure?.(kind);
      return false;
    }
  }

  /** Names of the networks or volumes labelled app=k3d (k3d labels both so; k3d-cli.md §6). */
  async function dockerNames(kind: DockerObjectKind): Promise<string[]> {
    try {
      const args = [kind, 'ls', '--filter', 'label=app=k3d', '--format', '{{.Name}}'];
      const { stdout } = await run(dockerBin, args, { timeoutMs: COMMAND_TIMEOUT_MS });
      return stdout
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
    } catch (error) {
      const detail = error instanceof CommandError ? error.stderrTail : '';
      throw new ClusterError(`listing Docker ${kind}s failed: ${(error as Error).message}`, detail);
    }
  }

  return {
    async create(spec: CreateClusterSpec) {
      assertOurs(spec.clusterName);
      // k3d applies --timeout to each of its three phases, so give each a third and keep the whole
      // create inside SANDBOX_CREATE_TIMEOUT with the runner's kill as the backstop (k3d-cli.md §1.3).
      const phaseSeconds = Math.max(10, Math.floor(createTimeoutMs / 3000));
      const args = [
        'cluster',
        'create',
        spec.clusterName,
        '--servers',
        String(spec.servers),
        '--agents',
        String(spec.agents),
        '--api-port',
        `${apiHost}:${spec.apiPort}`,
        '--kubeconfig-update-default=false',
        '--kubeconfig-switch-context=false',
        '--timeout',
        `${phaseSeconds}s`,
        '--wait',
        // On every node, the load balancer too: a create cut short leaves some of them.
        '--runtime-label',
        `${OWNER_LABEL}=${prefix}@all`,
      ];
      return perName.run(spec.clusterName, async () => {
        try {
          await k3d(args, createTimeoutMs);
        } catch (error) {
          throw toClusterError(error, `creating ${spec.clusterName} failed`);
        }
      });
    },

    async kubeconfig(clusterName) {
      assertOurs(clusterName);
      return perName.run(clusterName, async () => {
        let stdout: string;
        try {
          ({ stdout } = await k3d(['kubeconfig', 'get', clusterName]));
        } catch (error) {
          throw toClusterError(error, `reading the kubeconfig of ${clusterName} failed`, true);
        }
        const kubeconfig = parseKubeconfig(stdout);
        // Never include stdout in this error: it may be most of a kubeconfig.
        if (!kubeconfig) throw new ClusterError(`k3d printed no kubeconfig for ${clusterName}`, '');
        return kubeconfig;
      });
    },

    async delete(clusterName) {
      assertOurs(clusterName);
      return perName.run(clusterName, async () => {
        let stderr = '';
        try {
          ({ stderr } = await k3d(['cluster', 'delete', clusterName]));
        } catch (error) {
          throw toClusterError(error, `deleting ${clusterName} failed`);
        }
        // k3d exits 0 even when Docker is down or a container would not go (k3d-cli.md §5): confirm.
        const still = (await list()).some((c) => c.name === clusterName);
        if (still) {
          throw new ClusterError(
            `deleting ${clusterName} failed: k3d reported success but the cluster is still there`,
            outputTail(stderr),
          );
        }
        // The cluster is gone, so the delete succeeded whatever happens here; a failure is logged and counted.
        await removeNetworkAndVolume(clusterName);
      });
    },

    list,

    async leftovers() {
      const names = new Set<string>();
      for (const network of await dockerNames('network')) {
        const cluster = /^k3d-(.+)$/.exec(network)?.[1];
        if (cluster) names.add(cluster);
      }
      for (const volume of await dockerNames('volume')) {
        const cluster = /^k3d-(.+)-images$/.exec(volume)?.[1];
        if (cluster) names.add(cluster);
      }
      return [...names].sort();
    },

    async removeLeftovers(clusterName) {
      assertOurs(clusterName);
      // Serialised with a create of the same name; Docker refuses to remove what running containers use.
      return perName.run(clusterName, () => removeNetworkAndVolume(clusterName));
    },
  };
}
