import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { kubectlTimeout, type SuiteRun } from './suite-run.js';
import { inTempNamespace, tempNamespaceName } from './temp-namespace.js';

/** A suite name is also a folder name and a word in a slash command, so it stays plain. */
export const SUITE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** What kubectl applies from a folder without -R: its own .yaml, .yml and .json files. */
const isManifest = (file: string) => /\.(ya?ml|json)$/.test(file);

export interface CustomSuiteOptions {
  stepTimeoutMs: number;
  /** For each `kubectl wait`. */
  waitTimeoutMs: number;
}

const isDirectory = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const hasManifests = (dir: string) => {
  try {
    return readdirSync(dir).some(isManifest);
  } catch {
    return false;
  }
};

/**
 * The custom suites under `suitesDir`: sub-folders with a safe name that hold at least one manifest, sorted.
 * `skip` receives each folder that is left out and why, so the operator can be told once.
 */
export function listCustomSuites(suitesDir: string, skip: (folder: string, why: string) => void): string[] {
  let entries: string[];
  try {
    entries = readdirSync(suitesDir);
  } catch (error) {
    skip(suitesDir, `cannot be read: ${(error as Error).message}`);
    return [];
  }
  return entries
    .filter((name) => !name.startsWith('.') && isDirectory(path.join(suitesDir, name)))
    .filter((name) => {
      if (!SUITE_NAME.test(name)) {
        skip(name, 'is not a usable suite name (letters, digits, ".", "_" and "-" only)');
        return false;
      }
      if (!hasManifests(path.join(suitesDir, name))) {
        skip(name, 'holds no readable .yaml, .yml or .json manifest');
        return false;
      }
      return true;
    })
    .sort();
}

/**
 * The kinds of object a folder's manifests create, read from their top-level `kind:` lines (and `"kind"` keys
 * in JSON), so the suite waits only for what is there: `kubectl wait --all` fails when nothing matches.
 */
async function manifestKinds(folder: string): Promise<Set<string>> {
  const kinds = new Set<string>();
  for (const file of readdirSync(folder).filter(isManifest)) {
    const text = await readFile(path.join(folder, file), 'utf8');
    const pattern = file.endsWith('.json') ? /"kind"\s*:\s*"(\w+)"/g : /^kind:\s*["']?(\w+)/gm;
    for (const [, kind] of text.matchAll(pattern)) if (kind) kinds.add(kind);
  }
  return kinds;
}

/**
 * A custom suite: the folder's manifests applied into a temporary namespace, then waited on until every
 * Deployment is Available and every Job Complete, then the namespace deleted.
 */
export async function runCustomSuite(
  run: SuiteRun,
  suite: string,
  folder: string,
  options: CustomSuiteOptions,
): Promise<void> {
  const { stepTimeoutMs, waitTimeoutMs } = options;
  const ns = tempNamespaceName(suite);
  await inTempNamespace(run, ns, stepTimeoutMs, async () => {
    let kinds = new Set<string>();
    const applied = await run.step(`apply ${suite}/`, stepTimeoutMs, async (step) => {
      kinds = await manifestKinds(folder);
      await step.kubectl(['apply', '-n', ns, '-f', folder]);
    });
    if (!applied) return;
    const waits = [
      { kind: 'Deployment', resource: 'deployment', condition: 'Available', name: 'deployments Available' },
      { kind: 'Job', resource: 'job', condition: 'Complete', name: 'jobs Complete' },
    ].filter((w) => kinds.has(w.kind));
    for (const wait of waits) {
      await run.step(wait.name, waitTimeoutMs, (step) =>
        step.kubectl([
          'wait',
          wait.resource,
          `--for=condition=${wait.condition}`,
          '--all',
          '-n',
          ns,
          `--timeout=${kubectlTimeout(step.timeoutMs)}`,
        ]),
      );
    }
  });
}
