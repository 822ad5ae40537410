import { type CliCommand, requirePositional } from '../cli-command.js';
import { toJson } from '../render.js';

export const destroyCommand: CliCommand = {
  name: 'destroy',
  summary: 'destroy a sandbox (or cancel a request that has no cluster yet)',
  args: '<sandbox_id|name>',
  help: [],
  options: {},
  async run({ positionals, client, io, json }) {
    const result = await client.destroy(
      await client.resolveId(requirePositional(positionals, 'the sandbox_id or name')),
    );
    io.stdout(json ? `${toJson(result)}\n` : `${result.sandbox_id}: ${result.status}\n`);
    return 0;
  },
};
