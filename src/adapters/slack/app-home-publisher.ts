import type { webApi } from '@slack/bolt';
import type { SandboxEvent } from '../../core/events.js';
import { assertMayDecide } from '../../core/policy.js';
import type { Clock, Logger } from '../../core/ports.js';
import { LIVE_STATUSES } from '../../core/sandbox.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import type { ActorResolver } from './actor-resolver.js';
import { renderAppHome } from './blocks/app-home.js';
import type { SlackCall } from './slack-call.js';

export interface AppHomeDeps {
  client: webApi.WebClient;
  call: SlackCall;
  service: SandboxService;
  actors: ActorResolver;
  clock: Clock;
  logger: Logger;
}

/**
 * Publishes the Home tab. Users who opened it since the bot started get it re-published when one of their
 * sandboxes changes (and approvers when the queue changes), so it does not go stale while it is open.
 */
export class AppHomePublisher {
  private readonly viewers = new Set<string>();

  constructor(private readonly deps: AppHomeDeps) {}

  /** Renders and publishes one user's Home tab. Never rejects. */
  async publish(userId: string): Promise<void> {
    this.viewers.add(userId);
    try {
      await this.render(userId);
    } catch (error) {
      this.deps.logger.error({ err: error, user: userId }, 'could not render App Home');
    }
  }

  private async render(userId: string): Promise<void> {
    const { service, actors, clock } = this.deps;
    const actor = actors.resolve(userId);
    const mine = service.list({ owner: userId, statuses: LIVE_STATUSES, limit: 100 });
    const pending = actor.isApprover
      ? service.list({ statuses: ['PENDING_APPROVAL'], limit: 100 }).reverse()
      : undefined;
    const view = renderAppHome({
      userId,
      mine,
      pending,
      mayApprove: (sandbox) => {
        try {
          assertMayDecide(actor, sandbox, service.options, 'approve');
          return true;
        } catch {
          return false;
        }
      },
      extensionMs: (sandbox) => service.extensionMs(sandbox),
      problemOf: (sandbox) => service.outages.problemOf(sandbox),
      now: clock.now(),
    });
    await this.deps.call('views.publish', () => this.deps.client.views.publish({ user_id: userId, view }), {
      user: userId,
    });
  }

  /** After an event: re-publish for the viewers it concerns. Fire-and-forget; failures are counted. */
  refreshFor(event: SandboxEvent): void {
    const { sandbox } = event;
    const queueChanged = ['requested', 'approved', 'denied', 'cancelled'].includes(event.type);
    for (const userId of this.viewers) {
      const concerned =
        userId === sandbox.owner ||
        userId === sandbox.requestedBy ||
        (queueChanged && this.deps.actors.resolve(userId).isApprover);
      if (concerned) void this.publish(userId);
    }
  }
}
