import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../slack-deps.js';

/** Publishes the Home tab whenever a user opens it (Bolt has already acknowledged the event). */
export function appHomeOpened(deps: SlackDeps) {
  return async ({
    event,
  }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await deps.home.publish(event.user);
    deps.actors.refreshSoon();
  };
}
