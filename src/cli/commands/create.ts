import { parseDuration } from '../../core/sandbox.js';
import type { CreateRequest } from '../api-client.js';
import {
  type CliCommand,
  type CommandInput,
  requirePositional,
  stringOption,
  UsageError,
} from '../cli-command.js';
import { toJson } from '../render.js';

/** Options shared by `create` and `up`. */
export const CREATE_OPTIONS = {
  servers: { type: 'string' },
  agents: { type: 'string' },
  ttl: { type: 'string' },
  owner: { type: 'string' },
  reason: { type: 'string' },
} as const;

export const CREATE_HELP = [
  '--servers N        server (control-plane) nodes; default 1',
  '--agents N         agent (worker) nodes; default 0',
  "--ttl 90m|4h|90    lifetime (a number means minutes); default: the server's",
  '--owner U0123ABCD  the Slack user the sandbox is for, when a script asks for someone',
  '--reason TEXT      why, shown to the approvers',
];

/** Numbers go as numbers; anything else goes as typed, so the server's message says what is wrong with it. */
const numberOrText = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : text);

export function createRequestFrom(values: CommandInput['values'], name: string): CreateRequest {
  const request: Record<string, unknown> = { name };
  const servers = stringOption(values, 'servers');
  const agents = stringOption(values, 'agents');
  const ttl = stringOption(values, 'ttl');
  const owner = stringOption(values, 'owner');
  const reason = stringOption(values, 'reason');
  if (servers !== undefined) request.servers = numberOrText(servers);
  if (agents !== undefined) request.agents = numberOrText(agents);
  if (ttl !== undefined) {
    const ms = /^\d+$/.test(ttl.trim()) ? Number(ttl) * 60_000 : parseDuration(ttl);
    if (ms === undefined || ms % 60_000 !== 0) {
      throw new UsageError(
        `--ttl "${ttl}" must be whole minutes: a number of minutes or a duration like 90m, 4h or 1d`,
      );
    }
    request.ttl_minutes = ms / 60_000;
  }
  if (owner !== undefined) request.owner = owner;
  if (reason !== undefined) request.reason = reason;
  return request as unknown as CreateRequest;
}

export const createCommand: CliCommand = {
  name: 'create',
  summary: 'ask for a sandbox; it waits for an approver',
  args: '<name>',
  help: CREATE_HELP,
  options: CREATE_OPTIONS,
  async run({ values, positionals, client, io, json }) {
    const name = requirePositional(positionals, 'the sandbox name, e.g. `k3d-sandbox-bot create demo`');
    const created = await client.create(createRequestFrom(values, name));
    if (json) {
      io.stdout(`${toJson(created)}\n`);
    } else {
      io.stdout(
        `Requested ${created.name} (${created.sandbox_id}): ${created.status}.\n` +
          `An approver decides in Slack, or: k3d-sandbox-bot approve ${created.approval_id}\n` +
          `Then: k3d-sandbox-bot wait ${created.sandbox_id}\n`,
      );
    }
    return 0;
  },
};
