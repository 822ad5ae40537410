import type { Actor } from '../../core/policy.js';
import type { Logger } from '../../core/ports.js';

export interface ActorResolverOptions {
  /** SLACK_APPROVERS */
  approvers: readonly string[];
  /** SLACK_APPROVER_GROUP: its members are approvers too. */
  approverGroup: string | undefined;
  /** SLACK_ADMINS */
  admins: readonly string[];
  /** Fetches the members of a user group (usergroups.users.list): none once it is gone, undefined on a failure. */
  fetchGroupMembers: (groupId: string) => Promise<string[] | undefined>;
  logger: Logger;
}

/** Background refresh period. */
const REFRESH_EVERY_MS = 5 * 60_000;
/** A refresh kicked by a click is skipped when the last one is younger than this. */
const MIN_REFRESH_GAP_MS = 30_000;

/**
 * Turns a Slack user into the core's Actor without a network call, so listeners can decide before Slack's
 * 3-second deadline: approver-group membership comes from a cache that is refreshed in the background and
 * nudged after clicks. A failed refresh keeps the last known members.
 */
export class ActorResolver {
  private readonly approvers: ReadonlySet<string>;
  private readonly admins: ReadonlySet<string>;
  private groupMembers: ReadonlySet<string> = new Set();
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ActorResolverOptions) {
    this.approvers = new Set(options.approvers);
    this.admins = new Set(options.admins);
  }

  resolve(userId: string): Actor {
    return {
      id: userId,
      isApprover: this.approvers.has(userId) || this.groupMembers.has(userId),
      isAdmin: this.admins.has(userId),
    };
  }

  /**
   * For a decision, after the ack: someone who is an approver only through the group (or not at all) is checked
   * against the group read now, so a member removed since the last read no longer approves and a new one need not
   * wait for the next read. Concurrent clicks share one call; a failed read keeps the last known members.
   */
  async resolveCurrent(userId: string): Promise<Actor> {
    if (this.options.approverGroup && !this.approvers.has(userId)) await this.refresh();
    return this.resolve(userId);
  }

  /** Loads the group now (awaited at start-up), then keeps refreshing it. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.options.approverGroup && !this.timer) {
      this.timer = setInterval(() => void this.refresh(), REFRESH_EVERY_MS);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fire-and-forget refresh after a request was answered, unless one ran recently. */
  refreshSoon(): void {
    if (Date.now() - this.lastRefresh >= MIN_REFRESH_GAP_MS) void this.refresh();
  }

  /** Re-reads the approver group; concurrent callers share one call. */
  refresh(): Promise<void> {
    const group = this.options.approverGroup;
    if (!group) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const members = await this.options.fetchGroupMembers(group);
        if (members) {
          this.groupMembers = new Set(members);
          this.options.logger.debug({ group, members: members.length }, 'approver group refreshed');
        }
      } catch (error) {
        this.options.logger.warn({ group, err: (error as Error).message }, 'approver group refresh failed');
      } finally {
        this.lastRefresh = Date.now();
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
