import { type CliCommand, requirePositional, stringOption } from '../cli-command.js';
import { toJson } from '../render.js';

export const approveCommand: CliCommand = {
  name: 'approve',
  summary: 'approve a pending request (approver or admin token)',
  args: '<approval_id|sandbox_id|name>',
  help: ['--approver NAME    who approves; only recorded when the server has API tokens'],
  options: { approver: { type: 'string' } },
  async run({ values, positionals, client, io, json }) {
    const id = await client.resolveId(
      requirePositional(positionals, 'the approval_id (or sandbox_id, or name) to approve'),
    );
    const approved = await client.approve(id, stringOption(values, 'approver'));
    io.stdout(
      json
        ? `${toJson(approved)}\n`
        : `${approved.status}: ${approved.sandbox_id} by ${approved.approved_by}; it is ${approved.sandbox_status} now.\n`,
    );
    return 0;
  },
};
