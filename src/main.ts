#!/usr/bin/env node
import { DatabaseOpenError } from './adapters/db/open-database.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, withDotEnv } from './config.js';

/** Process entry: reads the config, builds the app, handles signals. The only place that exits. */
async function serve(): Promise<void> {
  const config = loadConfig(withDotEnv(process.env));
  const app = buildApp(config);
  const { port } = await app.start();
  app.logger.info({ port, host: config.host, dataDir: config.dataDir }, 'k3d-sandbox-bot listening');
  if (!config.slack.botToken) {
    app.logger.warn(
      {},
      'Slack is not configured: serving health, metrics, REST and MCP only. Set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) and SLACK_APPROVERS_CHANNEL to enable the Slack app.',
    );
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve'] = argv;
  if (command === 'serve') return serve();
  process.stderr.write(`Unknown command "${command}". Usage: k3d-sandbox-bot [serve]\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseOpenError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `k3d-sandbox-bot failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
