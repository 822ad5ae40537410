// Starts a real Bolt App (HTTP mode, real receiver and signature check) wired to a running fake Slack,
// following the harness rules of slack-platform.md §5: fake first, no WebClient retries, a timeout, port 0,
// and a teardown that does not wait for keep-alive sockets.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppOptions } from '@slack/bolt';
import { App, LogLevel } from '@slack/bolt';
import type { FakeSlack } from './fake-slack.js';
import type { SlackDriver } from './slack-driver.js';
import { createSlackDriver } from './slack-driver.js';

export interface BoltTestApp {
  readonly app: App;
  /** `http://127.0.0.1:PORT/slack/events` */
  readonly appUrl: string;
  readonly driver: SlackDriver;
  stop(): Promise<void>;
}

/** `register` adds listeners before the app starts; `overrides` go to the App constructor last. */
export async function startBoltTestApp(
  fake: FakeSlack,
  register: (app: App) => void,
  overrides: Partial<AppOptions> = {},
): Promise<BoltTestApp> {
  const app = new App({
    token: fake.botToken,
    signingSecret: fake.signingSecret,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 2000 },
    logLevel: LogLevel.ERROR,
    // Await auth.test here: left pending, it rejects unhandled if the fake stops first and kills the run.
    deferInitialization: true,
    ...overrides,
  });
  await app.init();
  register(app);
  const server = (await app.start(0)) as Server;
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  return {
    app,
    appUrl,
    driver: createSlackDriver({ appUrl, fake }),
    async stop() {
      server.closeAllConnections();
      await app.stop();
    },
  };
}
