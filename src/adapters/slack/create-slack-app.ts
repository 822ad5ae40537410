import { App, webApi } from '@slack/bolt';
import type { SandboxEvents } from '../../core/events.js';
import type { Clock, Logger } from '../../core/ports.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import type { TestRuns } from '../../core/test-runs.js';
import { ActorResolver } from './actor-resolver.js';
import { AppHomePublisher } from './app-home-publisher.js';
import { toBoltLogger } from './bolt-logger.js';
import { SlackEventsReceiver, type SlackRequestObserver } from './events-receiver.js';
import { routeRequests } from './listeners/index.js';
import type { HomeWorkspace } from './listeners/other-workspaces.js';
import { SlackNotifier } from './notifier.js';
import { createResponseUrlPoster } from './response-url.js';
import { createSlackCall, type SlackErrorCounter, slackErrorCode } from './slack-call.js';
import type { SlackDeps } from './slack-deps.js';
import { trackInFlight } from './track-in-flight.js';

/** The Slack part of the configuration (config.slack), with the bot token known to be set. */
export interface SlackSettings {
  botToken: string;
  /** Set: Socket Mode (no public URL). Unset: HTTP mode at /slack/events on the shared port. */
  appToken: string | undefined;
  signingSecret: string | undefined;
  apiUrl: string;
  approversChannel: string;
  auditChannel: string | undefined;
  approvers: readonly string[];
  approverGroup: string | undefined;
  admins: readonly string[];
}

export interface SlackAppDeps {
  settings: SlackSettings;
  service: SandboxService;
  tests: TestRuns;
  events: SandboxEvents;
  clock: Clock;
  logger: Logger;
  slackErrors: SlackErrorCounter;
  /** HTTP mode: how long each answer to Slack took (slack_request_duration_seconds). */
  slackRequests: SlackRequestObserver;
}

/** Where Slack's signed requests arrive in HTTP mode (commands, interactivity and events alike). */
export const SLACK_EVENTS_PATH = '/slack/events';

const INIT_RETRY_MS = [5_000, 15_000, 30_000, 60_000, 300_000];

/**
 * Builds the Bolt app and the Slack side of the bot: listeners, notifier, actor resolver, App Home. In HTTP
 * mode the bot's server passes requests to `/slack/events` to `receiver` (Slack, health, metrics, REST and
 * MCP share one port); in Socket Mode (SLACK_APP_TOKEN) there is no receiver.
 *
 * Nothing talks to Slack until `start()`: `auth.test` runs there (Bolt's `deferInitialization`), so a bad
 * token or an unreachable Slack is a logged error and a retry, never a crashed process.
 */
export function createSlackApp(deps: SlackAppDeps) {
  const { settings, logger, service, clock } = deps;
  const socketMode = Boolean(settings.appToken);
  const boltLogger = toBoltLogger(logger);
  const clientOptions: webApi.WebClientOptions = {
    slackApiUrl: settings.apiUrl,
    // Modest: a notification may wait seconds, not the WebClient's default half hour.
    retryConfig: {
      retries: 2,
      factor: 2,
      minTimeout: 300,
      maxTimeout: 3_000,
      randomize: true,
    },
    timeout: 10_000,
    // A 429 is waited out by `call` (slack-call.ts), not by the WebClient, which would pause all its calls for the
    // Retry-After and count the 429 as one of the retries above.
    rejectRateLimitedCalls: true,
  };

  // No conversation store: nothing here reads `context.conversation`, and Bolt's default one costs every request.
  const common = {
    token: settings.botToken,
    convoStore: false,
    // Bolt's ignoreSelf drops the app's own message events; the app subscribes to none, and the middleware would
    // otherwise run on every request.
    ignoreSelf: false,
    deferInitialization: true,
    logger: boltLogger,
    clientOptions,
  } as const;
  let app: App;
  let receiver: SlackEventsReceiver | undefined;
  if (settings.appToken) {
    app = new App({
      ...common,
      appToken: settings.appToken,
      socketMode: true,
      // The Socket Mode client's own WebClient (apps.connections.open). The socket-mode library gives up for good,
      // or at a reconnect throws where nothing can catch it, when that call fails with a network error or an HTTP
      // error: so it is retried here until Slack answers. A refused token still fails at once (not retried): at
      // start it is logged below; at a reconnect, main.ts stops the bot.
      installerOptions: {
        clientOptions: {
          ...clientOptions,
          retryConfig: {
            forever: true,
            factor: 2,
            minTimeout: 1_000,
            maxTimeout: 30_000,
            randomize: true,
            unref: true,
          },
        },
      },
    });
  } else {
    if (!settings.signingSecret) {
      throw new Error(
        'SLACK_SIGNING_SECRET is required for the Slack app in HTTP mode (or set SLACK_APP_TOKEN)',
      );
    }
    receiver = new SlackEventsReceiver({
      signingSecret: settings.signingSecret,
      logger,
      requests: deps.slackRequests,
    });
    app = new App({ ...common, receiver });
  }

  const client = app.client;
  const call = createSlackCall({ slackErrors: deps.slackErrors, logger });
  client.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfterSeconds: number, { url }: { url: string }) => {
    // Methods are called at SLACK_API_URL + name. The one other URL is files.uploadV2's upload URL, whose path is
    // a key minted per upload: as a label it would add a series for every rate-limited upload.
    const method = url.startsWith(client.slackApiUrl)
      ? url.slice(client.slackApiUrl.length)
      : 'files.uploadV2';
    deps.slackErrors.inc({ method, error: 'ratelimited' });
    logger.warn(
      { method, retryAfterSeconds },
      'Slack rate-limited a call; it is tried again after the pause Slack asks for, for up to a minute in all',
    );
  });

  const actors = new ActorResolver({
    approvers: settings.approvers,
    approverGroup: settings.approverGroup,
    admins: settings.admins,
    logger,
    fetchGroupMembers: async (usergroup) => {
      // Slack answers a group an admin disabled or deleted as one that does not exist: it has no members now, and
      // keeping the last ones would leave the approvers it was meant to revoke able to approve until a restart.
      let gone = false;
      const listed = await call('usergroups.users.list', () =>
        client.usergroups.users.list({ usergroup }).catch((error: unknown) => {
          gone = slackErrorCode(error) === 'no_such_subteam';
          throw error;
        }),
      );
      return gone ? [] : listed?.users;
    },
  });
  const home = new AppHomePublisher({ client, call, service, actors, clock, logger });
  const notifier = new SlackNotifier({
    client,
    call,
    service,
    clock,
    logger,
    approversChannel: settings.approversChannel,
    auditChannel: settings.auditChannel,
    onChange: (event) => home.refreshFor(event),
  });
  notifier.subscribe(deps.events);

  /** The bot's own workspace, from auth.test: requests from anyone else are refused. */
  let workspace: HomeWorkspace | undefined;
  const inFlight = trackInFlight();
  const listenerDeps: SlackDeps = {
    service,
    tests: deps.tests,
    actors,
    notifier,
    home,
    client,
    call,
    postToResponseUrl: createResponseUrlPoster(),
    clock,
    logger,
    approversChannel: settings.approversChannel,
  };
  app.use(routeRequests(listenerDeps, inFlight.track, () => workspace));
  // Rethrown so the receiver answers as Slack expects: 401 while unauthenticated, 500 before an ack.
  app.error(async (error) => {
    if (error.code === 'slack_bolt_authorization_error') {
      logger.warn(
        {},
        'refused a Slack request: the app has not authenticated with Slack (see the auth.test error)',
      );
    } else {
      logger.error({ err: error }, 'Slack listener failed');
    }
    throw error;
  });

  let initialized = false;
  let socketStarted = false;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let attempt = 0;

  async function connect(): Promise<void> {
    try {
      // Before Bolt's own auth.test (app.init), which keeps only the bot's ids: until init succeeds, Bolt refuses
      // every request, so none is ever checked against an unknown workspace.
      const auth = await client.auth.test();
      workspace = {
        teamId: auth.team_id ?? '',
        enterpriseId: auth.enterprise_id || undefined,
        name: auth.team ?? auth.team_id ?? '',
      };
      await app.init(); // auth.test
      initialized = true;
      logger.info(
        { mode: socketMode ? 'socket' : 'http' },
        socketMode
          ? 'Slack app authenticated; connecting over Socket Mode'
          : `Slack app ready at ${SLACK_EVENTS_PATH}`,
      );
    } catch (error) {
      const delay = INIT_RETRY_MS[Math.min(attempt++, INIT_RETRY_MS.length - 1)] ?? 300_000;
      const code = slackErrorCode(error);
      // Counted like every failed call: until auth.test passes, the bot refuses every Slack request.
      deps.slackErrors.inc({ method: 'auth.test', error: code });
      logger.error(
        { error: code, err: (error as Error).message, retryInMs: delay },
        'Slack auth.test failed, so Slack requests are refused for now: check SLACK_BOT_TOKEN and SLACK_API_URL (retrying)',
      );
      if (!stopped) {
        retryTimer = setTimeout(() => void connect(), delay);
        retryTimer.unref();
      }
      return;
    }
    if (socketMode && !stopped) {
      socketStarted = true;
      app.start().then(
        () => logger.info({}, 'Slack Socket Mode connected'),
        (error: unknown) => {
          const code = slackErrorCode(error);
          deps.slackErrors.inc({ method: 'apps.connections.open', error: code });
          logger.error(
            { error: code, err: (error as Error).message },
            'Slack Socket Mode could not connect: check SLACK_APP_TOKEN (an xapp- token with connections:write)',
          );
        },
      );
    }
  }

  return {
    app,
    /** HTTP mode: answers the requests the server receives at SLACK_EVENTS_PATH. */
    receiver,
    notifier,
    actors,
    home,
    mode: socketMode ? ('socket' as const) : ('http' as const),
    /** True once auth.test succeeded (until then Bolt answers Slack's requests with 401). */
    get ready(): boolean {
      return initialized;
    },

    /** Authenticates (never throws), loads the approver group, and in Socket Mode connects. */
    async start(): Promise<void> {
      stopped = false;
      await connect();
      await actors.start();
    },

    /** Stops retries and refreshes, waits (bounded) for listeners still working, disconnects Socket Mode. */
    async stop(graceMs = 10_000): Promise<void> {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      actors.stop();
      await inFlight.drain(graceMs);
      if (socketStarted) {
        socketStarted = false;
        await app
          .stop()
          .catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'Slack stop'));
      }
    },
  };
}
