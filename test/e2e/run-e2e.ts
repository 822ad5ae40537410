/**
 * Opt-in end-to-end run against a real Docker engine, k3d and kubectl (`npm run test:e2e`).
 * Where any of them is missing it says what is missing and exits 0 WITHOUT claiming a pass.
 * It creates clusters named `sbxe2e-…` only, and deletes every one of them at the end, even on failure.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OWNER_LABEL } from '../../src/adapters/k3d/k3d-output.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Actor } from '../../src/core/policy.js';
import { startFakeSlack } from '../fakes/slack/fake-slack.js';
import { createSlackDriver } from '../fakes/slack/slack-driver.js';

const PREFIX = 'sbxe2e-';
const OWNER = 'U0E2EOWNER';
const APPROVER = 'U0E2EAPPROVER';
const APPROVALS = 'C0E2EAPPROVALS';
const requester: Actor = { id: OWNER, isApprover: false, isAdmin: false };

function missingTools(): string[] {
  const checks: [string, string[]][] = [
    ['docker', ['info', '--format', '{{.ServerVersion}}']],
    ['k3d', ['version']],
    ['kubectl', ['version', '--client', '-o', 'json']],
  ];
  return checks.flatMap(([bin, args]) => {
    try {
      execFileSync(bin, args, { stdio: 'ignore', timeout: 20_000 });
      return [];
    } catch {
      return [bin === 'docker' ? 'a running Docker engine (docker info failed)' : `${bin} on the PATH`];
    }
  });
}

function ourClusters(): string[] {
  const out = execFileSync('k3d', ['cluster', 'list', '-o', 'json'], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return (JSON.parse(out.toString()) as { name: string }[])
    .map((c) => c.name)
    .filter((n) => n.startsWith(PREFIX));
}

/** Docker networks and volumes k3d made for our clusters (`k3d-sbxe2e-…`, `k3d-sbxe2e-…-images`). */
function ourDockerObjects(kind: 'network' | 'volume'): string[] {
  const out = execFileSync('docker', [kind, 'ls', '--filter', 'label=app=k3d', '--format', '{{.Name}}']);
  return out
    .toString()
    .split('\n')
    .filter((n) => n.startsWith(`k3d-${PREFIX}`));
}

interface Ours {
  kind: 'cluster' | 'network' | 'volume';
  name: string;
}

/** Every cluster, network and volume of ours, clusters first (their containers hold the network and volume). */
function ours(): Ours[] {
  return [
    ...ourClusters().map((name) => ({ kind: 'cluster' as const, name })),
    ...(['network', 'volume'] as const).flatMap((kind) =>
      ourDockerObjects(kind).map((name) => ({ kind, name })),
    ),
  ];
}

/**
 * Deletes everything of ours, each on its own so that one failure does not skip the rest, and checks with a
 * re-list (k3d exits 0 even when a delete failed). Returns what is left, or why it could not be listed.
 */
async function removeEverythingOurs(): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    let found: Ours[] | undefined;
    let listError = '';
    try {
      found = ours();
    } catch (error) {
      listError = (error as Error).message;
    }
    if (found?.length === 0) return [];
    if (attempt === 3)
      return found?.map(({ kind, name }) => `${kind} ${name}`) ?? [`(they cannot be listed: ${listError})`];
    for (const { kind, name } of found ?? []) {
      try {
        if (kind === 'cluster') execFileSync('k3d', ['cluster', 'delete', name], { stdio: 'ignore' });
        else execFileSync('docker', [kind, 'rm', name], { stdio: 'ignore' });
      } catch {
        // the next list tells whether it is gone
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing.length > 0) {
    console.log(`e2e SKIPPED — not run, not passed. Missing: ${missing.join('; ')}.`);
    return 0;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sandbox-e2e-'));
  // Slack is the local fake (there is no Slack here either); Docker, k3d and kubectl are real.
  const slack = await startFakeSlack();
  slack.addUser({ id: OWNER, name: 'owner' });
  slack.addUser({ id: APPROVER, name: 'approver' });
  slack.addChannel({ id: APPROVALS, name: 'approvals', members: ['U0BOT', OWNER, APPROVER] });
  let failure: string | undefined;
  let stopApp: (() => Promise<unknown>) | undefined;
  try {
    const app = buildApp(
      loadConfig({
        DATA_DIR: dataDir,
        PORT: '0',
        SANDBOX_CLUSTER_PREFIX: PREFIX,
        SANDBOX_API_PORT_RANGE: '6950-6990',
        SANDBOX_AUTO_SMOKE_TEST: 'false',
        SANDBOX_CREATE_TIMEOUT: '6m',
        LOG_LEVEL: 'warn',
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: slack.signingSecret,
        SLACK_API_URL: slack.apiUrl,
        SLACK_APPROVERS_CHANNEL: APPROVALS,
        SLACK_APPROVERS: APPROVER,
      }),
    );
    stopApp = () => app.stop(60_000);
    const { port } = await app.start();
    const driver = createSlackDriver({ appUrl: `http://127.0.0.1:${port}/slack/events`, fake: slack });
    console.log('1. request in Slack and approval by an approver');
    await driver.command(OWNER, 'create flow --agents 1 --ttl 30m');
    await waitFor(
      () => Boolean(app.service.getByName('flow')?.approvalMessage),
      'the approval message',
      30_000,
    );
    const s = app.service.getByName('flow');
    assert.ok(s?.approvalMessage);
    await driver.clickButton(APPROVER, {
      actionId: 'approve_request',
      container: { type: 'message', channelId: APPROVALS, messageTs: s.approvalMessage.ts },
    });

    console.log('2. real k3d cluster create (this takes a minute)');
    await waitFor(
      () => ['ACTIVE', 'FAILED'].includes(app.store.get(s.id)?.status ?? ''),
      'ACTIVE',
      8 * 60_000,
    );
    assert.equal(app.store.get(s.id)?.status, 'ACTIVE', app.store.get(s.id)?.failureReason ?? '');

    console.log("3. kubeconfig, delivered as a file in the owner's DM");
    const kubeconfig = app.service.kubeconfig(requester, s.id);
    assert.match(kubeconfig, /server: https:\/\/127\.0\.0\.1:69\d\d/);
    await waitFor(
      () => [...slack.files().values()].some((f) => f.text === kubeconfig),
      'the kubeconfig DM',
      30_000,
    );

    console.log('4. smoke suite against the real cluster');
    const result = await app.tests.run(requester, s.id, 'smoke');
    for (const step of result.steps)
      console.log(`   ${step.passed ? 'ok  ' : 'FAIL'} ${step.name} (${step.durationMs} ms)`);
    assert.ok(result.passed, 'the smoke suite failed');

    console.log('5. extend');
    const before = app.store.get(s.id)?.expiresAt ?? 0;
    assert.equal(app.service.extend(requester, s.id, 15 * 60_000).expiresAt, before + 15 * 60_000);

    console.log('6. destroy');
    app.service.destroy(requester, s.id); // the Slack confirmation button ends in this same call
    await waitFor(() => app.store.get(s.id)?.status === 'DESTROYED', 'DESTROYED', 3 * 60_000);
    assert.ok(!ourClusters().includes(`${PREFIX}flow`));
    assert.deepEqual([ourDockerObjects('network'), ourDockerObjects('volume')], [[], []], 'nothing left');

    console.log('7. orphan reconcile');
    // One the bot made (its label), and one made by hand with the prefix, which the bot must leave alone.
    const create = (name: string, ...flags: string[]) =>
      execFileSync(
        'k3d',
        ['cluster', 'create', name, '--kubeconfig-update-default=false', '--wait', ...flags],
        {
          stdio: 'ignore',
        },
      );
    create(`${PREFIX}orphan`, '--runtime-label', `${OWNER_LABEL}=${PREFIX}@all`);
    create(`${PREFIX}by-hand`);
    const report = await app.reconciler.run();
    assert.deepEqual(report.orphansDeleted, [`${PREFIX}orphan`]);
    assert.deepEqual(ourClusters(), [`${PREFIX}by-hand`], 'a cluster made by hand is left alone');
    assert.deepEqual(
      [ourDockerObjects('network'), ourDockerObjects('volume')],
      [[`k3d-${PREFIX}by-hand`], [`k3d-${PREFIX}by-hand-images`]],
      'nothing of the orphan left',
    );
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  await stopApp?.();
  await slack.stop();
  const left = await removeEverythingOurs();
  rmSync(dataDir, { recursive: true, force: true });
  if (left.length > 0) {
    console.error(
      `e2e cleanup could not remove: ${left.join(', ')}. Remove them by hand (k3d cluster delete, docker network rm, docker volume rm).`,
    );
  }
  if (failure !== undefined || left.length > 0) {
    console.error(`e2e FAILED: ${failure ?? 'it left clusters or Docker objects behind'}`);
    return 1;
  }
  console.log('e2e PASSED');
  return 0;
}

process.exitCode = await main();
