import { type CliCommand, EXIT, requirePositional, stringOption } from '../cli-command.js';
import { renderStatus, toJson } from '../render.js';
import {
  approvalHint,
  parseInterval,
  parseStatuses,
  parseTimeout,
  waitForStatus,
} from '../wait-for-status.js';

export const WAIT_HELP = [
  '--timeout 30m      give up after this long (exit code 3); default 30m',
  '--interval 2       seconds between polls; default 2',
];

export const waitCommand: CliCommand = {
  name: 'wait',
  summary: 'wait until a sandbox reaches a state (default ACTIVE), showing progress',
  args: '<sandbox_id|name>',
  help: ['--until ACTIVE[,…]  states to wait for; default ACTIVE', ...WAIT_HELP],
  options: { until: { type: 'string' }, timeout: { type: 'string' }, interval: { type: 'string' } },
  async run({ values, positionals, client, io, json, sleep }) {
    const idOrName = requirePositional(positionals, 'the sandbox_id or name');
    // Every option is checked before the server is asked anything.
    const until = parseStatuses(stringOption(values, 'until'), ['ACTIVE']);
    const timeoutMs = parseTimeout(stringOption(values, 'timeout'), 30 * 60_000);
    const intervalMs = parseInterval(stringOption(values, 'interval'), 2000);
    const id = await client.resolveId(idOrName);
    const result = await waitForStatus(client, id, {
      until,
      timeoutMs,
      intervalMs,
      io,
      sleep,
      hint: approvalHint(),
    });
    io.stdout(`${json ? toJson(result.view) : renderStatus(result.view)}\n`);
    if (result.outcome === 'timeout') {
      io.stderr(
        `Timed out: ${result.view.name} is still ${result.view.status}; run wait again to keep waiting.\n`,
      );
      return EXIT.timedOut;
    }
    if (result.outcome === 'finished') {
      io.stderr(`${result.view.name} ended ${result.view.status} and will never be ${until.join(' or ')}.\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  },
};
