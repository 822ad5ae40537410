import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFakeK3d, type FakeK3d } from '../fakes/k3d/fake-k3d.js';
import { createFakeKubectl, type FakeKubectl } from '../fakes/kubectl/fake-kubectl.js';
import { type BotProcess, MAIN, startBotProcess } from '../helpers/bot-process.js';
import { callApi, detailOf } from '../helpers/http-client.js';

const CI = 'ci-token-0123456789abcdef';
const BOSS = 'boss-token-0123456789abcd';

describe('k3d-sandbox-bot up (processes)', () => {
  let k3d: FakeK3d;
  let kubectl: FakeKubectl;
  let bot: BotProcess;
  let dir: string;

  before(async () => {
    k3d = createFakeK3d();
    kubectl = createFakeKubectl({ stateDir: k3d.stateDir });
    dir = await mkdtemp(path.join(tmpdir(), 'sandbox-up-'));
    bot = await startBotProcess({
      ...k3d.env,
      ...kubectl.env,
      DATA_DIR: path.join(dir, 'data'),
      K3D_BIN: k3d.binPath,
      DOCKER_BIN: k3d.dockerBinPath,
      KUBECTL_BIN: kubectl.binPath,
      API_TOKENS: `ci:${CI}:requester,boss:${BOSS}:approver`,
      // `up` runs the smoke test itself; with the automatic run on as well, which of the two it reports
      // would depend on timing (test/cli/cli.test.ts covers up waiting for the automatic run).
      SANDBOX_AUTO_SMOKE_TEST: 'false',
    });
  });
  after(async () => {
    await bot?.stop();
    kubectl?.cleanup();
    k3d?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('when up runs against a running server and an approver approves, then it ends ACTIVE with a 0600 kubeconfig and a passed smoke test', async () => {
    const kubeconfigFile = path.join(dir, 'kc.yaml');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'up',
        'up-proc',
        '--agents',
        '1',
        '--interval',
        '0.2',
        '--timeout',
        '120s',
        '-o',
        kubeconfigFile,
        '--json',
      ],
      { env: { ...process.env, SANDBOX_URL: bot.url, SANDBOX_TOKEN: CI }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let approval: Promise<void> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // A human approves once the request is waiting, through the REST API with an approver token.
      const pending = /k3d-sandbox-bot approve (ap-[0-9a-f]+)/.exec(stderr);
      if (pending && !approval) {
        approval = callApi(bot.url, 'POST', '/approve', {
          token: BOSS,
          query: { approval_id: pending[1] ?? '' },
        }).then((res) => assert.equal(res.status, 200, detailOf(res)));
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await approval;
    assert.equal(code, 0, `stderr:\n${stderr}\nbot:\n${bot.output()}`);

    assert.match(stderr, /up-proc: PENDING_APPROVAL - waiting for an approver/);
    assert.match(stderr, /up-proc: ACTIVE/);
    const result = JSON.parse(stdout) as {
      sandbox: { status: string; agents: number };
      kubeconfig_path: string;
      test: { test_id: string; status: string };
    };
    assert.equal(result.sandbox.status, 'ACTIVE');
    assert.equal(result.sandbox.agents, 1);
    assert.equal(result.test.test_id, 'smoke');
    assert.equal(result.test.status, 'PASSED', stdout);
    assert.equal(result.kubeconfig_path, kubeconfigFile);
    assert.equal((await stat(kubeconfigFile)).mode & 0o777, 0o600);
    const key = k3d.cluster('sbx-up-proc')?.kubeconfig.clientKeyData ?? 'missing';
    assert.match(await readFile(kubeconfigFile, 'utf8'), new RegExp(`client-key-data: ${key}`));
    assert.ok(kubectl.calls().length > 0, 'the smoke test ran kubectl');
  });
});
