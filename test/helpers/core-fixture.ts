import { openDatabase } from '../../src/adapters/db/open-database.js';
import { createSandboxStore } from '../../src/adapters/db/sandbox-store.js';
import { createVault } from '../../src/adapters/vault/vault.js';
import { type SandboxEvent, SandboxEvents } from '../../src/core/events.js';
import type { Actor } from '../../src/core/policy.js';
import {
  ClusterError,
  type ClusterInfo,
  type ClusterRuntime,
  type CreateClusterSpec,
  type Logger,
} from '../../src/core/ports.js';
import { Provisioner, type ProvisionerOptions } from '../../src/core/provisioner.js';
import { SandboxService, type SandboxServiceOptions } from '../../src/core/sandbox-service.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that keeps the messages of its warnings and errors, for tests that assert what was said. */
export function recordingLogger() {
  const warnings: string[] = [];
  const errors: string[] = [];
  /** Every line at every level with its fields, as logged: for checking that no secret is. */
  const logged: string[] = [];
  const record =
    (level: string, into: string[] = []) =>
    (fields: object, message?: string) => {
      into.push(message ?? '');
      logged.push(`${level} ${message} ${JSON.stringify(fields)}`);
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn', warnings),
    error: record('error', errors),
  };
  return { logger, warnings, errors, logged };
}

export const alice: Actor = { id: 'U0ALICE', isApprover: false, isAdmin: false };
export const bob: Actor = { id: 'U0BOB', isApprover: true, isAdmin: false };
export const carol: Actor = { id: 'U0CAROL', isApprover: true, isAdmin: false };
export const admin: Actor = { id: 'U0ADMIN', isApprover: false, isAdmin: true };

export const testOptions: SandboxServiceOptions = {
  clusterPrefix: 'sbx-',
  maxServers: 3,
  maxAgents: 3,
  defaultTtlMs: 2 * 3_600_000,
  maxTtlMs: 24 * 3_600_000,
  maxLifetimeMs: 72 * 3_600_000,
  maxPerUser: 3,
  maxTotal: 20,
  extendByMs: 3_600_000,
  allowSelfApproval: false,
  apiPortRange: { from: 6550, to: 6560 },
};

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public current = Date.UTC(2026, 10, 24, 9, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** An in-memory ClusterRuntime: creates succeed unless told otherwise, and every call is recorded. */
export class MemoryRuntime implements ClusterRuntime {
  readonly clusters = new Map<string, CreateClusterSpec>();
  readonly calls: string[] = [];
  /** Clusters whose network or volume is left although the cluster is gone. */
  readonly leftoverNames = new Set<string>();
  failCreate: ClusterError | undefined;
  failDeletes = 0;
  /** Clusters made by hand, not by the bot (listed as not `ours`). */
  readonly foreign = new Set<string>();
  /** Clusters whose create was cut short after the servers: agents and load balancer listed as not running. */
  readonly halfStarted = new Set<string>();
  createDelayMs = 0;
  running = 0;
  maxRunning = 0;

  async create(spec: CreateClusterSpec): Promise<void> {
    this.calls.push(`create ${spec.clusterName}`);
    this.halfStarted.delete(spec.clusterName);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      this.clusters.set(spec.clusterName, spec);
      if (this.createDelayMs) await new Promise((r) => setTimeout(r, this.createDelayMs));
      if (this.failCreate) throw this.failCreate;
    } finally {
      this.running--;
    }
  }
  async kubeconfig(name: string): Promise<string> {
    this.calls.push(`kubeconfig ${name}`);
    return `apiVersion: v1\nclusters:\n- name: k3d-${name}\nusers:\n- user:\n    client-key-data: SECRETKEY-${name}\n`;
  }
  async delete(name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    this.halfStarted.delete(name);
    if (this.failDeletes > 0) {
      this.failDeletes--;
      throw new ClusterError(`deleting ${name} failed: still there`, '');
    }
    this.clusters.delete(name);
  }
  async list(): Promise<ClusterInfo[]> {
    return [...this.clusters.values()].map((c) => ({
      name: c.clusterName,
      serversRunning: c.servers,
      serversCount: c.servers,
      agentsRunning: this.halfStarted.has(c.clusterName) ? 0 : c.agents,
      agentsCount: c.agents,
      loadBalancerRunning: !this.halfStarted.has(c.clusterName),
      ours: !this.foreign.has(c.clusterName),
    }));
  }
  async leftovers(): Promise<string[]> {
    return [...new Set([...this.clusters.keys(), ...this.leftoverNames])].sort();
  }
  async removeLeftovers(name: string): Promise<boolean> {
    this.calls.push(`removeLeftovers ${name}`);
    this.leftoverNames.delete(name);
    return true;
  }
}

/** The real service over a real in-memory SQLite database with the real migrations. */
export function createCoreFixture(options: Partial<SandboxServiceOptions> = {}, file = ':memory:') {
  const db = openDatabase(file);
  const clock = new ManualClock();
  const store = createSandboxStore(db, () => clock.now());
  const events = new SandboxEvents(silentLogger);
  const seen: SandboxEvent[] = [];
  events.on((e) => {
    seen.push(e);
  });
  const vault = createVault(Buffer.alloc(32, 7));
  const service = new SandboxService({
    store,
    events,
    clock,
    vault,
    options: { ...testOptions, ...options },
  });
  return { db, clock, store, events, seen, vault, service };
}

/** The core fixture plus an in-memory runtime and a (not yet started) provisioner working it. */
export function createProvisionerFixture(options: ProvisionerOptions = { concurrency: 2 }) {
  const fixture = createCoreFixture({ maxPerUser: 10 });
  const runtime = new MemoryRuntime();
  const provisioner = new Provisioner({
    service: fixture.service,
    runtime,
    events: fixture.events,
    logger: silentLogger,
    clock: fixture.clock,
    options: { destroyBackoffMs: 1, ...options },
  });
  const requestApproved = (name: string, ttl = '1h') => {
    const s = fixture.service.request(alice, { name, ttl }, { via: 'slack' });
    return fixture.service.approve(bob, s.id);
  };
  return { ...fixture, runtime, provisioner, requestApproved };
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 5000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
