import type { webApi } from '@slack/bolt';
import type { Clock, Logger } from '../../core/ports.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import type { TestRuns } from '../../core/test-runs.js';
import type { ActorResolver } from './actor-resolver.js';
import type { AppHomePublisher } from './app-home-publisher.js';
import type { SlackNotifier } from './notifier.js';
import type { PostToResponseUrl } from './response-url.js';
import type { SlackCall } from './slack-call.js';

/** What every listener may use. Listeners call the core for decisions and these for Slack side effects. */
export interface SlackDeps {
  service: SandboxService;
  tests: TestRuns;
  actors: ActorResolver;
  notifier: SlackNotifier;
  home: AppHomePublisher;
  /** The app's WebClient (bot token); every call goes through `call`, which logs and counts failures. */
  client: webApi.WebClient;
  call: SlackCall;
  /** Answers an interaction through its response_url (wrap it in `call`). */
  postToResponseUrl: PostToResponseUrl;
  clock: Clock;
  logger: Logger;
  approversChannel: string;
}
