#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildApp } from './app.js';
import { runCli } from './cli/run-cli.js';
import { ConfigError, loadConfig, withDotEnv } from './config.js';
import { createLogger } from './lib/logger.js';
import { StartupError } from './lib/startup-error.js';

/** Process entry: reads the config, builds the app, handles signals. The only place that exits. */
async function serve(): Promise<void> {
  const config = loadConfig(withDotEnv(process.env));
  const app = buildApp(config);
  const { port } = await app.start();
  app.logger.info({ port, host: config.host, dataDir: config.dataDir }, 'k3d-sandbox-bot listening');
  if (!config.slack.botToken) {
    app.logger.warn(
      {},
      'Slack is not configured: serving health, metrics, REST and MCP only. Set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode), SLACK_APPROVERS_CHANNEL and SLACK_APPROVERS (or SLACK_APPROVER_GROUP) to enable the Slack app.',
    );
  }

  if (config.api.tokens.length === 0) {
    app.logger.warn(
      {},
      'The REST API and /mcp run unauthenticated: without API_TOKENS they answer loopback clients only, each acting as the admin api:local. Set API_TOKENS (name:token:role entries) to serve other hosts.',
    );
  }

  let stopping = false;
  const shutdown = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A failure nothing could catch (a bug, or a library failing where it cannot report it: the Socket Mode client
  // when Slack refuses the app-level token at a reconnect) would end the process with a bare stack trace. It is
  // logged, and the bot stops as on SIGTERM (creates finish, the lease is released), with exit code 1 for its
  // supervisor to start it again.
  process.on('unhandledRejection', (reason) => {
    app.logger.error(
      { err: reason },
      'an unexpected failure nothing handled; stopping with exit code 1, for a supervisor to start the bot again',
    );
    shutdown('unhandledRejection', 1);
  });
}

/**
 * MCP over stdio for a local agent: the core runs in this process on the same DATA_DIR database, acting as
 * `mcp:<name>`. stdout is the protocol, so every log line goes to stderr. It runs no provisioner, reconciler
 * or jobs: the `serve` process on that DATA_DIR is the one worker (the reconciler would take another
 * process's in-flight creates for crash leftovers), and it picks up what this door changes.
 */
async function serveMcp({ name, admin }: { name: string; admin: boolean }): Promise<void> {
  const config = loadConfig(withDotEnv(process.env));
  const app = buildApp(config, { logger: createLogger(config.logLevel, 2) });
  const server = app.mcpServerFor({ id: `mcp:${name}`, isApprover: false, isAdmin: admin });
  await server.connect(new StdioServerTransport());
  app.logger.info({ identity: `mcp:${name}`, dataDir: config.dataDir }, 'MCP server on stdio');

  let stopping = false;
  const shutdown = (why: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ why }, 'MCP server stopping');
    Promise.all([server.close(), app.stop(5000)]).then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'MCP shutdown failed');
        process.exit(1);
      },
    );
  };
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * The identity of `mcp [--as NAME] [--admin]` (default `local`, a requester), or what is wrong with the
 * arguments. An agent manages only what it asked for unless it is made an admin on purpose.
 */
function mcpIdentity(args: string[]): { name: string; admin: boolean } | Error {
  try {
    const { values } = parseArgs({
      args,
      options: { as: { type: 'string' }, admin: { type: 'boolean' } },
      strict: true,
    });
    const name = values.as ?? 'local';
    return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)
      ? { name, admin: values.admin ?? false }
      : new Error(`--as "${name}" must be a name like claude-desktop (letters, digits, . _ -)`);
  } catch (error) {
    return error as Error;
  }
}

/** Resolves with an exit code for a command that has finished, or undefined for a server that keeps running. */
async function main(argv: string[]): Promise<number | undefined> {
  const [command = 'serve', ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (command === 'serve' && !wantsHelp) return serve().then(() => undefined);
  if (command === 'mcp' && !wantsHelp) {
    const identity = mcpIdentity(rest);
    if (identity instanceof Error) {
      process.stderr.write(`mcp: ${identity.message}\nUsage: k3d-sandbox-bot mcp [--as NAME] [--admin]\n`);
      return 2;
    }
    return serveMcp(identity).then(() => undefined);
  }
  return runCli(argv, {
    io: { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit once what was written has been flushed (stdout may be a pipe).
    if (code !== undefined) process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof StartupError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(
        `k3d-sandbox-bot failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
    process.exit(1);
  },
);
