import { Conflict, Forbidden, InvalidInput, NotFound } from './errors.js';
import type { SandboxEvents, TestResultSummary } from './events.js';
import { type Actor, mayView, SYSTEM_ACTOR } from './policy.js';
import type { SandboxStore, SmokeTester } from './ports.js';
import { describeState, type SandboxService } from './sandbox-service.js';

export interface TestRunsDeps {
  service: SandboxService;
  store: SandboxStore;
  tester: SmokeTester;
  events: SandboxEvents;
}

/**
 * Smoke-test runs: who may start one, one at a time per sandbox, and what happens to the result (stored as
 * the sandbox's last result, audited, announced with a `testFinished` event).
 */
export class TestRuns {
  private readonly running = new Map<string, Promise<TestResultSummary>>();

  constructor(private readonly deps: TestRunsDeps) {}

  suites(): string[] {
    return this.deps.tester.suites();
  }

  /**
   * Starts a run: refuses unknown suites, strangers and a second concurrent run at once (it throws), and
   * otherwise returns the running result, which is stored, audited and announced when it settles.
   */
  start(actor: Actor, idOrApprovalId: string, suite = 'smoke'): { result: Promise<TestResultSummary> } {
    const { service, store, tester, events } = this.deps;
    const sandbox = service.get(idOrApprovalId);
    if (!sandbox) throw new NotFound(`Sandbox ${idOrApprovalId}`);
    if (!mayView(actor, sandbox)) {
      throw new Forbidden(`Only the owner of ${sandbox.name}, an approver or an admin may run its tests.`);
    }
    const suites = tester.suites();
    if (!suites.includes(suite)) {
      throw new InvalidInput(`There is no test suite "${suite}"; available: ${suites.join(', ')}.`);
    }
    if (this.running.has(sandbox.id)) {
      throw new Conflict(`A test run for ${sandbox.name} is already in progress; wait for its result.`);
    }
    if (sandbox.status !== 'ACTIVE') {
      throw new Conflict(`${sandbox.name} ${describeState(sandbox)}; only an active sandbox can be tested.`);
    }
    const kubeconfig = service.kubeconfig(SYSTEM_ACTOR, sandbox.id, `test:${suite} for ${actor.id}`);
    // The whole run, storing included, is tracked, so idle() can wait until its result is safely stored.
    const result = (async () => {
      await Promise.resolve(); // a tester that throws at once must not settle before the run is registered
      try {
        const summary = await tester.run({ sandbox, kubeconfig, suite });
        store.transaction(() => {
          store.saveTestResult(sandbox.id, summary);
          service.audit(actor, 'tested', sandbox, { suite, passed: summary.passed });
        });
        events.emit({
          type: 'testFinished',
          sandbox: service.get(sandbox.id) ?? sandbox,
          result: summary,
          actor: actor.id,
        });
        return summary;
      } finally {
        this.running.delete(sandbox.id);
      }
    })();
    this.running.set(sandbox.id, result);
    return { result };
  }

  /** Runs a suite and resolves with its result (see `start` for what is refused). */
  async run(actor: Actor, idOrApprovalId: string, suite = 'smoke'): Promise<TestResultSummary> {
    return this.start(actor, idOrApprovalId, suite).result;
  }

  /** Resolves when no run is in progress, its result stored (shutdown waits for this before closing the database). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  lastResult(sandboxId: string): TestResultSummary | undefined {
    return this.deps.store.getTestResult(sandboxId);
  }
}
