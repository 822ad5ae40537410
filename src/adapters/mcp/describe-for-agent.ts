import type { Sandbox } from '../../core/sandbox.js';
import { describeState } from '../../core/sandbox-service.js';

/** One line saying where a sandbox is, what holds it up if anything does, and what the agent can do next. */
export function describeForAgent(sandbox: Sandbox, problem?: string | null): string {
  const held = problem ? ` ${problem}.` : '';
  const head = `Sandbox ${sandbox.name} (${sandbox.id}) ${describeState(sandbox)} [${sandbox.status}].${held}`;
  switch (sandbox.status) {
    case 'PENDING_APPROVAL':
      return `${head} A human approver must approve it (in Slack); there is no tool to approve. Call wait_for_sandbox with sandbox_id "${sandbox.id}" to wait until it is ACTIVE.`;
    case 'QUEUED':
    case 'CREATING':
      return `${head} Call wait_for_sandbox with sandbox_id "${sandbox.id}" to wait until it is ACTIVE.`;
    case 'ACTIVE':
      return `${head} It expires at ${new Date(sandbox.expiresAt ?? 0).toISOString()}; get_kubeconfig gives access, run_test checks it, extend_sandbox adds time, destroy_sandbox removes it.`;
    default:
      return head;
  }
}
