import { type CliCommand, requirePositional } from '../cli-command.js';
import { renderStatus, toJson } from '../render.js';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show one sandbox',
  args: '<sandbox_id|name>',
  help: [],
  options: {},
  async run({ positionals, client, io, json }) {
    const view = await client.status(
      await client.resolveId(requirePositional(positionals, 'the sandbox_id or name')),
    );
    io.stdout(`${json ? toJson(view) : renderStatus(view)}\n`);
    return 0;
  },
};
