/**
 * Benchmark 2: what the bot adds to provisioning. The real app (in this process) with its Slack door over HTTP
 * against the fake Slack, and the fake k3d executable:
 * - overhead: from the Approve click to the kubeconfig DM (files.completeUploadExternal at the fake Slack),
 *   minus what k3d took: every k3d process from spawn to exit, as the bot itself times them for the
 *   `sandbox_command_duration_seconds` histogram (so the fake's Node start-up counts as k3d's, as a real
 *   k3d's own work would). Over 50 sandboxes approved one at a time. Target: p50 below 50 ms.
 * - scaling: 20 approvals at SANDBOX_PROVISION_CONCURRENCY 1, 2 and 4 with a fixed k3d create time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createFakeK3d, type FakeK3d, type FakeK3dKnobs } from '../test/fakes/k3d/fake-k3d.js';
import { type FakeSlack, startFakeSlack } from '../test/fakes/slack/fake-slack.js';
import { createSlackDriver } from '../test/fakes/slack/slack-driver.js';
import { percentile, report, round } from './lib/report.js';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const APPROVALS = 'C0APPROVALS';
const OVERHEAD_SANDBOXES = 50;
const OVERHEAD_WARM_UP = 3;
const OVERHEAD_DELAY_MS = 50;
const SCALING_SANDBOXES = 20;
const SCALING_DELAY_MS = 1000;

async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The whole bot with its Slack door, a fresh fake Slack, a fresh fake k3d and a fresh DATA_DIR. */
async function startBench(concurrency: number, knobs: FakeK3dKnobs) {
  const k3d = createFakeK3d({ knobs });
  Object.assign(process.env, k3d.env); // execa passes the environment on to k3d
  const slack = await startFakeSlack();
  for (const id of [ALICE, BOB]) slack.addUser({ id, name: id.slice(2).toLowerCase() });
  for (const [id, name] of [
    [APPROVALS, 'sandbox-approvals'],
    ['C0GENERAL', 'general'],
  ]) {
    slack.addChannel({ id: id as string, name: name as string });
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-provision-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    K3D_BIN: k3d.binPath,
    DOCKER_BIN: k3d.dockerBinPath,
    KUBECTL_BIN: path.join(dataDir, 'no-kubectl'),
    SANDBOX_AUTO_SMOKE_TEST: 'false',
    SANDBOX_PROVISION_CONCURRENCY: String(concurrency),
    SANDBOX_MAX_PER_USER: '100',
    SANDBOX_MAX_TOTAL: '1000',
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_APPROVERS_CHANNEL: APPROVALS,
    SLACK_APPROVERS: BOB,
  });
  const app = buildApp(config);
  const { port } = await app.start();
  const driver = createSlackDriver({ appUrl: `http://127.0.0.1:${port}/slack/events`, fake: slack });

  return {
    app,
    k3d,
    slack,
    /** `/sandbox create <name>` by alice; resolves with the approval message's ts once it is posted. */
    async request(name: string): Promise<string> {
      const answer = await driver.command(ALICE, `create ${name}`);
      if (answer.status !== 200) throw new Error(`create ${name} answered ${answer.status}`);
      return waitFor(
        () => app.service.getByName(name)?.approvalMessage?.ts,
        `the approval message of ${name}`,
      );
    },
    /** Bob clicks Approve; resolves with Date.now() just before the click was sent. */
    async approve(messageTs: string): Promise<number> {
      const at = Date.now();
      const click = await driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs },
      });
      if (click.status !== 200) throw new Error(`the click answered ${click.status}`);
      return at;
    },
    async stop(): Promise<void> {
      await app.stop(5000);
      await slack.stop();
      k3d.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** When the fake Slack accepted the kubeconfig upload of `name` (files.completeUploadExternal). */
const uploadedAt = (slack: FakeSlack, name: string) =>
  slack
    .callsTo('files.completeUploadExternal')
    .find((c) => c.response?.ok === true && JSON.stringify(c.args.files).includes(`kubeconfig-${name}.yaml`))
    ?.at;

function k3dCall(k3d: FakeK3d, command: string, cluster: string) {
  const call = k3d.calls().find((c) => c.command === command && c.argv[2] === cluster);
  if (call?.end === undefined) throw new Error(`no finished ${command} of ${cluster}`);
  return { start: call.start, end: call.end };
}

/** Milliseconds the bot has spent waiting on k3d processes so far (spawn to exit, every command). */
async function k3dMsSoFar(app: ReturnType<typeof buildApp>): Promise<number> {
  const metric = await app.metrics.registry.getSingleMetric('sandbox_command_duration_seconds')?.get();
  // A histogram's values are its buckets, count and sum, each named (prom-client's types leave the name out).
  const sums = (metric?.values ?? []).filter(
    (v) =>
      (v as { metricName?: string }).metricName === 'sandbox_command_duration_seconds_sum' &&
      v.labels.bin === 'k3d',
  );
  return 1000 * sums.reduce((total, v) => total + v.value, 0);
}

// ---- overhead over 50 sandboxes approved one at a time -------------------------------------------------
const rows: Record<string, string | number>[] = [];
const overhead = await startBench(4, { FAKE_K3D_DELAY_MS: OVERHEAD_DELAY_MS });
const samples: Record<string, number>[] = [];
try {
  for (let i = 0; i < OVERHEAD_WARM_UP + OVERHEAD_SANDBOXES; i++) {
    const name = `ov-${i}`;
    const cluster = `sbx-${name}`;
    const ts = await overhead.request(name);
    const k3dBefore = await k3dMsSoFar(overhead.app);
    const clicked = await overhead.approve(ts);
    const delivered = await waitFor(() => uploadedAt(overhead.slack, name), `the kubeconfig of ${name}`);
    const k3dMs = (await k3dMsSoFar(overhead.app)) - k3dBefore;
    if (i < OVERHEAD_WARM_UP) continue;
    const create = k3dCall(overhead.k3d, 'cluster create', cluster);
    const kubeconfig = k3dCall(overhead.k3d, 'kubeconfig get', cluster);
    const sandbox = overhead.app.service.getByName(name);
    const audit = new Map(
      overhead.app.store.listAudit({ sandboxId: sandbox?.id ?? '', limit: 50 }).map((e) => [e.action, e.at]),
    );
    const at = (action: string) => audit.get(action) ?? Number.NaN;
    const selfReported = create.end - create.start + (kubeconfig.end - kubeconfig.start);
    samples.push({
      total: delivered - clicked,
      'k3d processes, spawn to exit': k3dMs,
      overhead: delivered - clicked - k3dMs,
      'of k3d: what the fake reported for itself': selfReported,
      "of k3d: the fake's Node start-up and exit": k3dMs - selfReported,
      'click → approved': at('approved') - clicked,
      'approved → k3d create running': create.start - at('approved'),
      'create exit → kubeconfig get running': kubeconfig.start - create.end,
      'kubeconfig exit → ACTIVE': at('ready') - kubeconfig.end,
      'ACTIVE → kubeconfig DM': delivered - at('ready'),
    });
  }
} finally {
  await overhead.stop();
}
const stat = (key: string) => {
  const sorted = samples.map((s) => s[key] as number).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
};
for (const key of Object.keys(samples[0] ?? {})) {
  const s = stat(key);
  rows.push({
    measure: key,
    sandboxes: samples.length,
    'p50 ms': round(s.p50),
    'p99 ms': round(s.p99),
    'max ms': round(s.max),
  });
}

// ---- 20 approvals at provisioning concurrency 1, 2 and 4 ------------------------------------------------
const scaling: Record<string, string | number>[] = [];
let baseline = 0;
for (const concurrency of [1, 2, 4]) {
  const bench = await startBench(concurrency, { FAKE_K3D_DELAY_MS: SCALING_DELAY_MS });
  try {
    const names = Array.from({ length: SCALING_SANDBOXES }, (_, i) => `sc-${concurrency}-${i}`);
    const messages = [];
    for (const name of names) messages.push(await bench.request(name));
    const started = Date.now();
    for (const ts of messages) await bench.approve(ts);
    const done = await waitFor(
      () => {
        const times = names.map((name) => uploadedAt(bench.slack, name));
        return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
      },
      'every kubeconfig',
      120_000,
    );
    const totalMs = done - started;
    if (concurrency === 1) baseline = totalMs;
    scaling.push({
      concurrency,
      approvals: SCALING_SANDBOXES,
      'k3d create ms': SCALING_DELAY_MS,
      'total s': round(totalMs / 1000),
      'ideal s': round((Math.ceil(SCALING_SANDBOXES / concurrency) * baseline) / SCALING_SANDBOXES / 1000),
      'speed-up vs 1': round(baseline / totalMs),
      'max creates at once': bench.k3d.maxConcurrent('create'),
    });
  } finally {
    await bench.stop();
  }
}

console.log('\n20 approvals at SANDBOX_PROVISION_CONCURRENCY 1, 2 and 4:');
console.table(scaling);
report('provisioning-overhead', rows, {
  command: 'npm run bench provisioning-overhead',
  target: 'overhead (click to kubeconfig DM minus k3d) p50 below 50 ms; total time scales with concurrency',
  fakeK3dCreateMs: OVERHEAD_DELAY_MS,
  scaling,
});
