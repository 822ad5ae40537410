import { type CliCommand, EXIT, requirePositional, stringOption } from '../cli-command.js';
import { renderTest, toJson } from '../render.js';

export const testCommand: CliCommand = {
  name: 'test',
  summary: 'run a smoke-test suite against an active sandbox',
  args: '<sandbox_id|name>',
  help: ['--suite NAME       the suite to run; default smoke'],
  options: { suite: { type: 'string' } },
  async run({ values, positionals, client, io, json }) {
    const result = await client.test(
      await client.resolveId(requirePositional(positionals, 'the sandbox_id or name')),
      stringOption(values, 'suite') ?? 'smoke',
    );
    io.stdout(`${json ? toJson(result) : renderTest(result)}\n`);
    return result.passed ? EXIT.ok : EXIT.failed;
  },
};
