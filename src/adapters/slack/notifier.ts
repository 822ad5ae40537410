import type { webApi } from '@slack/bolt';
import type { SandboxEvent, SandboxEvents } from '../../core/events.js';
import { SYSTEM_ACTOR } from '../../core/policy.js';
import type { Clock, Logger } from '../../core/ports.js';
import type { Sandbox } from '../../core/sandbox.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import { KeyedMutex } from '../../lib/keyed-mutex.js';
import { PollBackoff } from '../../lib/poll-backoff.js';
import { type Decision, renderApprovalRequest, renderDecidedMessage } from './blocks/approval-message.js';
import { renderAuditLine } from './blocks/audit-line.js';
import {
  kubeconfigFilename,
  renderApprovalPostFailedDm,
  renderApprovedDm,
  renderCancelledDm,
  renderClusterRunningDm,
  renderClusterStoppedDm,
  renderCreatingAfterWaitDm,
  renderDeniedDm,
  renderDestroyDelayedDm,
  renderDestroyedDm,
  renderExpiringDm,
  renderExtendedDm,
  renderFailedDm,
  renderKubeconfigComment,
  renderKubeconfigFailedDm,
  renderRequestedForYouDm,
  renderWaitingForDockerDm,
} from './blocks/direct-messages.js';
import { renderTestResult } from './blocks/test-result.js';
import { isSlackUser, type RenderedMessage } from './blocks/text.js';
import {
  renderClusterRunningThread,
  renderClusterStoppedThread,
  renderCreatingThread,
  renderDestroyedThread,
  renderDestroyFailedThread,
  renderDestroyingThread,
  renderExtendedThread,
  renderFailedThread,
  renderKubeconfigFailedThread,
  renderKubeconfigSentThread,
  renderReadyThread,
  renderWaitingForDockerThread,
} from './blocks/thread-messages.js';
import type { SlackCall } from './slack-call.js';

export interface NotifierDeps {
  client: webApi.WebClient;
  call: SlackCall;
  service: SandboxService;
  clock: Clock;
  logger: Logger;
  approversChannel: string;
  auditChannel: string | undefined;
  /** Called after each event's messages, so the App Home of the users it concerns can be refreshed. */
  onChange?: (event: SandboxEvent) => void;
}

/**
 * Every Slack side effect of the core's events: the approval message and its rewrites, the thread story,
 * the owner's DMs (the kubeconfig as a file), and the audit feed. Events of one sandbox are handled in order;
 * each Slack call is independent, so one failure neither throws into the core nor stops the next message.
 */
export class SlackNotifier {
  private readonly perSandbox = new KeyedMutex();
  private readonly perChannel = new KeyedMutex();
  private readonly dmChannels = new Map<string, string>();
  /**
   * The delete failure last told per sandbox. A destroy that keeps failing is retried by the reconciler for as
   * long as it fails: the thread and the audit channel hear of a failure once, and again when it changes.
   */
  private readonly destroyFailuresTold = new Map<string, string>();
  /**
   * Sandboxes whose owner was told their delete is delayed: once, when the provisioner has used its attempts in a
   * row and left it to the reconciler. A failure the next attempt mends is no delay to them.
   */
  private readonly destroyDelaysTold = new Set<string>();
  /** Sandboxes whose owner was told they wait for Docker: told again when their create starts after all. */
  private readonly dockerWaitsTold = new Set<string>();
  /**
   * Kubeconfig DMs the retry poll failed to deliver. An owner Slack cannot reach (no such user, deactivated) fails
   * at every poll while the sandbox lives, and each attempt is also a kubeconfig read in the audit log: retried
   * at most every 16 minutes at the default 5-second poll.
   */
  private readonly deliveryRetries = new PollBackoff(191);
  /**
   * Approval messages the retry poll failed to post (the bot removed from the approvers channel, or the channel
   * archived): retried at most every 2 minutes at the default 5-second poll, soon after the channel is mended.
   */
  private readonly postRetries = new PollBackoff(23);
  /**
   * Decided requests whose approval message Slack did not rewrite (an outage, or more decisions at once than its
   * rate limit takes, as when many requests time out together), with the last decision: the poll tries again, so
   * no decided request keeps its Approve and Deny buttons. Retried as seldom as failed posts. The time kept is the
   * decision's, which a cancellation's message shows.
   */
  private readonly unrewritten = new Map<string, { decision: Decision; at: number }>();
  private readonly rewriteRetries = new PollBackoff(23);

  constructor(private readonly deps: NotifierDeps) {}

  subscribe(events: SandboxEvents): () => void {
    return events.on((event) => this.handle(event));
  }

  /** Handles one event; resolves when all its messages were attempted. Never rejects. */
  handle(event: SandboxEvent): Promise<void> {
    return this.perSandbox.run(event.sandbox.id, async () => {
      try {
        await this.dispatch(event);
      } catch (error) {
        this.deps.logger.error(
          { err: error, event: event.type, sandbox: event.sandbox.id },
          'notifier failed',
        );
      } finally {
        this.deps.onChange?.(event);
      }
    });
  }

  private async dispatch(event: SandboxEvent): Promise<void> {
    const { sandbox } = event;
    if (event.type === 'destroyFailed') return this.destroyFailed(event);
    if (event.type === 'destroyed') {
      this.destroyFailuresTold.delete(sandbox.id);
      this.destroyDelaysTold.delete(sandbox.id);
    }
    // The expiry warning's audit line says the owner was warned: it waits for the DM (see warnExpiring).
    const steps: Promise<unknown>[] = event.type === 'expiring' ? [] : [this.audit(event)];
    switch (event.type) {
      case 'requested':
        steps.push(this.postApprovalRequest(sandbox));
        if (sandbox.requestedBy !== sandbox.owner)
          steps.push(this.dm(sandbox.owner, renderRequestedForYouDm(sandbox)));
        break;
      case 'approved':
        steps.push(
          this.rewriteApproval(sandbox, 'approved'),
          this.dm(sandbox.owner, renderApprovedDm(sandbox, event.queuePosition)),
        );
        break;
      case 'denied':
        steps.push(this.rewriteApproval(sandbox, 'denied'), this.dm(sandbox.owner, renderDeniedDm(sandbox)));
        break;
      case 'cancelled':
        this.dockerWaitsTold.delete(sandbox.id);
        steps.push(
          this.rewriteApproval(sandbox, 'cancelled'),
          this.dm(sandbox.owner, renderCancelledDm(sandbox)),
        );
        break;
      case 'waitingForDocker':
        this.dockerWaitsTold.add(sandbox.id);
        steps.push(
          this.thread(sandbox, renderWaitingForDockerThread(sandbox)),
          this.dm(sandbox.owner, renderWaitingForDockerDm(sandbox)),
        );
        break;
      case 'creating':
        steps.push(this.thread(sandbox, renderCreatingThread(sandbox)));
        if (this.dockerWaitsTold.delete(sandbox.id))
          steps.push(this.dm(sandbox.owner, renderCreatingAfterWaitDm(sandbox)));
        break;
      case 'ready':
        steps.push(this.announceReady(sandbox, event.durationMs));
        break;
      case 'clusterStopped':
        steps.push(
          this.thread(sandbox, renderClusterStoppedThread(sandbox)),
          this.dm(sandbox.owner, renderClusterStoppedDm(sandbox)),
        );
        break;
      case 'clusterRunning':
        steps.push(
          this.thread(sandbox, renderClusterRunningThread(sandbox)),
          this.dm(sandbox.owner, renderClusterRunningDm(sandbox)),
        );
        break;
      case 'failed':
        steps.push(
          this.thread(sandbox, renderFailedThread(sandbox, event.detail)),
          this.dm(sandbox.owner, renderFailedDm(sandbox)),
        );
        break;
      case 'extended':
        steps.push(
          this.thread(sandbox, renderExtendedThread(sandbox, event.previousExpiresAt)),
          this.dm(sandbox.owner, renderExtendedDm(sandbox, event.previousExpiresAt)),
        );
        break;
      case 'expiring':
        steps.push(this.warnExpiring(event));
        break;
      case 'destroying':
        steps.push(this.thread(sandbox, renderDestroyingThread(sandbox)));
        break;
      case 'destroyed':
        steps.push(
          this.thread(sandbox, renderDestroyedThread(sandbox)),
          this.dm(sandbox.owner, renderDestroyedDm(sandbox)),
        );
        break;
      case 'testFinished': {
        const result = renderTestResult(sandbox, event.result);
        // Whoever ran the tests in Slack gets the result by DM as well: the thread is in the approvers' channel,
        // which they may not be in. Without a thread the owner gets it by DM.
        const toOwner = async () => event.actor === sandbox.owner || this.dm(sandbox.owner, result);
        steps.push(this.thread(sandbox, result, toOwner), this.dm(event.actor, result));
        break;
      }
    }
    await Promise.all(steps);
  }

  /** A failed delete attempt: told as `destroyFailuresTold` and `destroyDelaysTold` say. */
  private async destroyFailed(event: SandboxEvent & { type: 'destroyFailed' }): Promise<void> {
    const { sandbox } = event;
    const steps: Promise<unknown>[] = [];
    if (this.destroyFailuresTold.get(sandbox.id) !== event.error) {
      this.destroyFailuresTold.set(sandbox.id, event.error);
      steps.push(
        this.audit(event),
        this.thread(sandbox, renderDestroyFailedThread(event.attempt, event.error)),
      );
    }
    if (event.lastAttempt && !this.destroyDelaysTold.has(sandbox.id)) {
      this.destroyDelaysTold.add(sandbox.id);
      steps.push(this.dm(sandbox.owner, renderDestroyDelayedDm(sandbox)));
    }
    await Promise.all(steps);
  }

  // ---- the approval message --------------------------------------------------------------------------

  /**
   * Posts the approval message of every pending request that has none: requests filed by another process
   * (the MCP stdio server) and posts that failed while Slack was down. Runs in the lease holder only. A request
   * whose post fails here too (the bot removed from the channel) is told to its owner once.
   */
  async postMissingApprovalRequests(): Promise<void> {
    const pending = this.deps.service.list({ statuses: ['PENDING_APPROVAL'], limit: 100 });
    const unposted = pending.filter((s) => s.approvalMessage === null);
    this.postRetries.retain(new Set(unposted.map((s) => s.id)));
    await Promise.all(
      unposted
        .filter((s) => this.postRetries.due(s.id))
        .map((s) =>
          this.perSandbox.run(s.id, async () => {
            if ((await this.postApprovalRequest(s)) !== 'failed') return;
            // The owner was told it waits for approval: once the retry fails too, they hear it may wait for nothing.
            if (this.postRetries.failed(s.id) === 1)
              await this.dm(s.owner, renderApprovalPostFailedDm(s, this.deps.approversChannel));
          }),
        ),
    );
  }

  /**
   * Posts the approval message unless another process (or an earlier attempt) has claimed or posted it: `posted`,
   * `failed` (Slack did not take it), or undefined when there was nothing for this process to post.
   */
  private async postApprovalRequest(sandbox: Sandbox): Promise<'posted' | 'failed' | undefined> {
    if (!this.deps.service.claimApprovalPost(sandbox.id)) return undefined;
    const channel = this.deps.approversChannel;
    const message = renderApprovalRequest(sandbox, this.deps.service.approvalContext(sandbox));
    const posted = await this.post(
      { channel, ...message, unfurl_links: false },
      { sandbox: sandbox.id, purpose: 'approval request' },
    );
    try {
      if (posted?.ts && posted.channel) {
        this.deps.service.setApprovalMessage(sandbox.id, { channel: posted.channel, ts: posted.ts });
      } else {
        this.deps.service.releaseApprovalPost(sandbox.id);
      }
    } catch (error) {
      this.deps.logger.error({ err: error, sandbox: sandbox.id }, 'could not store the approval message');
    }
    return posted ? 'posted' : 'failed';
  }

  /**
   * Rewrites the approval message with the decision; the row is re-read for where it was posted. False when Slack
   * did not take it: it is then kept in `unrewritten` for the poll.
   */
  private async rewriteApproval(
    sandbox: Sandbox,
    decision: Decision,
    at = this.deps.clock.now(),
  ): Promise<boolean> {
    this.unrewritten.delete(sandbox.id);
    const where = this.whereIs(sandbox);
    if (!where) return true;
    const message = renderDecidedMessage(sandbox, decision, at);
    const updated = await this.deps.call(
      'chat.update',
      () => this.deps.client.chat.update({ channel: where.channel, ts: where.ts, ...message }),
      { sandbox: sandbox.id, purpose: decision },
    );
    if (!updated) this.unrewritten.set(sandbox.id, { decision, at });
    return updated !== undefined;
  }

  /** Rewrites again the approval messages Slack did not take (see `unrewritten`). Runs in the lease holder only. */
  async rewriteFailedApprovals(): Promise<void> {
    this.rewriteRetries.retain(new Set(this.unrewritten.keys()));
    await Promise.all(
      [...this.unrewritten.keys()]
        .filter((id) => this.rewriteRetries.due(id))
        .map((id) =>
          this.perSandbox.run(id, async () => {
            const failed = this.unrewritten.get(id);
            const sandbox = this.deps.service.get(id);
            if (!failed || !sandbox) return;
            if (!(await this.rewriteApproval(sandbox, failed.decision, failed.at)))
              this.rewriteRetries.failed(id);
          }),
        ),
    );
  }

  private whereIs(sandbox: Sandbox): { channel: string; ts: string } | undefined {
    return this.deps.service.get(sandbox.id)?.approvalMessage ?? sandbox.approvalMessage ?? undefined;
  }

  /** A reply in the approval message's thread; `otherwise` runs when there is no such message. */
  private async thread(
    sandbox: Sandbox,
    message: RenderedMessage,
    otherwise?: () => Promise<unknown>,
  ): Promise<void> {
    const where = this.whereIs(sandbox);
    if (!where) {
      await otherwise?.();
      return;
    }
    await this.post(
      { channel: where.channel, thread_ts: where.ts, ...message, unfurl_links: false },
      { sandbox: sandbox.id, purpose: 'thread' },
    );
  }

  private async audit(event: SandboxEvent): Promise<void> {
    const channel = this.deps.auditChannel;
    if (!channel) return;
    const text = renderAuditLine(event);
    await this.post(
      { channel, text, unfurl_links: false, unfurl_media: false },
      { sandbox: event.sandbox.id, purpose: 'audit' },
    );
  }

  /**
   * chat.postMessage, one at a time per conversation. Slack takes about one message a second per channel (short
   * bursts allowed) and answers 429 beyond that: a burst such as an expiry sweep's audit lines and thread replies
   * waits here and goes out as fast as Slack takes it, in order, instead of all at once and mostly refused.
   */
  private post(
    message: webApi.ChatPostMessageArguments,
    context: Record<string, unknown>,
  ): Promise<webApi.ChatPostMessageResponse | undefined> {
    return this.perChannel.run(message.channel, () =>
      this.deps.call('chat.postMessage', () => this.deps.client.chat.postMessage(message), context),
    );
  }

  // ---- direct messages ----------------------------------------------------------------------------------

  /**
   * The expiry warning DM, then its audit line. One Slack did not take is given back to the core, so the next
   * sweep tries again; an API owner has no DM to get.
   */
  private async warnExpiring(event: SandboxEvent & { type: 'expiring' }): Promise<void> {
    const { sandbox } = event;
    const message = renderExpiringDm(sandbox, this.deps.service.extensionMs(sandbox), this.deps.clock.now());
    if (await this.dm(sandbox.owner, message)) await this.audit(event);
    else if (isSlackUser(sandbox.owner)) this.deps.service.expiryWarningFailed(sandbox.id, sandbox.expiresAt);
  }

  private async openDm(userId: string): Promise<string | undefined> {
    const known = this.dmChannels.get(userId);
    if (known) return known;
    const opened = await this.deps.call('conversations.open', () =>
      this.deps.client.conversations.open({ users: userId }),
    );
    const id = opened?.channel?.id;
    if (id) this.dmChannels.set(userId, id);
    return id;
  }

  /** A DM to a Slack user; API identities (`api:…`) have no DM and are skipped. */
  async dm(userId: string, message: RenderedMessage): Promise<boolean> {
    if (!isSlackUser(userId)) return false;
    const channel = await this.openDm(userId);
    if (!channel) return false;
    const posted = await this.post(
      { channel, ...message, unfurl_links: false },
      { user: userId, purpose: 'dm' },
    );
    return posted !== undefined;
  }

  /**
   * Uploads a kubeconfig as a file into the user's DM (never a channel or thread). The content is passed
   * straight to the upload and is not logged, not even when the upload fails.
   */
  async sendKubeconfig(
    userId: string,
    sandbox: Sandbox,
    kubeconfig: string,
    resent: boolean,
  ): Promise<boolean> {
    if (!isSlackUser(userId)) return false;
    const channel = await this.openDm(userId);
    if (!channel) return false;
    const filename = kubeconfigFilename(sandbox);
    const uploaded = await this.deps.call(
      'files.uploadV2',
      () =>
        this.deps.client.files.uploadV2({
          channel_id: channel,
          file: Buffer.from(kubeconfig, 'utf8'),
          filename,
          title: filename,
          initial_comment: renderKubeconfigComment(sandbox, resent),
        }),
      { user: userId, sandbox: sandbox.id, purpose: 'kubeconfig' },
    );
    return uploaded !== undefined;
  }

  /**
   * Retries kubeconfig DMs that did not go out (Slack was down, or the bot stopped between `ready` and the
   * upload). Runs in the lease holder only; the claim makes sure one process sends each.
   */
  async deliverMissingKubeconfigs(): Promise<void> {
    const undelivered = this.deps.service.undeliveredKubeconfigs();
    this.deliveryRetries.retain(new Set(undelivered.map((s) => s.id)));
    await Promise.all(
      undelivered
        .filter((s) => this.deliveryRetries.due(s.id))
        .map((s) =>
          this.perSandbox.run(s.id, async () => {
            const delivery = await this.deliverKubeconfig(s);
            if (delivery === 'failed') this.deliveryRetries.failed(s.id);
            if (delivery === 'sent') await this.thread(s, renderKubeconfigSentThread(s));
          }),
        ),
    );
  }

  /**
   * On `ready`: the thread says so at once (a crash during the upload must not lose that line) while the
   * kubeconfig goes to its owner; a second line says how that ended, and a failed upload is told to the owner.
   */
  private async announceReady(sandbox: Sandbox, durationMs: number): Promise<void> {
    const ready = this.thread(sandbox, renderReadyThread(sandbox, durationMs));
    const delivery = await this.deliverKubeconfig(sandbox);
    await ready; // the outcome follows the ready line
    if (delivery === 'sent') await this.thread(sandbox, renderKubeconfigSentThread(sandbox));
    if (delivery !== 'failed') return;
    await Promise.all([
      this.thread(sandbox, renderKubeconfigFailedThread(sandbox)),
      this.dm(sandbox.owner, renderKubeconfigFailedDm(sandbox)),
    ]);
  }

  /**
   * The owner's kubeconfig by DM, read through the core (which audits the read, never the content): `sent`,
   * `failed` (retried later), or undefined when there is nothing for this process to send.
   */
  private async deliverKubeconfig(sandbox: Sandbox): Promise<'sent' | 'failed' | undefined> {
    const { service, logger } = this.deps;
    // API identities cannot be DMed: they fetch the kubeconfig themselves, so there is nothing to deliver.
    if (!isSlackUser(sandbox.owner)) {
      service.finishKubeconfigDelivery(sandbox.id, true);
      return undefined;
    }
    if (!service.claimKubeconfigDelivery(sandbox.id)) return undefined;
    let kubeconfig: string;
    try {
      kubeconfig = service.kubeconfig(SYSTEM_ACTOR, sandbox.id, 'slack-dm');
    } catch (error) {
      // Destroyed or failed before the DM went out: there is nothing to deliver.
      logger.warn({ sandbox: sandbox.id, err: (error as Error).message }, 'kubeconfig not delivered');
      return undefined;
    }
    const fresh = service.get(sandbox.id) ?? sandbox;
    const sent = await this.sendKubeconfig(sandbox.owner, fresh, kubeconfig, false);
    service.finishKubeconfigDelivery(sandbox.id, sent);
    return sent ? 'sent' : 'failed';
  }
}
