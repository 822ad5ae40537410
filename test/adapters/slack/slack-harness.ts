// The whole bot (loadConfig + buildApp + start, as main.ts does) with its Slack door in HTTP mode, wired to
// the fake Slack Web API and the fake k3d executable, plus a driver that signs requests like Slack does.
// Assertions poll the fake: Bolt answers at the ack and the listener carries on afterwards.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppOverrides, buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import type { TestResultSummary } from '../../../src/core/events.js';
import type { Logger, SmokeTester } from '../../../src/core/ports.js';
import type { Sandbox } from '../../../src/core/sandbox.js';
import { createFakeK3d } from '../../fakes/k3d/fake-k3d.js';
import {
  type FakeSlack,
  type FakeSlackOptions,
  type SlackMessage,
  startFakeSlack,
  waitUntil,
} from '../../fakes/slack/fake-slack.js';
import { createSlackDriver } from '../../fakes/slack/slack-driver.js';
import { silentLogger } from '../../helpers/core-fixture.js';

export const ALICE = 'U0ALICE'; // asks for sandboxes
export const BOB = 'U0BOB'; // approver (SLACK_APPROVERS)
export const CAROL = 'U0CAROL'; // approver through the user group
export const DAVE = 'U0DAVE'; // nobody special
export const ADMIN = 'U0ADMIN';
export const APPROVALS = 'C0APPROVALS';
export const AUDIT = 'C0AUDIT';
export const GENERAL = 'C0GENERAL';
export const APPROVER_GROUP = 'S0APPROVERS';

/** The bot scopes manifest.yml grants; the fake Slack answers `missing_scope` for any other method's scope. */
export function manifestBotScopes(): string[] {
  const manifest = readFileSync(new URL('../../../manifest.yml', import.meta.url), 'utf8');
  const list = /^ {4}bot:\n((?: {6}- .*\n)+)/m.exec(manifest)?.[1] ?? '';
  return [...list.matchAll(/- ([\w:.]+)/g)].map((m) => m[1] ?? '');
}

/**
 * A smoke tester that answers at once, or once `hold` settles; `fail` makes its second step fail with a
 * stderr tail.
 */
export class InstantSmokeTester implements SmokeTester {
  readonly runs: { sandboxId: string; suite: string }[] = [];
  fail = false;
  hold: Promise<void> | undefined;
  suites(): string[] {
    return ['smoke', 'nodes'];
  }
  async run({ sandbox, suite }: { sandbox: Sandbox; kubeconfig: string; suite: string }) {
    this.runs.push({ sandboxId: sandbox.id, suite });
    await this.hold;
    const now = Date.now();
    const result: TestResultSummary = {
      suite,
      passed: !this.fail,
      steps: [
        { name: 'nodes ready', passed: true, durationMs: 850 },
        this.fail
          ? {
              name: 'deploy nginx',
              passed: false,
              durationMs: 30_000,
              detail: 'error: timed out waiting for the condition on deployments/smoke',
            }
          : { name: 'deploy nginx', passed: true, durationMs: 4200 },
      ],
      startedAt: now,
      finishedAt: now + 5050,
    };
    return result;
  }
}

/** Logs to stderr when SLACK_TEST_LOGS=1, for debugging a failing test. */
const logger: Logger =
  process.env.SLACK_TEST_LOGS === '1'
    ? {
        debug() {},
        info: (o, m) => console.error('INFO', m, JSON.stringify(o)),
        warn: (o, m) => console.error('WARN', m, JSON.stringify(o)),
        error: (o, m) => console.error('ERROR', m, JSON.stringify(o)),
      }
    : silentLogger;

export interface HarnessOptions {
  env?: Record<string, string>;
  overrides?: AppOverrides;
  /** Runs after the fakes are seeded and before the app starts (e.g. to make auth.test fail). */
  beforeStart?: (fake: FakeSlack) => void;
  logger?: Logger;
  /** Socket Mode: whether to wait for the app to connect (default true; false when it is meant to fail). */
  awaitSocket?: boolean;
  /** The Enterprise Grid org the fake's workspace is in. */
  enterprise?: FakeSlackOptions['enterprise'];
}

export type SlackHarness = Awaited<ReturnType<typeof startSlackHarness>>;

export async function startSlackHarness(options: HarnessOptions = {}) {
  // The fake Slack first: the app authenticates against it at start.
  const fake = await startFakeSlack({ scopes: manifestBotScopes(), enterprise: options.enterprise });
  for (const [id, name] of [
    [ALICE, 'alice'],
    [BOB, 'bob'],
    [CAROL, 'carol'],
    [DAVE, 'dave'],
    [ADMIN, 'admin'],
  ] as const) {
    fake.addUser({ id, name });
  }
  const everyone = [ALICE, BOB, CAROL, DAVE, ADMIN];
  fake.addChannel({ id: APPROVALS, name: 'sandbox-approvals', members: ['U0BOT', BOB, CAROL, ALICE, DAVE] });
  fake.addChannel({ id: AUDIT, name: 'sandbox-audit', members: ['U0BOT', ADMIN] });
  // The bot is not a member of #general: answers there must go through response_url.
  fake.addChannel({ id: GENERAL, name: 'general', members: everyone });
  fake.addUsergroup(APPROVER_GROUP, [CAROL]);

  const k3d = createFakeK3d();
  // The bot runs k3d through execa, which passes the process environment on.
  Object.assign(process.env, k3d.env);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-bot-slack-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    K3D_BIN: k3d.binPath,
    DOCKER_BIN: k3d.dockerBinPath,
    KUBECTL_BIN: path.join(dataDir, 'no-kubectl-here'),
    SANDBOX_AUTO_SMOKE_TEST: 'false',
    SANDBOX_PROVISION_CONCURRENCY: '2',
    // A suite shares one bot and files many requests as alice within a minute.
    SANDBOX_MAX_REQUESTS_PER_HOUR: '1000',
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: fake.signingSecret,
    SLACK_API_URL: fake.apiUrl,
    SLACK_APPROVERS_CHANNEL: APPROVALS,
    SLACK_AUDIT_CHANNEL: AUDIT,
    SLACK_APPROVERS: BOB,
    SLACK_APPROVER_GROUP: APPROVER_GROUP,
    SLACK_ADMINS: ADMIN,
    ...options.env,
  });
  options.beforeStart?.(fake);
  const smokeTester = new InstantSmokeTester();
  const app = buildApp(config, {
    logger: options.logger ?? logger,
    smokeTester,
    destroyBackoffMs: 10,
    ...options.overrides,
  });
  const { port } = await app.start();
  const appUrl = `http://127.0.0.1:${port}/slack/events`;
  // With SLACK_APP_TOKEN the fake's requests go over Socket Mode, once the app has connected.
  const socketMode = app.slack?.mode === 'socket';
  if (socketMode && options.awaitSocket !== false) {
    await waitUntil(
      () => fake.socketModeConnections() > 0 || undefined,
      5000,
      () => 'the app to connect over Socket Mode',
    );
  }
  const driver = createSlackDriver({ appUrl, fake, socketMode });

  const harness = {
    fake,
    k3d,
    app,
    config,
    driver,
    smokeTester,
    port,
    appUrl,

    sandboxNamed(name: string): Sandbox {
      const sandbox = app.service.getByName(name);
      if (!sandbox) throw new Error(`no sandbox named ${name}`);
      return sandbox;
    },

    waitForStatus(name: string, status: Sandbox['status'], timeoutMs = 10_000): Promise<Sandbox> {
      return waitUntil(
        () => {
          const s = app.service.getByName(name);
          return s?.status === status ? s : undefined;
        },
        timeoutMs,
        () => `${name} to be ${status} (it is ${app.service.getByName(name)?.status ?? 'missing'})`,
      );
    },

    /** The "New sandbox" modal once it is open for `user`. */
    createModal(user: string) {
      return waitUntil(
        () => fake.openModals(user).find((v) => v.callback_id === 'create_sandbox'),
        5000,
        () => `the create modal of ${user}`,
      );
    },

    /** The approval message of a sandbox once it has been posted and stored. */
    async approvalMessage(name: string): Promise<SlackMessage> {
      const where = await waitUntil(
        () => app.service.getByName(name)?.approvalMessage ?? undefined,
        5000,
        () => `the approval message of ${name}`,
      );
      const message = fake.message(where.channel, where.ts);
      if (!message) throw new Error(`the fake has no message ${where.ts}`);
      return message;
    },

    /** Files a request as `user` through the slash command; returns the sandbox. */
    async request(user: string, text: string): Promise<Sandbox> {
      const result = await driver.command(user, text);
      if (result.status !== 200) throw new Error(`command answered ${result.status}`);
      const name = text.split(/\s+/)[1] ?? '';
      await waitUntil(
        () => app.service.getByName(name),
        5000,
        () => `a sandbox named ${name}`,
      );
      return harness.sandboxNamed(name);
    },

    /** Request + approve (by BOB's click) + wait until ACTIVE. */
    async activeSandbox(name: string, flags = ''): Promise<Sandbox> {
      await harness.request(ALICE, `create ${name} ${flags}`);
      const message = await harness.approvalMessage(name);
      await driver.clickButton(BOB, {
        actionId: 'approve_request',
        container: { type: 'message', channelId: APPROVALS, messageTs: message.ts },
      });
      return harness.waitForStatus(name, 'ACTIVE');
    },

    /** What `k3d kubeconfig get` prints for a cluster, straight from the fake executable. */
    k3dPrintedKubeconfig(clusterName: string): string {
      return execFileSync(k3d.binPath, ['kubeconfig', 'get', clusterName], {
        env: { ...process.env, ...k3d.env },
        encoding: 'utf8',
      });
    },

    /** Sends a command from #general and returns the ephemeral answer (in the ack or through the response_url), all text included. */
    async ask(user: string, text: string): Promise<string> {
      const result = await driver.command(user, text, { channelId: GENERAL });
      if (result.status !== 200) throw new Error(`${text} was answered ${result.status}`);
      const response = await fake.waitForResponse((r) => r.url === result.responseUrl, 5000);
      if (response.status !== 200) {
        throw new Error(`Slack refused the answer to ${text}: ${JSON.stringify(response.body)}`);
      }
      return textOf(response.body as { text?: string; blocks?: unknown });
    },

    /** Ephemeral replies to `user` whose text matches. */
    async ephemeralTo(user: string, pattern: RegExp, timeoutMs = 5000) {
      return waitUntil(
        () =>
          fake.ephemerals(user).find((e) => pattern.test(e.text) || pattern.test(JSON.stringify(e.blocks))),
        timeoutMs,
        () =>
          `an ephemeral to ${user} matching ${pattern}; got: ${JSON.stringify(fake.ephemerals(user).map((e) => e.text))}`,
      );
    },

    /** DMs to `user` (bot messages in their DM channel) whose text or blocks match. */
    async dmTo(user: string, pattern: RegExp, timeoutMs = 5000) {
      return waitUntil(
        () =>
          fake
            .messages(fake.dmChannelOf(user))
            .find((m) => pattern.test(m.text) || pattern.test(JSON.stringify(m.blocks ?? []))),
        timeoutMs,
        () =>
          `a DM to ${user} matching ${pattern}; got: ${JSON.stringify(fake.messages(fake.dmChannelOf(user)).map((m) => m.text))}`,
      );
    },

    /** Calls Slack refused for a scope manifest.yml does not grant. */
    missingScopes(): string[] {
      return fake.calls.filter((c) => c.response?.error === 'missing_scope').map((c) => c.method);
    },

    /** Stops everything; fails if the app called a method needing a scope manifest.yml does not grant. */
    async stop(): Promise<void> {
      await app.stop(5000);
      await fake.stop();
      k3d.cleanup();
      await rm(dataDir, { recursive: true, force: true });
      const missing = harness.missingScopes();
      if (missing.length > 0)
        throw new Error(`calls refused for a scope missing from manifest.yml: ${missing}`);
    },
  };
  return harness;
}

/** All text of a message, blocks included, for matching. */
export function textOf(message: { text?: string; blocks?: unknown } | undefined): string {
  return `${message?.text ?? ''} ${JSON.stringify(message?.blocks ?? [])}`;
}

export type { FakeSlack };
