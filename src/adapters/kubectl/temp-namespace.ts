import { randomBytes } from 'node:crypto';
import type { SuiteRun } from './suite-run.js';

/** `sbx-<suite>-<random>`: recognisably ours, unique per run, and a valid RFC 1123 label. */
export function tempNamespaceName(suite: string): string {
  const slug =
    suite
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, 40)
      .replace(/^-+|-+$/g, '') || 'suite';
  return `sbx-${slug}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates `namespace`, runs `body` in it, then deletes it whatever happened: the deletion is a step of its own
 * (so a leftover namespace shows in the result) and runs even when the bot is shutting down. `--wait=false`
 * because the test's verdict does not depend on how long the namespace takes to drain.
 */
export async function inTempNamespace(
  run: SuiteRun,
  namespace: string,
  timeoutMs: number,
  body: () => Promise<void>,
): Promise<void> {
  if (run.stopping) return;
  try {
    const created = await run.step(`create namespace ${namespace}`, timeoutMs, (step) =>
      step.kubectl(['create', 'namespace', namespace]),
    );
    if (created) await body();
  } finally {
    await run.step(
      `delete namespace ${namespace}`,
      timeoutMs,
      (step) => step.kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']),
      { cleanup: true },
    );
  }
}
