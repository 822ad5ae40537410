import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConnection } from '../../src/cli/cli-env.js';
import { runCli } from '../../src/cli/run-cli.js';
import { waitFor } from '../helpers/core-fixture.js';
import { GatedSmokeTester, startTestApp, type TestApp } from '../helpers/test-app.js';

const CI = 'ci-token-0123456789abcdef';
const BOSS = 'boss-token-0123456789abcd';
const API_TOKENS = `ci:${CI}:requester,boss:${BOSS}:approver`;

/** Runs the CLI in this process with captured output; `onStderr` sees progress as it is written. */
async function cli(
  t: TestApp,
  args: string[],
  options: { token?: string; onStderr?: (text: string) => void } = {},
) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    io: {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
        options.onStderr?.(stderr);
      },
    },
    env: { SANDBOX_URL: t.url, SANDBOX_TOKEN: options.token ?? CI },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
  });
  return { code, stdout, stderr };
}

describe('CLI client commands', () => {
  let t: TestApp;
  let workDir: string;
  before(async () => {
    t = await startTestApp({ env: { API_TOKENS } });
    workDir = await mkdtemp(path.join(tmpdir(), 'sandbox-cli-'));
  });
  after(async () => {
    await t.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('when the flags are missing, then SANDBOX_URL and SANDBOX_TOKEN are used, and flags win', () => {
    assert.deepEqual(resolveConnection({}, {}), { url: 'http://127.0.0.1:3000', token: undefined });
    assert.deepEqual(resolveConnection({}, { SANDBOX_URL: 'http://bot:8080/', SANDBOX_TOKEN: 'x' }), {
      url: 'http://bot:8080',
      token: 'x',
    });
    assert.deepEqual(
      resolveConnection({ url: 'http://a', token: 'b' }, { SANDBOX_URL: 'http://c', SANDBOX_TOKEN: 'd' }),
      {
        url: 'http://a',
        token: 'b',
      },
    );
  });

  it('when a sandbox goes through create, approve, wait, kubeconfig, test, list and destroy, then each prints its answer', async () => {
    const created = await cli(t, ['create', 'cli-box', '--agents', '1', '--ttl', '90m', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { sandbox_id, approval_id, status } = JSON.parse(created.stdout) as Record<string, string>;
    assert.equal(status, 'PENDING_APPROVAL');
    assert.equal(t.app.store.get(sandbox_id ?? '')?.ttlMs, 90 * 60_000);

    const refused = await cli(t, ['approve', approval_id ?? '']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Only approvers may approve .*\[HTTP 403\]/);

    const approved = await cli(t, ['approve', approval_id ?? '', '--approver', 'boss'], { token: BOSS });
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /^APPROVED: sb-\w+ by api:boss/);

    const waited = await cli(t, ['wait', sandbox_id ?? '', '--interval', '0.1', '--timeout', '30s']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /cli-box \(sb-\w+\): ACTIVE/);
    assert.match(waited.stderr, /cli-box: ACTIVE/);

    const file = path.join(workDir, 'cli-box.yaml');
    const kube = await cli(t, ['kubeconfig', sandbox_id ?? '', '-o', file]);
    assert.equal(kube.code, 0, kube.stderr);
    assert.equal(kube.stdout.trim(), file);
    assert.match(await readFile(file, 'utf8'), /SECRETKEY-sbx-cli-box/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const tested = await cli(t, ['test', sandbox_id ?? '']);
    assert.equal(tested.code, 0, tested.stderr);
    assert.match(tested.stdout, /^smoke: PASSED \(2 steps/);

    const shown = await cli(t, ['status', 'cli-box']); // by name
    assert.match(shown.stdout, /last test: smoke PASSED/);

    const listed = await cli(t, ['list']);
    assert.match(listed.stdout, /^NAME +ID +STATUS +OWNER +EXPIRES\ncli-box +sb-\w+ +ACTIVE +api:ci/);

    const destroyed = await cli(t, ['destroy', sandbox_id ?? '']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.match(destroyed.stdout, /: DESTROYING/);
  });

  it('when a test fails, then the exit code is 1', async () => {
    const created = await cli(t, ['create', 'cli-fail', '--json']);
    const { sandbox_id } = JSON.parse(created.stdout) as { sandbox_id: string };
    await cli(t, ['approve', sandbox_id], { token: BOSS });
    await waitFor(() => t.app.store.get(sandbox_id)?.status === 'ACTIVE', 'ACTIVE');
    t.smokeTester.fail = true;
    try {
      const tested = await cli(t, ['test', sandbox_id, '--json']);
      assert.equal(tested.code, 1);
      assert.equal((JSON.parse(tested.stdout) as { status: string }).status, 'FAILED');
    } finally {
      t.smokeTester.fail = false;
    }
  });

  it('when input is wrong, then the exit code is 2 for usage and 1 for a refusal, with the reason', async () => {
    const noName = await cli(t, ['create']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /create: missing the sandbox name/);
    assert.match(noName.stderr, /Usage: k3d-sandbox-bot create <name>/);
    const badTtl = await cli(t, ['create', 'x-ttl', '--ttl', 'soon']);
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.stderr, /--ttl "soon" must be whole minutes/);
    const badServers = await cli(t, ['create', 'x-two', '--servers', 'two']);
    assert.equal(badServers.code, 1);
    assert.match(badServers.stderr, /servers: must be a whole number from 1 to 3\. \[HTTP 422\]/);
    const unknownFlag = await cli(t, ['list', '--frobnicate']);
    assert.equal(unknownFlag.code, 2);
    const unknownId = await cli(t, ['status', 'sb-0badc0de']);
    assert.equal(unknownId.code, 1);
    assert.match(unknownId.stderr, /sb-0badc0de was not found;.*\[HTTP 404\]/);
    const unknownName = await cli(t, ['status', 'no-such-box']);
    assert.equal(unknownName.code, 1);
    assert.match(
      unknownName.stderr,
      /No active sandbox named no-such-box .*`k3d-sandbox-bot list` shows them/,
    );
    const noToken = await runCli(['list'], {
      io: { stdout: () => {}, stderr: () => {} },
      env: { SANDBOX_URL: t.url },
    });
    assert.equal(noToken, 1);
  });

  it('when a sandbox is named like an id (sb-cafe), then commands find it by its name', async () => {
    const created = await cli(t, ['create', 'sb-cafe', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { sandbox_id } = JSON.parse(created.stdout) as { sandbox_id: string };
    const shown = await cli(t, ['status', 'sb-cafe', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { id: string }).id, sandbox_id);
    const destroyed = await cli(t, ['destroy', 'sb-cafe']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.equal(t.app.store.get(sandbox_id)?.status, 'CANCELLED');
  });

  it('when --url, SANDBOX_URL or wait --until is malformed, then it is a usage error (exit 2) and the server is not called', async () => {
    const calls: string[] = [];
    const run = async (args: string[], env: Record<string, string>) => {
      let stderr = '';
      const code = await runCli(args, {
        io: { stdout: () => {}, stderr: (text) => (stderr += text) },
        env: { SANDBOX_TOKEN: CI, ...env },
        fetch: (input, init) => {
          calls.push(String(input));
          return fetch(input, init);
        },
      });
      return { code, stderr };
    };
    const badFlag = await run(['list', '--url', 'notaurl'], {});
    assert.equal(badFlag.code, 2);
    assert.match(
      badFlag.stderr,
      /list: --url "notaurl" is not an http\(s\) URL; use e\.g\. http:\/\/127\.0\.0\.1:3000/,
    );
    const badEnv = await run(['list'], { SANDBOX_URL: 'localhost:3000' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /SANDBOX_URL "localhost:3000" is not an http\(s\) URL/);
    const typo = await run(['wait', 'no-such-box', '--until', 'ACTIV'], { SANDBOX_URL: t.url });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /--until "ACTIV": unknown state\(s\) ACTIV/);
    assert.deepEqual(calls, []);
  });

  it('when a wait runs out of time, then it prints the current state and exits 3', async () => {
    const created = await cli(t, ['create', 'cli-slow', '--json']);
    const { sandbox_id } = JSON.parse(created.stdout) as { sandbox_id: string };
    const waited = await cli(t, ['wait', sandbox_id, '--timeout', '0.3', '--interval', '0.1']);
    assert.equal(waited.code, 3);
    assert.match(waited.stderr, /cli-slow: PENDING_APPROVAL - waiting for an approver in Slack/);
    assert.match(waited.stderr, /Timed out: cli-slow is still PENDING_APPROVAL/);
  });

  it('when the server runs the version before the problem field, then status, list and wait still work', async () => {
    const created = await cli(t, ['create', 'cli-older', '--json']);
    const { sandbox_id } = JSON.parse(created.stdout) as { sandbox_id: string };
    const auth = { authorization: `Bearer ${CI}` };
    const current = await (
      await fetch(`${t.url}/get_sandbox_status/${sandbox_id}`, { headers: auth })
    ).json();
    const { problem: _, ...older } = current as Record<string, unknown>;
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/list_active_sandboxes' ? [older] : older));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const olderBot = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as TestApp;
      for (const args of [
        ['status', sandbox_id],
        ['list'],
        ['wait', sandbox_id, '--until', 'PENDING_APPROVAL'],
      ]) {
        const run = await cli(olderBot, args);
        assert.equal(run.code, 0, `${args[0]}: ${run.stderr}`);
        assert.match(run.stdout, /cli-older/);
      }
    } finally {
      server.close();
    }
  });

  it('when the server cannot be reached, then it says where it looked and exits 1', async () => {
    let stderr = '';
    const code = await runCli(['list', '--url', 'http://127.0.0.1:9'], {
      io: { stdout: () => {}, stderr: (text) => (stderr += text) },
      env: {},
    });
    assert.equal(code, 1);
    assert.match(
      stderr,
      /Cannot reach the sandbox bot at http:\/\/127\.0\.0\.1:9 .*Set --url or SANDBOX_URL/,
    );
  });
});

/** Approves `name` as an approver once `up` reports it waiting for approval. */
function approveWhenPending(t: TestApp, name: string) {
  let approving = false;
  return (stderr: string) => {
    if (approving || !/PENDING_APPROVAL/.test(stderr)) return;
    approving = true;
    const sandbox = t.app.service.getByName(name);
    t.app.service.approve({ id: 'U0BOSS', isApprover: true, isAdmin: false }, sandbox?.id ?? '');
  };
}

describe('CLI up', () => {
  it('when the server runs the smoke test by itself, then up waits for that result and completes', async () => {
    const tester = new GatedSmokeTester();
    const t = await startTestApp({
      env: { API_TOKENS, SANDBOX_AUTO_SMOKE_TEST: 'true' },
      overrides: { smokeTester: tester },
    });
    const workDir = await mkdtemp(path.join(tmpdir(), 'sandbox-cli-up-'));
    try {
      const approve = approveWhenPending(t, 'up-box');
      let released = false;
      const up = await cli(
        t,
        ['up', 'up-box', '-o', path.join(workDir, 'kc.yaml'), '--interval', '0.1', '--json'],
        {
          onStderr: (text) => {
            // Approve when up reports the request waiting; let the automatic run finish once up waits for it.
            approve(text);
            if (!released && /already running a test/.test(text)) {
              released = true;
              tester.open();
            }
          },
        },
      );
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /already running a test on this sandbox; waiting for its result/);
      const result = JSON.parse(up.stdout) as {
        sandbox: { status: string };
        kubeconfig_path: string;
        test: { status: string };
      };
      assert.equal(result.sandbox.status, 'ACTIVE');
      assert.equal(result.test.status, 'PASSED');
      assert.equal((await stat(result.kubeconfig_path)).mode & 0o777, 0o600);
      assert.equal(tester.runs.length, 1, 'one run: the automatic one');
    } finally {
      tester.open();
      await t.stop();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('when the kubeconfig cannot be written, then up refuses before asking; when a later step fails, it says how to reach or end the sandbox', async () => {
    const t = await startTestApp({ env: { API_TOKENS } });
    const workDir = await mkdtemp(path.join(tmpdir(), 'sandbox-cli-up-'));
    try {
      const missing = path.join(workDir, 'no-such-folder', 'kc.yaml');
      const refused = await cli(t, ['up', 'nowhere', '-o', missing, '--timeout', '1']);
      assert.equal(refused.code, 2);
      assert.match(
        refused.stderr,
        /cannot write the kubeconfig to .*kc\.yaml: the folder .*no-such-folder does not exist/,
      );
      assert.equal(t.app.service.getByName('nowhere'), undefined, 'nothing was requested');

      const kc = path.join(workDir, 'kc.yaml');
      const up = await cli(
        t,
        ['up', 'half-way', '-o', kc, '--suite', 'no-such-suite', '--interval', '0.1', '--json'],
        {
          onStderr: approveWhenPending(t, 'half-way'),
        },
      );
      const id = t.app.service.getByName('half-way')?.id ?? '';
      assert.equal(up.code, 1);
      assert.match(up.stderr, /Error: .*no-such-suite/);
      assert.ok(
        up.stderr.includes(
          `half-way (${id}) is ACTIVE until it expires: destroy it with \`k3d-sandbox-bot destroy ${id}\``,
        ),
        up.stderr,
      );
      assert.equal((await stat(kc)).mode & 0o777, 0o600, 'the kubeconfig was written before the test failed');
      const result = JSON.parse(up.stdout) as {
        sandbox: { id: string; status: string };
        kubeconfig_path: string;
        error: string;
      };
      assert.deepEqual(
        { id: result.sandbox.id, status: result.sandbox.status, kubeconfig: result.kubeconfig_path },
        { id, status: 'ACTIVE', kubeconfig: kc },
        'a script reading --json still learns what exists',
      );
      assert.match(result.error, /no-such-suite/);
    } finally {
      await t.stop();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('when up is given a name with a slash, then it says what a name must be, not that a folder is missing', async () => {
    const t = await startTestApp({ env: { API_TOKENS } });
    try {
      for (const name of ['team/demo', '../demo']) {
        const up = await cli(t, ['up', name, '--timeout', '1']);
        assert.equal(up.code, 1, up.stderr);
        assert.match(up.stderr, /name: must be a lowercase RFC 1123 label.*\[HTTP 422\]/);
        assert.doesNotMatch(up.stderr, /cannot write the kubeconfig/);
      }
    } finally {
      await t.stop();
    }
  });

  it('when up asks for another owner, then it skips the kubeconfig (the owner gets it), still runs the test and exits 0', async () => {
    const t = await startTestApp({ env: { API_TOKENS } });
    try {
      const up = await cli(t, ['up', 'for-alice', '--owner', 'U0ALICE', '--interval', '0.1', '--json'], {
        onStderr: approveWhenPending(t, 'for-alice'),
      });
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /The kubeconfig is for U0ALICE: the bot sends it to them in a Slack DM/);
      const result = JSON.parse(up.stdout) as {
        sandbox: { status: string; owner: string };
        kubeconfig_path: string | null;
        test: { status: string };
      };
      assert.equal(result.sandbox.status, 'ACTIVE');
      assert.equal(result.sandbox.owner, 'U0ALICE');
      assert.equal(result.kubeconfig_path, null);
      assert.equal(result.test.status, 'PASSED');
      assert.equal(t.smokeTester.runs.length, 1);
      await assert.rejects(stat('kubeconfig-for-alice.yaml'), { code: 'ENOENT' });

      const withOutput = await cli(t, ['up', 'for-bob', '--owner', 'U0BOB', '-o', 'kc.yaml']);
      assert.equal(withOutput.code, 2);
      assert.match(withOutput.stderr, /--output cannot be used with --owner/);
      assert.equal(t.app.service.getByName('for-bob'), undefined);
    } finally {
      await t.stop();
    }
  });
});
