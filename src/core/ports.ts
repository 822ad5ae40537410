import type { TestResultSummary } from './events.js';
import type { Sandbox, SandboxStatus } from './sandbox.js';

/** The interfaces the core needs from the outside world. Each is small enough to fake in a screen. */

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** An append-only record of who did what. `details` must never hold a secret. */
export interface AuditEvent {
  at: number;
  actor: string;
  action: string;
  sandboxId: string | null;
  details: Record<string, unknown>;
}

export interface NewSandbox extends Omit<Sandbox, 'status'> {
  status: 'PENDING_APPROVAL';
}

/** Fields that a transition may change together with the status. */
export type SandboxPatch = Partial<
  Pick<
    Sandbox,
    | 'decidedAt'
    | 'decidedBy'
    | 'decisionNote'
    | 'creatingAt'
    | 'readyAt'
    | 'expiresAt'
    | 'destroyedAt'
    | 'warnedForExpiresAt'
    | 'failureReason'
    | 'destroyReason'
    | 'createAttempts'
    | 'apiPort'
    | 'approvalMessage'
  >
>;

export interface ListFilter {
  owner?: string;
  /** Only sandboxes this actor owns or asked for (applied before `limit`). */
  ownedOrAskedBy?: string;
  name?: string;
  statuses?: readonly SandboxStatus[];
  limit?: number;
}

export interface SandboxStore {
  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE), so reads and writes inside it see one state. */
  transaction<T>(fn: () => T): T;
  insert(sandbox: NewSandbox): Sandbox;
  get(id: string): Sandbox | undefined;
  getByApprovalId(approvalId: string): Sandbox | undefined;
  /** The sandbox with this name that is not in a final state, if any. */
  findCurrentByName(name: string): Sandbox | undefined;
  /** Newest first. */
  list(filter: ListFilter): Sandbox[];
  /** Rows in `statuses`; with `ownedOrAskedBy`, only those that actor owns or asked for. */
  count(filter: { ownedOrAskedBy?: string; statuses: readonly SandboxStatus[] }): number;
  /** Requests filed after `since` (exclusive) that `who` owns or asked for, in any state. */
  countRequestedSince(who: string, since: number): number;
  countByStatus(): Record<SandboxStatus, number>;
  /**
   * Compare-and-set: applies `patch` (and `to`, when given) only while the row is in one of `from` (and, when
   * `createAttempt` is given, still in that create attempt). Returns the updated sandbox, or undefined when not.
   */
  transition(
    id: string,
    from: readonly SandboxStatus[],
    to: SandboxStatus | null,
    patch: SandboxPatch,
    createAttempt?: number,
  ): Sandbox | undefined;
  /** QUEUED sandboxes in approval order, oldest first. */
  queued(limit: number): Sandbox[];
  /** API ports held by sandboxes whose cluster may exist. */
  portsInUse(): Set<number>;
  /**
   * The ACTIVE sandboxes expiring after `after` and by `until` not yet warned for that expiry, soonest first, as
   * the store's row keys: opaque numbers for `claimExpiryWarnings`.
   */
  dueExpiryWarnings(after: number, until: number): number[];
  /** Marks the warning sent for those `rows` still ACTIVE, still due (as above) and not warned; returns them. */
  claimExpiryWarnings(rows: readonly number[], after: number, until: number): Sandbox[];
  /** Moves up to `limit` ACTIVE sandboxes expired at `at` to DESTROYING with the reason "expired". */
  startExpiry(at: number, limit: number): Sandbox[];
  /**
   * Cancels up to `limit` PENDING_APPROVAL requests filed at or before `before`, oldest first, decided by
   * "system" with `note`.
   */
  cancelPendingBefore(before: number, note: string, limit: number): Sandbox[];
  /**
   * Claims the posting of a pending request's approval message: true for exactly one caller until the
   * message is stored, the claim is released, or the claim is older than `staleBefore` (a crashed poster).
   */
  claimApprovalPost(id: string, now: number, staleBefore: number): boolean;
  releaseApprovalPost(id: string): void;
  /** Like claimApprovalPost, for the kubeconfig DM of an ACTIVE sandbox that has not been delivered. */
  claimKubeconfigDelivery(id: string, now: number, staleBefore: number): boolean;
  /** Ends a delivery claim: delivered (`sentAt`) or to be tried again (null). */
  finishKubeconfigDelivery(id: string, sentAt: number | null): void;
  /** ACTIVE sandboxes whose kubeconfig DM has not been delivered, longest ready first. */
  undeliveredKubeconfigs(limit: number): Sandbox[];
  setKubeconfig(id: string, encrypted: string | null): void;
  getKubeconfig(id: string): string | undefined;
  /** One stored kubeconfig ciphertext, if any is stored: what an encryption key must open. */
  anyKubeconfig(): string | undefined;
  saveTestResult(sandboxId: string, result: TestResultSummary): void;
  getTestResult(sandboxId: string): TestResultSummary | undefined;
  appendAudit(event: AuditEvent): void;
  listAudit(filter: { sandboxId?: string; limit?: number }): AuditEvent[];
}

/** What `k3d cluster list` tells about one cluster. */
export interface ClusterInfo {
  name: string;
  serversRunning: number;
  serversCount: number;
  agentsRunning: number;
  agentsCount: number;
  /** The load balancer, which publishes the API port, is running (k3d starts it last). */
  loadBalancerRunning: boolean;
  /** This bot created it (its nodes carry the bot's label); one made by hand, even with the prefix, is not. */
  ours: boolean;
}

export interface CreateClusterSpec {
  clusterName: string;
  servers: number;
  agents: number;
  apiPort: number;
}

/** The container runtime that makes clusters (k3d on Docker). Every method is safe to call again. */
export interface ClusterRuntime {
  /** Creates the cluster and returns when k3d reports it created; throws ClusterError on failure or timeout. */
  create(spec: CreateClusterSpec): Promise<void>;
  /** The admin kubeconfig YAML of a cluster. Secret: never log it. */
  kubeconfig(clusterName: string): Promise<string>;
  /**
   * Deletes the cluster and confirms it is gone; deleting a missing cluster succeeds. Then removes its
   * leftovers; failing that is logged and counted, not thrown (the cluster is gone), and `removeLeftovers`
   * retries it later.
   */
  delete(clusterName: string): Promise<void>;
  /** Clusters that exist now, ours or not. */
  list(): Promise<ClusterInfo[]>;
  /**
   * Names of clusters, ours or not, listed or not, for which the container runtime still holds a network or
   * volume: what a failed rollback, a killed create or a failed cleanup leaves behind.
   */
  leftovers(): Promise<string[]>;
  /**
   * Removes the leftovers of a cluster that is not listed; true when none are left. A failure to remove them
   * is logged and counted, not thrown.
   */
  removeLeftovers(clusterName: string): Promise<boolean>;
}

/**
 * An error from the cluster runtime with a short reason fit for a user, and the tool's own output tail. `kind`
 * `docker_down`: the container runtime could not be reached before anything was made.
 */
export class ClusterError extends Error {
  constructor(
    message: string,
    readonly detail: string,
    readonly kind: 'failed' | 'timeout' | 'port_in_use' | 'unavailable' | 'docker_down' = 'failed',
  ) {
    super(message);
    this.name = 'ClusterError';
  }
}

/** Encrypts secrets at rest. */
export interface Vault {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
}

/** Runs a named smoke-test suite against a cluster, given its kubeconfig. Never throws for a failing step. */
export interface SmokeTester {
  /** The suites that can be asked for (built-in first). */
  suites(): string[];
  run(input: { sandbox: Sandbox; kubeconfig: string; suite: string }): Promise<TestResultSummary>;
}
