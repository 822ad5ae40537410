import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { packageVersion } from '../lib/version.js';
import { ApiError, createApiClient } from './api-client.js';
import { type CliCommand, type CliIo, EXIT, UsageError } from './cli-command.js';
import { DEFAULT_URL, resolveConnection } from './cli-env.js';
import { approveCommand } from './commands/approve.js';
import { createCommand } from './commands/create.js';
import { destroyCommand } from './commands/destroy.js';
import { kubeconfigCommand } from './commands/kubeconfig.js';
import { listCommand } from './commands/list.js';
import { statusCommand } from './commands/status.js';
import { testCommand } from './commands/test.js';
import { upCommand } from './commands/up.js';
import { waitCommand } from './commands/wait.js';

/** The client subcommands, in the order `--help` lists them. */
const CLIENT_COMMANDS: readonly CliCommand[] = [
  upCommand,
  createCommand,
  approveCommand,
  statusCommand,
  waitCommand,
  kubeconfigCommand,
  testCommand,
  destroyCommand,
  listCommand,
];

const COMMON_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMON_HELP = [
  `--url URL          the bot's address; default $SANDBOX_URL or ${DEFAULT_URL}`,
  '--token TOKEN      an API token; default $SANDBOX_TOKEN',
  '--json             print the answer as JSON (progress still goes to stderr)',
  '-h, --help         this help',
];

const SERVER_COMMANDS = [
  {
    name: 'serve',
    args: '',
    summary: 'run the bot: Slack, REST API, MCP at /mcp, provisioner and jobs (default)',
  },
  {
    name: 'mcp',
    args: '[--as NAME] [--admin]',
    summary:
      'serve MCP over stdio for a local agent (acting as mcp:NAME; --admin lets it manage every sandbox), on the same DATA_DIR as a running `serve` (which approves and provisions); logs go to stderr',
  },
];

function topUsage(): string {
  const width = 12;
  return [
    `k3d-sandbox-bot ${packageVersion()}: ephemeral k3d Kubernetes sandboxes behind a human approval.`,
    '',
    'Usage: k3d-sandbox-bot [command] [options]',
    '',
    'Server:',
    ...SERVER_COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Client (talks to a running server's REST API):",
    ...CLIENT_COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `k3d-sandbox-bot <command> --help` for its options.',
    'Exit codes: 0 done, 1 refused or failed (including a failed test), 2 usage error, 3 timed out waiting.',
    '',
  ].join('\n');
}

function commandUsage(command: CliCommand): string {
  return [
    `Usage: k3d-sandbox-bot ${command.name} ${command.args} [options]`.replace(/ +/g, ' '),
    '',
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    '',
    'Options:',
    ...[...command.help, ...COMMON_HELP].map((line) => `  ${line}`),
    '',
  ].join('\n');
}

export interface CliDeps {
  io: CliIo;
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** Runs a client subcommand (or help/version) and resolves with the exit code; never exits the process. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const { io } = deps;
  const [name = 'help', ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.stdout(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = CLIENT_COMMANDS.find((c) => c.name === rest[0]);
    io.stdout(topic ? commandUsage(topic) : topUsage());
    return EXIT.ok;
  }
  const server = SERVER_COMMANDS.find((c) => c.name === name);
  if (server) {
    io.stdout(
      `Usage: k3d-sandbox-bot ${server.name} ${server.args}\n\n${server.summary}.\nConfiguration comes from the environment (see README).\n`,
    );
    return EXIT.ok;
  }
  const command = CLIENT_COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`Unknown command "${name}".\n\n${topUsage()}`);
    return EXIT.usage;
  }

  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...COMMON_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (values.help === true) {
      io.stdout(commandUsage(command));
      return EXIT.ok;
    }
    const connection = resolveConnection(
      { url: values.url as string | undefined, token: values.token as string | undefined },
      deps.env,
    );
    return await command.run({
      values,
      positionals: parsed.positionals,
      client: createApiClient(connection, deps.fetch),
      io,
      json: values.json === true,
      sleep: deps.sleep ?? ((ms) => delay(ms)),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${command.name}: ${error.message}\n\n${commandUsage(command)}`);
      return EXIT.usage;
    }
    if (error instanceof ApiError) {
      io.stderr(`Error: ${error.message}\n`);
      return EXIT.failed;
    }
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}
