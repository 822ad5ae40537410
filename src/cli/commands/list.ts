import { type CliCommand, UsageError } from '../cli-command.js';
import { renderTable, toJson } from '../render.js';

export const listCommand: CliCommand = {
  name: 'list',
  summary: 'list the sandboxes that are not finished',
  args: '',
  help: [],
  options: {},
  async run({ positionals, client, io, json }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`);
    const rows = await client.list();
    io.stdout(`${json ? toJson(rows) : renderTable(rows)}\n`);
    return 0;
  },
};
