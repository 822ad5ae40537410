import { randomBytes } from 'node:crypto';
import { Conflict, Forbidden, InvalidInput, NotFound, QuotaExceeded } from './errors.js';
import type { SandboxEvent, SandboxEvents } from './events.js';
import { Outages } from './outages.js';
import {
  type Actor,
  assertMayDecide,
  assertMayManage,
  mayView,
  mayViewAll,
  type PolicyOptions,
  SYSTEM_ACTOR,
} from './policy.js';
import type { Clock, ListFilter, SandboxPatch, SandboxStore, Vault } from './ports.js';
import {
  describeIssues,
  formatDuration,
  LIVE_STATUSES,
  QUOTA_STATUSES,
  type RequestChannel,
  type Sandbox,
  type SandboxLimits,
  type SandboxSpecInput,
  type SandboxStatus,
  SLACK_USER_ID,
  sandboxSpecSchema,
} from './sandbox.js';

export interface SandboxServiceOptions extends SandboxLimits, PolicyOptions {
  maxPerUser: number;
  maxTotal: number;
  /**
   * Requests a user may file or be named in per hour, withdrawn and denied ones included: each one posts to the
   * approvers channel. Unset: no limit.
   */
  maxRequestsPerHour?: number;
  maxLifetimeMs: number;
  extendByMs: number;
  apiPortRange: { from: number; to: number };
}

export interface SandboxServiceDeps {
  store: SandboxStore;
  events: SandboxEvents;
  clock: Clock;
  vault: Vault;
  options: SandboxServiceOptions;
}

export interface RequestOptions {
  via: RequestChannel;
  /** The person the cluster is for, when the actor (an agent or script) asks on their behalf. */
  onBehalfOf?: string;
}

/** What an approver weighs besides the request itself: how much its owner already has, and how busy the bot is. */
export interface ApprovalContext {
  /** The owner's other live sandboxes (owned or asked for), against the per-user limit. */
  ownerLive: number;
  maxPerUser: number;
  /** Approved and waiting for a free slot, and being created. */
  queued: number;
  creating: number;
  /** Live sandboxes on the bot, pending requests included, against its limit. */
  live: number;
  maxTotal: number;
}

const newId = (prefix: string, bytes: number) => `${prefix}${randomBytes(bytes).toString('hex')}`;

const notIn = (sandbox: Sandbox, verb: string) => {
  const instead = verb === 'cancel' && sandbox.status === 'ACTIVE' ? '; destroy it instead' : '';
  return new Conflict(`Cannot ${verb} ${sandbox.name}: it ${describeState(sandbox)}${instead}.`);
};

/**
 * Refuses at once, before any write transaction, what the compare-and-set would refuse: a decision on a
 * request already decided (a second approver, or Slack redelivering a click) needs no write lock.
 */
function assertIn(sandbox: Sandbox, from: readonly SandboxStatus[], verb: string): void {
  if (!from.includes(sandbox.status)) throw notIn(sandbox, verb);
}

/** Human words for where a sandbox is now, used when an action loses a race or comes too late. */
export function describeState(s: Sandbox): string {
  // Whoever approved is worth naming in every later state: it is what a second approver needs to hear.
  const approved =
    s.decidedBy && s.decidedBy !== 'system' ? `was already approved by ${s.decidedBy} and ` : '';
  switch (s.status) {
    case 'PENDING_APPROVAL':
      return 'is waiting for approval';
    case 'QUEUED':
      return `${approved}is queued`;
    case 'CREATING':
      return `${approved}is being created`;
    case 'ACTIVE':
      return `${approved}is active`;
    case 'DESTROYING':
      return `${approved}is being destroyed`;
    case 'DESTROYED':
      return 'was already destroyed';
    case 'FAILED':
      return `failed${s.failureReason ? ` (${s.failureReason})` : ''}`;
    case 'DENIED':
      return `was already denied by ${s.decidedBy}`;
    case 'CANCELLED':
      return `was cancelled${s.decisionNote ? ` (${s.decisionNote})` : ''}`;
  }
}

/**
 * The use cases of the sandbox lifecycle. Every state change is a compare-and-set on the row with its audit
 * row in the same transaction; events go out only after the commit, so a lost race has no side effects.
 */
export class SandboxService {
  private readonly store: SandboxStore;
  private readonly events: SandboxEvents;
  private readonly clock: Clock;
  private readonly vault: Vault;
  readonly options: SandboxServiceOptions;
  /** What the provisioner found wrong outside the bot: the doors show it with a sandbox's state. */
  readonly outages: Outages;
  private readonly specSchema: ReturnType<typeof sandboxSpecSchema>;

  constructor(deps: SandboxServiceDeps) {
    this.store = deps.store;
    this.events = deps.events;
    this.clock = deps.clock;
    this.vault = deps.vault;
    this.options = deps.options;
    this.outages = new Outages(deps.events, deps.clock);
    this.specSchema = sandboxSpecSchema(deps.options);
  }

  /**
   * Files a request for approval. The name check and both quotas run in the insert's transaction; they run once
   * before it too, so that a refusal is answered from a read, without taking the database's write lock.
   */
  request(actor: Actor, input: SandboxSpecInput | Record<string, unknown>, options: RequestOptions): Sandbox {
    const parsed = this.specSchema.safeParse(input);
    if (!parsed.success) throw new InvalidInput(describeIssues(parsed.error));
    const spec = parsed.data;
    if (options.onBehalfOf !== undefined && !SLACK_USER_ID.test(options.onBehalfOf)) {
      throw new InvalidInput(`owner: must be a Slack user id like U0123ABCD, not "${options.onBehalfOf}"`);
    }
    const owner = options.onBehalfOf ?? actor.id;
    const now = this.clock.now();

    this.assertMayRequest(spec.name, owner, actor.id, now);
    const sandbox = this.store.transaction(() => {
      this.assertMayRequest(spec.name, owner, actor.id, now);
      const created = this.store.insert({
        id: newId('sb-', 4),
        approvalId: newId('ap-', 8),
        name: spec.name,
        clusterName: `${this.options.clusterPrefix}${spec.name}`,
        owner,
        requestedBy: actor.id,
        requestedVia: options.via,
        servers: spec.servers,
        agents: spec.agents,
        ttlMs: spec.ttl,
        reason: spec.reason || null,
        status: 'PENDING_APPROVAL',
        requestedAt: now,
        decidedAt: null,
        decidedBy: null,
        decisionNote: null,
        creatingAt: null,
        readyAt: null,
        expiresAt: null,
        destroyedAt: null,
        warnedForExpiresAt: null,
        failureReason: null,
        destroyReason: null,
        createAttempts: 0,
        apiPort: null,
        approvalMessage: null,
      });
      this.audit(actor, 'requested', created, {
        owner,
        via: options.via,
        servers: spec.servers,
        agents: spec.agents,
        ttl: formatDuration(spec.ttl),
      });
      return created;
    });
    this.emit({ type: 'requested', sandbox });
    return sandbox;
  }

  /**
   * Refuses a request whose name is taken by a live sandbox, or that a quota does not allow. The per-user quota
   * counts what a user owns or asked for, and holds for the owner and for the requester: a token filing for
   * others cannot take every slot of the bot by naming a new owner each time. So does the hourly limit, which
   * stops a request withdrawn and filed again, over and over, from flooding the approvers channel.
   */
  private assertMayRequest(name: string, owner: string, requester: string, now: number): void {
    const existing = this.store.findCurrentByName(name);
    // A caller asking again for what it asked for (a retry after a timeout) is pointed at its request: "pick
    // another name" would have it file a second one.
    if (existing?.requestedBy === requester) {
      throw new Conflict(
        `A sandbox named ${name} already exists: your own request ${existing.id}, which ${describeState(existing)}; use it (id ${existing.id}) rather than asking again, or pick another name for a second sandbox.`,
      );
    }
    if (existing) {
      throw new Conflict(
        `A sandbox named ${name} already exists (owned by ${existing.owner}, ${describeState(existing)}); pick another name.`,
      );
    }
    const perHour = this.options.maxRequestsPerHour;
    for (const who of owner === requester ? [owner] : [owner, requester]) {
      const theirs = this.store.count({ ownedOrAskedBy: who, statuses: QUOTA_STATUSES });
      if (theirs >= this.options.maxPerUser) {
        throw new QuotaExceeded(
          `${who} already has ${theirs} live sandboxes they own or asked for (the limit is ${this.options.maxPerUser}); destroy or cancel one first.`,
        );
      }
      if (perHour === undefined) continue;
      const recent = this.store.countRequestedSince(who, now - 3_600_000);
      if (recent >= perHour) {
        throw new QuotaExceeded(
          `${who} already filed or was named in ${recent} requests in the last hour (the limit is ${perHour}, withdrawn and denied ones included); try again later.`,
        );
      }
    }
    const total = this.store.count({ statuses: LIVE_STATUSES });
    if (total >= this.options.maxTotal) {
      throw new QuotaExceeded(
        `The bot is at its limit of ${this.options.maxTotal} live sandboxes; try again when one has been destroyed.`,
      );
    }
  }

  /**
   * Approves a pending request (by sandbox id or approval id) and queues it for creation. `auditDetails` adds
   * door-specific facts to the audit row (e.g. the `approver` a REST caller named); never a secret.
   */
  approve(actor: Actor, idOrApprovalId: string, auditDetails: Record<string, unknown> = {}): Sandbox {
    const current = this.require(idOrApprovalId);
    assertMayDecide(actor, current, this.options, 'approve');
    assertIn(current, ['PENDING_APPROVAL'], 'approve');
    const now = this.clock.now();
    const { sandbox, queuePosition } = this.store.transaction(() => {
      const updated = this.transitionOrExplain(current, ['PENDING_APPROVAL'], 'QUEUED', 'approve', {
        decidedAt: now,
        decidedBy: actor.id,
      });
      // Just approved, it is the newest in the queue: its position is the queue's length.
      const position = this.store.count({ statuses: ['QUEUED'] });
      this.audit(actor, 'approved', updated, { ...auditDetails, waitedMs: now - updated.requestedAt });
      return { sandbox: updated, queuePosition: position };
    });
    this.emit({ type: 'approved', sandbox, queuePosition });
    return sandbox;
  }

  deny(actor: Actor, idOrApprovalId: string, reason: string): Sandbox {
    const current = this.require(idOrApprovalId);
    assertMayDecide(actor, current, this.options, 'deny');
    assertIn(current, ['PENDING_APPROVAL'], 'deny');
    const note = reason.trim().slice(0, 500) || null;
    const sandbox = this.store.transaction(() => {
      const updated = this.transitionOrExplain(current, ['PENDING_APPROVAL'], 'DENIED', 'deny', {
        decidedAt: this.clock.now(),
        decidedBy: actor.id,
        decisionNote: note,
      });
      this.audit(actor, 'denied', updated, { reason: note });
      return updated;
    });
    this.emit({ type: 'denied', sandbox });
    return sandbox;
  }

  /** Withdraws a request that has no cluster yet. The system uses it for approval timeouts. */
  cancel(actor: Actor, idOrApprovalId: string, note = 'cancelled by the requester'): Sandbox {
    const current = this.require(idOrApprovalId);
    assertMayManage(actor, current, 'cancel');
    const sandbox = this.store.transaction(() => {
      const updated = this.transitionOrExplain(
        current,
        ['PENDING_APPROVAL', 'QUEUED'],
        'CANCELLED',
        'cancel',
        {
          decidedAt: current.decidedAt ?? this.clock.now(),
          decidedBy: current.decidedBy ?? actor.id,
          decisionNote: note,
        },
      );
      this.audit(actor, 'cancelled', updated, { note });
      return updated;
    });
    this.emit({ type: 'cancelled', sandbox, actor: actor.id });
    return sandbox;
  }

  /**
   * Pushes the expiry of an ACTIVE sandbox out, never past its maximum lifetime. Re-arms the expiry warning.
   * An amount asked for is given in full or refused; the usual extension (no amount) gives what the cap leaves.
   */
  extend(actor: Actor, idOrApprovalId: string, byMs?: number): Sandbox {
    const current = this.require(idOrApprovalId);
    assertMayManage(actor, current, 'extend');
    if (byMs !== undefined && (!Number.isInteger(byMs) || byMs < 60_000 || byMs > this.options.maxTtlMs)) {
      throw new InvalidInput(`An extension must be between 1m and ${formatDuration(this.options.maxTtlMs)}.`);
    }
    const { sandbox, previous } = this.store.transaction(() => {
      const fresh = this.require(current.id);
      if (fresh.status !== 'ACTIVE' || fresh.expiresAt === null || fresh.readyAt === null) {
        throw new Conflict(`${fresh.name} ${describeState(fresh)}; only an active sandbox can be extended.`);
      }
      const cap = fresh.readyAt + this.options.maxLifetimeMs;
      // Past its expiry but not yet reaped (the sweep runs each minute): the extension counts from now.
      const from = Math.max(fresh.expiresAt, this.clock.now());
      const by = byMs ?? this.extensionMs(fresh);
      if (by === 0 || from + by > cap) {
        const left =
          cap - from < 60_000
            ? 'it cannot be extended further'
            : `${formatDuration(cap - from)} of extension is left`;
        throw new QuotaExceeded(
          `${fresh.name} cannot live past its maximum lifetime of ${formatDuration(this.options.maxLifetimeMs)}, ` +
            `reached at ${new Date(cap).toISOString()}; ${left}.`,
        );
      }
      const wanted = from + by;
      const updated = this.transitionOrExplain(fresh, ['ACTIVE'], null, 'extend', { expiresAt: wanted });
      this.audit(actor, 'extended', updated, { byMs: by, expiresAt: new Date(wanted).toISOString() });
      return { sandbox: updated, previous: fresh.expiresAt };
    });
    this.emit({ type: 'extended', sandbox, previousExpiresAt: previous, actor: actor.id });
    return sandbox;
  }

  /**
   * The usual extension (SANDBOX_EXTEND_BY) of an active sandbox, shortened to what its maximum lifetime leaves;
   * 0 when that is under the 1-minute minimum of an extension.
   */
  extensionMs(sandbox: Sandbox): number {
    if (sandbox.readyAt === null || sandbox.expiresAt === null) return 0;
    const left = sandbox.readyAt + this.options.maxLifetimeMs - Math.max(sandbox.expiresAt, this.clock.now());
    return left < 60_000 ? 0 : Math.min(this.options.extendByMs, left);
  }

  /**
   * Destroys a sandbox: an ACTIVE one goes DESTROYING (the provisioner deletes the cluster), a request that
   * has no cluster yet is cancelled. Destroying what is already gone is refused with its state.
   */
  destroy(actor: Actor, idOrApprovalId: string, reason = 'destroyed by its owner'): Sandbox {
    const current = this.require(idOrApprovalId);
    assertMayManage(actor, current, 'destroy');
    if (current.status === 'PENDING_APPROVAL' || current.status === 'QUEUED') {
      return this.cancel(actor, current.id, reason);
    }
    if (current.status === 'CREATING') {
      throw new Conflict(`${current.name} is being created; destroy it once it is active (or it fails).`);
    }
    return this.beginDestroy(actor, current, reason);
  }

  private beginDestroy(actor: Actor, current: Sandbox, reason: string): Sandbox {
    const sandbox = this.store.transaction(() => {
      const updated = this.transitionOrExplain(current, ['ACTIVE'], 'DESTROYING', 'destroy', {
        destroyReason: reason,
      });
      this.audit(actor, 'destroy_requested', updated, { reason });
      return updated;
    });
    this.emit({ type: 'destroying', sandbox, actor: actor.id });
    return sandbox;
  }

  /** A sandbox for someone who may see it: its owner, whoever asked for it, approvers and admins. */
  view(actor: Actor, idOrApprovalId: string): Sandbox {
    const sandbox = this.require(idOrApprovalId);
    if (!mayView(actor, sandbox)) {
      throw new Forbidden(
        `Only the owner of ${sandbox.name}, whoever asked for it, approvers and admins may see it.`,
      );
    }
    return sandbox;
  }

  /** `list`, narrowed to the sandboxes the actor may see (in SQL, so a limit counts only those). */
  listVisible(actor: Actor, filter: ListFilter = {}): Sandbox[] {
    return this.store.list(mayViewAll(actor) ? filter : { ...filter, ownedOrAskedBy: actor.id });
  }

  /** The approval context of a request, as things are now. */
  approvalContext(sandbox: Sandbox): ApprovalContext {
    const owned = this.store.count({ ownedOrAskedBy: sandbox.owner, statuses: QUOTA_STATUSES });
    return {
      ownerLive: QUOTA_STATUSES.includes(sandbox.status) ? owned - 1 : owned,
      maxPerUser: this.options.maxPerUser,
      queued: this.store.count({ statuses: ['QUEUED'] }),
      creating: this.store.count({ statuses: ['CREATING'] }),
      live: this.store.count({ statuses: LIVE_STATUSES }),
      maxTotal: this.options.maxTotal,
    };
  }

  get(idOrApprovalId: string): Sandbox | undefined {
    return this.store.get(idOrApprovalId) ?? this.store.getByApprovalId(idOrApprovalId);
  }

  /** The current sandbox with this name, or else the most recent one that had it. */
  getByName(name: string): Sandbox | undefined {
    return this.store.findCurrentByName(name) ?? this.store.list({ name, limit: 1 })[0];
  }

  list(filter: ListFilter = {}): Sandbox[] {
    return this.store.list(filter);
  }

  /** The kubeconfig of an ACTIVE sandbox, for its owner or an admin. The read is audited, the content never. */
  kubeconfig(actor: Actor, idOrApprovalId: string, purpose = 'read'): string {
    const sandbox = this.require(idOrApprovalId);
    if (!actor.isAdmin && actor.id !== sandbox.owner) {
      throw new Forbidden(`Only the owner of ${sandbox.name} or an admin may fetch its kubeconfig.`);
    }
    const encrypted = sandbox.status === 'ACTIVE' ? this.store.getKubeconfig(sandbox.id) : undefined;
    if (!encrypted)
      throw new Conflict(
        `${sandbox.name} ${describeState(sandbox)}; a kubeconfig exists only while it is active.`,
      );
    this.store.transaction(() => this.audit(actor, 'kubeconfig_read', sandbox, { purpose }));
    return this.vault.decrypt(encrypted);
  }

  // ------------------------------------------------------------------------------------------
  // The provisioner's and the jobs' side

  /** Moves the oldest QUEUED sandbox to CREATING with a free API port; undefined when nothing is queued. */
  claimNextQueued(avoidPorts: ReadonlySet<number> = new Set()): Sandbox | undefined {
    // Nothing queued, the usual answer to the 5 s poll, is read without taking the write lock.
    if (this.store.queued(1).length === 0) return undefined;
    const claimed = this.store.transaction(() => {
      const [next] = this.store.queued(1);
      if (!next) return undefined;
      const port = this.freePort(avoidPorts);
      if (port === undefined) return undefined;
      const updated = this.store.transition(next.id, ['QUEUED'], 'CREATING', {
        creatingAt: this.clock.now(),
        apiPort: port,
        createAttempts: next.createAttempts + 1,
      });
      if (!updated) return undefined;
      this.audit(SYSTEM_ACTOR, 'creating', updated, { apiPort: port, attempt: updated.createAttempts });
      return updated;
    });
    if (claimed) this.emit({ type: 'creating', sandbox: claimed });
    return claimed;
  }

  private freePort(avoid: ReadonlySet<number>): number | undefined {
    const used = this.store.portsInUse();
    for (let port = this.options.apiPortRange.from; port <= this.options.apiPortRange.to; port++) {
      if (!used.has(port) && !avoid.has(port)) return port;
    }
    return undefined;
  }

  /**
   * The create attempts that end a CREATING row (markReady, requeue, markFailed) name the attempt they ran
   * (`createAttempts` when it was claimed): one that another process has since taken over changes nothing.
   */
  isCreateAttempt(id: string, attempt: number): boolean {
    const current = this.store.get(id);
    return current?.status === 'CREATING' && current.createAttempts === attempt;
  }

  /** Records a finished create; undefined when the row is no longer CREATING in that attempt. */
  markReady(id: string, kubeconfig: string, durationMs: number, attempt?: number): Sandbox | undefined {
    const now = this.clock.now();
    const sandbox = this.store.transaction(() => {
      const current = this.require(id);
      const patch = { readyAt: now, expiresAt: now + current.ttlMs, failureReason: null };
      const updated = this.store.transition(id, ['CREATING'], 'ACTIVE', patch, attempt);
      if (!updated) return undefined;
      this.store.setKubeconfig(id, this.vault.encrypt(kubeconfig));
      this.audit(SYSTEM_ACTOR, 'ready', updated, {
        durationMs,
        expiresAt: new Date(now + current.ttlMs).toISOString(),
      });
      return updated;
    });
    if (sandbox) this.emit({ type: 'ready', sandbox, durationMs });
    return sandbox;
  }

  /** Whether an ACTIVE sandbox has no kubeconfig stored (they were cleared because the encryption key was lost). */
  lacksKubeconfig(sandbox: Sandbox): boolean {
    return sandbox.status === 'ACTIVE' && this.store.getKubeconfig(sandbox.id) === undefined;
  }

  /** Stores the kubeconfig read again from k3d for an ACTIVE sandbox that has none; false if it has one or is not ACTIVE. */
  restoreKubeconfig(id: string, kubeconfig: string): boolean {
    return this.store.transaction(() => {
      const current = this.store.get(id);
      if (!current || !this.lacksKubeconfig(current)) return false;
      this.store.setKubeconfig(id, this.vault.encrypt(kubeconfig));
      this.audit(SYSTEM_ACTOR, 'kubeconfig_restored', current);
      return true;
    });
  }

  /**
   * Records a failed create (CREATING, in `attempt` when given) or a vanished cluster (ACTIVE, no attempt).
   * `detail` is the tool's output tail.
   */
  markFailed(
    id: string,
    reason: string,
    detail: string | null = null,
    attempt?: number,
  ): Sandbox | undefined {
    const sandbox = this.store.transaction(() => {
      const from: SandboxStatus[] = attempt === undefined ? ['CREATING', 'ACTIVE'] : ['CREATING'];
      const patch = { failureReason: reason.slice(0, 500), destroyedAt: this.clock.now() };
      const updated = this.store.transition(id, from, 'FAILED', patch, attempt);
      if (!updated) return undefined;
      this.store.setKubeconfig(id, null);
      this.audit(SYSTEM_ACTOR, 'failed', updated, { reason: updated.failureReason });
      return updated;
    });
    if (sandbox) this.emit({ type: 'failed', sandbox, detail });
    return sandbox;
  }

  /**
   * Puts a CREATING sandbox back in the queue (after a port clash, or a create a crash interrupted). A create that
   * never started (`unstarted`: the Docker daemon did not answer) gives its attempt back, so an outage waited out
   * in the queue leaves the sandbox every retry a port clash or a crash may need.
   */
  requeue(id: string, why: string, attempt?: number, unstarted = false): Sandbox | undefined {
    const patch =
      unstarted && attempt !== undefined ? { apiPort: null, createAttempts: attempt - 1 } : { apiPort: null };
    return this.store.transaction(() => {
      const updated = this.store.transition(id, ['CREATING'], 'QUEUED', patch, attempt);
      if (updated) this.audit(SYSTEM_ACTOR, 'requeued', updated, { why });
      return updated;
    });
  }

  markDestroyed(id: string): Sandbox | undefined {
    const sandbox = this.store.transaction(() => {
      const updated = this.store.transition(id, ['DESTROYING'], 'DESTROYED', {
        destroyedAt: this.clock.now(),
      });
      if (!updated) return undefined;
      this.store.setKubeconfig(id, null);
      this.audit(SYSTEM_ACTOR, 'destroyed', updated, { reason: updated.destroyReason });
      return updated;
    });
    if (sandbox) this.emit({ type: 'destroyed', sandbox });
    return sandbox;
  }

  recordDestroyFailure(id: string, attempt: number, error: string, lastAttempt: boolean): void {
    const sandbox = this.require(id);
    this.store.transaction(() => this.audit(SYSTEM_ACTOR, 'destroy_failed', sandbox, { attempt, error }));
    this.emit({ type: 'destroyFailed', sandbox, attempt, error, lastAttempt });
  }

  /** The sandboxes in `status`, newest first: what the provisioner and the reconciler resume or check. */
  inStatus(status: SandboxStatus, limit = 1000): Sandbox[] {
    return this.store.list({ statuses: [status], limit });
  }

  // ------------------------------------------------------------------------------------------
  // Sweeps: each call changes a slice of the due rows, read through a partial index, and writes their audit
  // rows in ONE transaction, so a sweep costs what is due and not the size of the table. Events go out after
  // the commit.

  /**
   * The sandboxes whose owners are due a warning (they expire after `now` and by `until`, not warned yet), as
   * row keys. One already past its expiry is not warned: the reaper destroys it, and its owner hears that.
   */
  dueExpiryWarnings(now: number, until: number): number[] {
    return this.store.dueExpiryWarnings(now, until);
  }

  /**
   * Announces (event `expiring`) those `rows` still due a warning, once per expiry time: the warning is
   * recorded against the expiry it was for, so an extension (a new expiry) re-arms it.
   */
  sweepExpiryWarnings(rows: readonly number[], now: number, until: number): Sandbox[] {
    return this.sweep(() => this.store.claimExpiryWarnings(rows, now, until), 'expiry_warned', 'expiring');
  }

  /**
   * Gives back the expiry warning of `expiresAt` that did not reach the owner (Slack failed), so the next sweep
   * warns again; the audit trail records the failure. A warning already moved on (an extension) stays as it is.
   */
  expiryWarningFailed(id: string, expiresAt: number | null): void {
    this.store.transaction(() => {
      const current = this.require(id);
      if (expiresAt === null || current.warnedForExpiresAt !== expiresAt) return;
      const updated = this.store.transition(id, ['ACTIVE'], null, { warnedForExpiresAt: null });
      if (updated) this.audit(SYSTEM_ACTOR, 'expiry_warning_failed', updated, { retry: 'next sweep' });
    });
  }

  /** Starts destroying up to `limit` ACTIVE sandboxes whose expiry is at or before `now`. */
  sweepExpired(now: number, limit: number): Sandbox[] {
    return this.sweep(() => this.store.startExpiry(now, limit), 'destroy_requested', 'destroying');
  }

  /** Cancels up to `limit` requests filed at or before `before` that nobody decided. */
  sweepStaleRequests(before: number, note: string, limit: number): Sandbox[] {
    return this.sweep(() => this.store.cancelPendingBefore(before, note, limit), 'cancelled', 'cancelled');
  }

  private sweep(
    transition: () => Sandbox[],
    action: string,
    event: 'expiring' | 'destroying' | 'cancelled',
  ): Sandbox[] {
    const changed = this.store.transaction(() => {
      const rows = transition();
      for (const sandbox of rows) {
        this.audit(SYSTEM_ACTOR, action, sandbox, {
          expiresAt: sandbox.expiresAt === null ? null : new Date(sandbox.expiresAt).toISOString(),
          note: sandbox.destroyReason ?? sandbox.decisionNote,
        });
      }
      return rows;
    });
    for (const sandbox of changed) this.emit({ type: event, sandbox, actor: SYSTEM_ACTOR.id });
    return changed;
  }

  /**
   * Claims the posting of a request's approval message, so that of all processes (and the retry poll) exactly
   * one posts it. A claim not followed by `setApprovalMessage` within a minute may be taken again.
   */
  claimApprovalPost(id: string): boolean {
    const now = this.clock.now();
    return this.store.claimApprovalPost(id, now, now - 60_000);
  }

  /** Gives the claim back after a failed post, so the next poll tries again. */
  releaseApprovalPost(id: string): void {
    this.store.releaseApprovalPost(id);
  }

  /** Claims the delivery of a sandbox's kubeconfig DM (same rules as claimApprovalPost). */
  claimKubeconfigDelivery(id: string): boolean {
    const now = this.clock.now();
    return this.store.claimKubeconfigDelivery(id, now, now - 60_000);
  }

  /** Ends a delivery claim: `delivered` false gives it back for the next attempt. */
  finishKubeconfigDelivery(id: string, delivered: boolean): void {
    this.store.finishKubeconfigDelivery(id, delivered ? this.clock.now() : null);
  }

  /**
   * ACTIVE sandboxes whose owner does not have the kubeconfig DM yet. All of them: a cut-off at `now` would leave
   * out, after the wall clock stepped back, those that became ready in the time it stepped over.
   */
  undeliveredKubeconfigs(limit = 100): Sandbox[] {
    return this.store.undeliveredKubeconfigs(limit);
  }

  /** Remembers where the approval message was posted, so later changes rewrite it in place. */
  setApprovalMessage(id: string, message: { channel: string; ts: string }): void {
    this.store.transaction(() => {
      const current = this.require(id);
      this.store.transition(id, [current.status], null, { approvalMessage: message });
    });
  }

  audit(
    actor: Actor | string,
    action: string,
    sandbox: Sandbox | null,
    details: Record<string, unknown> = {},
  ): void {
    this.store.appendAudit({
      at: this.clock.now(),
      actor: typeof actor === 'string' ? actor : actor.id,
      action,
      sandboxId: sandbox?.id ?? null,
      details: sandbox ? { name: sandbox.name, status: sandbox.status, ...details } : details,
    });
  }

  // ------------------------------------------------------------------------------------------

  private require(idOrApprovalId: string): Sandbox {
    const sandbox = this.get(idOrApprovalId);
    if (!sandbox) throw new NotFound(`Sandbox ${idOrApprovalId}`);
    return sandbox;
  }

  /** The compare-and-set; when it loses, the error says what the sandbox is now and who made it so. */
  private transitionOrExplain(
    current: Sandbox,
    from: readonly SandboxStatus[],
    to: SandboxStatus | null,
    verb: string,
    patch: SandboxPatch,
  ): Sandbox {
    const updated = this.store.transition(current.id, from, to, patch);
    if (updated) return updated;
    throw notIn(this.store.get(current.id) ?? current, verb);
  }

  private emit(event: SandboxEvent): void {
    this.events.emit(event);
  }
}
