/**
 * Benchmark 4: memory. RSS of the bot idle (after start and a GC), then while 1,000 sandboxes go through their
 * whole life in batches of 100 (`/sandbox create`, Approve, create, ready with the kubeconfig DM, Destroy,
 * destroyed), all through the Slack door over HTTP with signed requests. After each batch: wait until every
 * notification is out, GC, sample. Target: idle below 150 MB, and no growth trend (the slope is reported).
 *
 * The measured process runs bench/lib/memory-app.ts compiled with src/ to JavaScript, with plain node, as
 * `npm start` runs the bot: tsx alone adds some 40 MB of RSS (its loader thread and transpile cache), which is
 * shown apart. The fake Slack runs in its own process, so its journal does not count. Clusters are kept in
 * memory rather than made by the fake k3d executable: 4,000 Node start-ups (create, kubeconfig, delete, list
 * per sandbox, ~100 ms of CPU each) would dominate the run and allocate nothing in the measured process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { SandboxStatus } from '../src/core/sandbox.js';
import {
  botSlackEnv,
  type Forked,
  forkModule,
  type RemoteFakeSlack,
  startRemoteFakeSlack,
} from './lib/children.js';
import { compileForBench } from './lib/compile.js';
import { report, round } from './lib/report.js';
import { buttonClick, postSigned, slashCommand } from './lib/slack-requests.js';

const SANDBOXES = 1000;
const BATCH = 100;
const CLIENTS = 10;
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type MemoryUsage = ReturnType<typeof process.memoryUsage>;
type Bot = Forked<{ port: number }> & { appUrl: string; dataDir: string };

/** The measured bot in a child process: compiled JavaScript on plain node, or the TypeScript through tsx. */
async function startBot(slack: RemoteFakeSlack, how: 'compiled' | 'tsx', compiled: string): Promise<Bot> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-memory-'));
  const env = {
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    KUBECTL_BIN: path.join(dataDir, 'no-kubectl'),
    K3D_BIN: path.join(dataDir, 'no-k3d'),
    DOCKER_BIN: path.join(dataDir, 'no-docker'),
    SANDBOX_AUTO_SMOKE_TEST: 'false',
    SANDBOX_PROVISION_CONCURRENCY: '8',
    SANDBOX_MAX_PER_USER: String(SANDBOXES),
    SANDBOX_MAX_TOTAL: String(SANDBOXES * 10),
    ...botSlackEnv(slack, BOB),
  };
  const forked =
    how === 'compiled'
      ? await forkModule<{ port: number }>(compiled, { env, execArgv: ['--expose-gc'] })
      : await forkModule<{ port: number }>(path.join(ROOT, 'bench', 'lib', 'memory-app.ts'), {
          env,
          execArgv: ['--expose-gc', '--import', 'tsx'],
        });
  return { ...forked, appUrl: `http://127.0.0.1:${forked.first.port}/slack/events`, dataDir };
}

const compiled = path.join(compileForBench(['bench/lib/memory-app.ts']), 'bench', 'lib', 'memory-app.js');
const slack = await startRemoteFakeSlack();
const responseUrl = (i: number) => slack.responseUrls[i % slack.responseUrls.length] as string;
let bot: Bot | undefined;

/** Sends one signed request per item, `CLIENTS` at a time. */
async function send(items: string[], body: (item: string, i: number) => string): Promise<void> {
  let next = 0;
  const client = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const status = await postSigned(bot?.appUrl ?? '', slack.signingSecret, body(items[i] as string, i));
      if (status !== 200) throw new Error(`a request answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
}

async function allIn(names: string[], status: SandboxStatus): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const sandboxes = await (bot as Bot).ask<({ id: string; status: SandboxStatus } | undefined)[]>(
      'statuses',
      {
        names,
      },
    );
    if (sandboxes.every((s) => s?.status === status)) return sandboxes.map((s) => s?.id ?? '');
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${names.length} sandboxes to be ${status}`);
    await sleep(20);
  }
}

/** Memory of the bot once everything started has finished (listeners, Slack calls, provisioner), after GC. */
async function sample(of: Bot, sandboxes: number, seconds: number) {
  const m = await of.ask<MemoryUsage>('sample');
  return {
    sandboxes,
    'RSS MB': round(m.rss / 2 ** 20, 1),
    'heap used MB': round(m.heapUsed / 2 ** 20, 1),
    'heap total MB': round(m.heapTotal / 2 ** 20, 1),
    'external MB': round(m.external / 2 ** 20, 1),
    'batch s': round(seconds, 1),
  };
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxy / sxx;
}

const rows: Record<string, string | number>[] = [];
let tsxIdle: Record<string, string | number> | undefined;
try {
  // For comparison: the same bot started through tsx (as `npm run dev` and the tests run it), idle only.
  bot = await startBot(slack, 'tsx', compiled);
  await sleep(500);
  tsxIdle = await sample(bot, 0, 0);
  await bot.stop();
  await rm(bot.dataDir, { recursive: true, force: true });

  bot = await startBot(slack, 'compiled', compiled);
  await sleep(500);
  rows.push(await sample(bot, 0, 0));
  for (let done = 0; done < SANDBOXES; done += BATCH) {
    const started = performance.now();
    const names = Array.from({ length: BATCH }, (_, i) => `mem-${done + i}`);
    await send(names, (name, i) => slashCommand(ALICE, `create ${name}`, responseUrl(i)));
    const ids = await allIn(names, 'PENDING_APPROVAL');
    await send(ids, (id, i) => buttonClick(BOB, 'approve_request', id, responseUrl(i)));
    await allIn(names, 'ACTIVE');
    await send(ids, (id, i) => buttonClick(ALICE, 'destroy_sandbox', id, responseUrl(i)));
    await allIn(names, 'DESTROYED');
    rows.push(await sample(bot, done + BATCH, (performance.now() - started) / 1000));
  }
  const stats = await slack.stats();
  // The first batch runs code paths the idle bot never ran (loading, compiling); the trend is read after it.
  const steady = rows.slice(2);
  const perHundred = (key: string) =>
    round(slope(steady.map((r) => ({ x: Number(r.sandboxes) / 100, y: Number(r[key]) }))), 2);
  report('memory', rows, {
    command: 'npm run bench memory',
    target: 'idle RSS below 150 MB; no growth trend over 1,000 sandbox lives',
    idleRssMb: rows[0]?.['RSS MB'],
    idleUnderTsx: tsxIdle,
    slopeFrom200: {
      'RSS MB per 100 sandboxes': perHundred('RSS MB'),
      'heap used MB per 100 sandboxes': perHundred('heap used MB'),
    },
    setup:
      'bot = bench/lib/memory-app.ts compiled to JS, plain node --expose-gc; clusters in memory; fake Slack in its own process; Slack door over HTTP',
    slackCalls: stats.byMethod,
    slackCallsFailed: stats.failed.length,
  });
  console.log(
    `idle under tsx: RSS ${tsxIdle['RSS MB']} MB, heap ${tsxIdle['heap used MB']} MB (not in the table: tsx's own cost)`,
  );
  console.log(
    `slope from 200 sandboxes on: RSS ${perHundred('RSS MB')} MB, heap ${perHundred('heap used MB')} MB per 100 sandboxes`,
  );
} finally {
  await bot?.stop();
  await slack.stop();
  if (bot) await rm(bot.dataDir, { recursive: true, force: true });
}
