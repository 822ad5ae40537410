import path from 'node:path';
import type { TestResultView } from '../../core/api-view.js';
import { ApiError } from '../api-client.js';
import {
  type CliCommand,
  type CommandInput,
  EXIT,
  requirePositional,
  stringOption,
  UsageError,
} from '../cli-command.js';
import { renderTest, toJson } from '../render.js';
import { approvalHint, parseInterval, parseTimeout, waitForStatus } from '../wait-for-status.js';
import { CREATE_HELP, CREATE_OPTIONS, createRequestFrom } from './create.js';
import { assertWritable, kubeconfigFile, saveKubeconfig } from './kubeconfig.js';
import { WAIT_HELP } from './wait.js';

/**
 * Runs the suite; when the server is already running it (it runs the smoke suite by itself once a sandbox
 * is ACTIVE), waits for that run's result instead of failing.
 */
async function runOrAwaitTest(
  id: string,
  suite: string,
  {
    client,
    io,
    sleep,
    intervalMs,
    timeoutMs,
  }: Pick<CommandInput, 'client' | 'io' | 'sleep'> & {
    intervalMs: number;
    timeoutMs: number;
  },
): Promise<TestResultView> {
  try {
    return await client.test(id, suite);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409 && /already in progress/.test(error.message)))
      throw error;
  }
  io.stderr(`The server is already running a test on this sandbox; waiting for its result...\n`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await client.status(id);
    const last = view.last_test;
    if (last && last.test_id === suite && view.ready_at && last.finished_at >= view.ready_at) return last;
    if (Date.now() >= deadline)
      throw new ApiError(
        `No test result for ${view.name} after waiting; see \`k3d-sandbox-bot status ${id}\`.`,
        0,
      );
    await sleep(intervalMs);
  }
}

/**
 * create -> wait for approval and ACTIVE -> write the kubeconfig -> smoke test: the whole path in one
 * command, as the original PowerShell scripts did, on every platform. With --owner the kubeconfig is the
 * owner's (the server gives it only to them and admins, and DMs it to them), so it is not written here; the
 * requester may still run the test.
 */
export const upCommand: CliCommand = {
  name: 'up',
  summary: 'create, wait for approval and ACTIVE, write the kubeconfig, run the smoke test',
  args: '<name>',
  help: [
    ...CREATE_HELP,
    ...WAIT_HELP,
    '-o, --output FILE  where to write the kubeconfig; default ./kubeconfig-<name>.yaml (not with --owner)',
    '--suite NAME       the test suite to run at the end; default smoke',
    '--skip-test        do not run a test at the end',
  ],
  options: {
    ...CREATE_OPTIONS,
    timeout: { type: 'string' },
    interval: { type: 'string' },
    output: { type: 'string', short: 'o' },
    suite: { type: 'string' },
    'skip-test': { type: 'boolean' },
  },
  async run({ values, positionals, client, io, json, sleep }) {
    const name = requirePositional(positionals, 'the sandbox name, e.g. `k3d-sandbox-bot up demo`');
    const request = createRequestFrom(values, name);
    const output = stringOption(values, 'output');
    if (request.owner !== undefined && output !== undefined) {
      throw new UsageError(
        `--output cannot be used with --owner: the kubeconfig is for ${request.owner}, who gets it in a Slack DM (an admin can fetch it with \`k3d-sandbox-bot kubeconfig\`)`,
      );
    }
    const timeoutMs = parseTimeout(stringOption(values, 'timeout'), 30 * 60_000);
    const intervalMs = parseInterval(stringOption(values, 'interval'), 2000);
    // Found out now rather than after the cluster exists. Only the folder is in question: a name with a slash is
    // the server's to refuse (with what a name must be), not a folder to look for.
    if (request.owner === undefined) await assertWritable(kubeconfigFile(path.basename(name), output));

    const created = await client.create(request);
    io.stderr(`Requested ${created.name} (${created.sandbox_id}).\n`);
    const waited = await waitForStatus(client, created.sandbox_id, {
      until: ['ACTIVE'],
      timeoutMs,
      intervalMs,
      io,
      sleep,
      hint: approvalHint(created.approval_id),
    });
    if (waited.outcome !== 'reached') {
      const view = waited.view;
      io.stderr(
        waited.outcome === 'timeout'
          ? `Timed out: ${view.name} is still ${view.status}. Keep waiting with: k3d-sandbox-bot wait ${view.id}\n`
          : `${view.name} ended ${view.status}${view.failure_reason ? `: ${view.failure_reason}` : view.decision_note ? `: ${view.decision_note}` : ''}.\n`,
      );
      if (json) io.stdout(`${toJson({ sandbox: view, kubeconfig_path: null, test: null })}\n`);
      return waited.outcome === 'timeout' ? EXIT.timedOut : EXIT.failed;
    }

    let kubeconfigPath: string | null = null;
    let test: TestResultView | null = null;
    try {
      if (request.owner === undefined) {
        kubeconfigPath = await saveKubeconfig(client, created.sandbox_id, created.name, output);
        io.stderr(`Kubeconfig written to ${kubeconfigPath} (mode 0600).\n`);
      } else {
        io.stderr(`The kubeconfig is for ${request.owner}: the bot sends it to them in a Slack DM.\n`);
      }
      if (values['skip-test'] !== true) {
        const suite = stringOption(values, 'suite') ?? 'smoke';
        io.stderr(`Running the ${suite} test...\n`);
        test = await runOrAwaitTest(created.sandbox_id, suite, { client, io, sleep, intervalMs, timeoutMs });
        io.stderr(`${renderTest(test)}\n`);
      }
    } catch (error) {
      // The cluster exists and runs until it expires: say how to reach it or end it.
      const id = created.sandbox_id;
      const fetchHint =
        kubeconfigPath === null && request.owner === undefined
          ? `fetch its kubeconfig with \`k3d-sandbox-bot kubeconfig ${id}\`, `
          : '';
      const message = (error as Error).message;
      io.stderr(
        `Error: ${message}\n` +
          `${created.name} (${id}) is ACTIVE until it expires: ${fetchHint}destroy it with \`k3d-sandbox-bot destroy ${id}\`.\n`,
      );
      if (json) {
        const result = { sandbox: waited.view, kubeconfig_path: kubeconfigPath, test, error: message };
        io.stdout(`${toJson(result)}\n`);
      }
      return EXIT.failed;
    }
    const sandbox = await client.status(created.sandbox_id);
    if (json) {
      io.stdout(`${toJson({ sandbox, kubeconfig_path: kubeconfigPath, test })}\n`);
    } else {
      io.stdout(
        `${sandbox.name} (${sandbox.id}) is ACTIVE until ${sandbox.expires_at}${test ? `; ${test.test_id} ${test.status}` : ''}.\n` +
          (kubeconfigPath ? `export KUBECONFIG=${kubeconfigPath}\n` : ''),
      );
    }
    return test && !test.passed ? EXIT.failed : EXIT.ok;
  },
};
