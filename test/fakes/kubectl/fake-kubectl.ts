// Typed handle on the fake `kubectl` (fake-kubectl.mjs) for tests: where the executable is, the environment
// that points it at a state directory, and readers/writers for what it records and how it misbehaves.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Operation names the knobs understand (`version` cannot be made to fail or hang). */
export const KUBECTL_OPS = [
  'nodes',
  'dns',
  'create-ns',
  'apply',
  'rollout',
  'wait',
  'raw',
  'delete-ns',
] as const;
export type KubectlOp = (typeof KUBECTL_OPS)[number];

/** Misbehaviour switches; same names as the environment variables the executable also reads. */
export interface KubectlKnobs {
  /** These operations fail with a realistic kubectl error and exit 1. */
  FAKE_KUBECTL_FAIL: readonly KubectlOp[];
  /** These operations never finish: the caller's timeout has to kill them. */
  FAKE_KUBECTL_HANG: readonly KubectlOp[];
  /** The last N listed nodes (in creation order: agents, then servers) report Ready=False. */
  FAKE_KUBECTL_NOT_READY_NODES: number;
  /** N nodes fewer than servers + agents are listed (the last ones created). */
  FAKE_KUBECTL_MISSING_NODES: number;
  /** Every invocation sleeps this long first. */
  FAKE_KUBECTL_DELAY_MS: number;
}

/** One line of `kubectl-calls.jsonl`. */
export interface KubectlCall {
  argv: string[];
  /** The operation the fake recognised, `version`, or null for a call it rejected. */
  op: KubectlOp | 'version' | null;
  start: string;
  /** Null when the call hung (it is logged before hanging, because it gets killed). */
  end: string | null;
  exitCode: number | null;
  /** The kubeconfig file kubectl would have loaded, or null when there was none. */
  kubeconfig: string | null;
  /** Whether that file's permission bits were exactly 0600; null when it did not exist. */
  kubeconfigMode0600: boolean | null;
  hung?: true;
}

export interface FakeKubectl {
  /** Absolute path of the `kubectl` executable. */
  readonly binPath: string;
  /** FAKE_K3D_STATE_DIR and a PATH that finds the fake first; merge into the bot's command environment. */
  readonly env: Readonly<Record<string, string>>;
  calls(): KubectlCall[];
  /** Namespaces that currently exist in the cluster besides default, kube-system, kube-public, kube-node-lease. */
  namespaces(cluster: string): string[];
  /** Merges into `<stateDir>/kubectl-knobs.json`, which overrides the environment on every invocation. */
  setKnobs(partial: Partial<KubectlKnobs>): void;
  /** Removes what the fake kubectl wrote (the state dir itself belongs to the fake k3d as well). */
  cleanup(): void;
}

const DEFAULT_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const binDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin');

export function createFakeKubectl(options: { stateDir: string }): FakeKubectl {
  const stateDir = path.resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const callsFile = path.join(stateDir, 'kubectl-calls.jsonl');
  const knobsFile = path.join(stateDir, 'kubectl-knobs.json');
  const readOr = <T>(file: string, parse: (text: string) => T, fallback: T): T => {
    try {
      return parse(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
      throw err;
    }
  };

  return {
    binPath: path.join(binDir, 'kubectl'),
    env: {
      FAKE_K3D_STATE_DIR: stateDir,
      PATH: [binDir, process.env.PATH].filter(Boolean).join(path.delimiter),
    },
    calls: () =>
      readOr(
        callsFile,
        (text) =>
          text
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as KubectlCall),
        [],
      ),
    namespaces: (cluster) => listNamespaces(path.join(stateDir, 'kubectl', cluster)),
    setKnobs: (partial) => {
      const current = readOr(knobsFile, (text) => JSON.parse(text) as Partial<KubectlKnobs>, {});
      // Write-then-rename: a fake kubectl running right now reads either the old or the new knobs.
      const tmp = `${knobsFile}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ ...current, ...partial }, null, 2)}\n`);
      renameSync(tmp, knobsFile);
    },
    cleanup: () => {
      for (const p of [callsFile, knobsFile, path.join(stateDir, 'kubectl')]) {
        rmSync(p, { recursive: true, force: true });
      }
    },
  };
}

function listNamespaces(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .filter((ns) => !DEFAULT_NAMESPACES.has(ns))
    .sort();
}
