import { InvalidInput, NotFound } from '../../../core/errors.js';
import type { Actor } from '../../../core/policy.js';
import { describeIssues, type Sandbox, sandboxNameSchema } from '../../../core/sandbox.js';
import { renderTestRunFailedDm } from '../blocks/direct-messages.js';
import { isSlackUser, type RenderedMessage, slackDate, who } from '../blocks/text.js';
import type { SlackDeps } from '../slack-deps.js';
import { notice } from './replies.js';

/**
 * The few things both a command and a button can do. Each calls one core use case (which decides and may
 * refuse with a SandboxError) and words the outcome; none holds a rule of its own.
 */

/** The sandbox a command names: the name is checked with the core's schema first, for a clear message. */
export function findSandbox(deps: Pick<SlackDeps, 'service'>, name: string): Sandbox {
  const parsed = sandboxNameSchema(deps.service.options.clusterPrefix).safeParse(name);
  if (!parsed.success) throw new InvalidInput(`The name ${describeIssues(parsed.error)}.`);
  const sandbox = deps.service.getByName(parsed.data);
  if (!sandbox) throw new NotFound(`A sandbox named ${parsed.data}`);
  return sandbox;
}

/** Re-sends a kubeconfig to the asker's DMs (the core checks they own it or are an admin). */
export async function sendKubeconfig(
  deps: SlackDeps,
  actor: Actor,
  sandboxId: string,
): Promise<RenderedMessage> {
  const kubeconfig = deps.service.kubeconfig(actor, sandboxId, 'slack-resend');
  const sandbox = deps.service.get(sandboxId);
  if (!sandbox) throw new NotFound(`Sandbox ${sandboxId}`);
  const sent = await deps.notifier.sendKubeconfig(actor.id, sandbox, kubeconfig, true);
  return notice(
    sent
      ? `:key: I sent the kubeconfig of *${sandbox.name}* to your DMs.`
      : `:warning: Sending the kubeconfig of *${sandbox.name}* to your DMs failed; try again in a moment.`,
  );
}

export function extendSandbox(
  deps: SlackDeps,
  actor: Actor,
  sandboxId: string,
  byMs?: number,
): RenderedMessage {
  const sandbox = deps.service.extend(actor, sandboxId, byMs);
  const until = sandbox.expiresAt === null ? '' : `; it now expires ${slackDate(sandbox.expiresAt)}`;
  return notice(`:hourglass: Extended *${sandbox.name}*${until}.`);
}

export function destroySandbox(deps: SlackDeps, actor: Actor, sandboxId: string): RenderedMessage {
  const sandbox = deps.service.destroy(actor, sandboxId, `destroyed by ${actor.id} in Slack`);
  if (sandbox.status === 'CANCELLED') {
    return notice(
      `:heavy_multiplication_x: The request for *${sandbox.name}* is withdrawn; nothing had been created.`,
    );
  }
  // The DM that it is gone goes to the owner, who is not always the one destroying it (an admin).
  const told =
    sandbox.owner === actor.id
      ? ' I will DM you when it is gone.'
      : isSlackUser(sandbox.owner)
        ? ` I will DM its owner, ${who(sandbox.owner)}, when it is gone.`
        : '';
  return notice(`:wastebasket: Destroying *${sandbox.name}*.${told}`);
}

export function cancelRequest(deps: SlackDeps, actor: Actor, sandboxId: string): RenderedMessage {
  const sandbox = deps.service.cancel(actor, sandboxId, `cancelled by ${actor.id} in Slack`);
  return notice(`:heavy_multiplication_x: The request for *${sandbox.name}* is cancelled.`);
}

/**
 * Starts a test run and answers as soon as it is running (or refused). The result arrives later as a
 * `testFinished` event, which the notifier DMs to whoever ran it and posts in the request's thread.
 */
export function startTests(
  deps: SlackDeps,
  actor: Actor,
  sandbox: Sandbox,
  suite = 'smoke',
): RenderedMessage {
  const { result } = deps.tests.start(actor, sandbox.id, suite); // a refusal throws here
  result.catch(async (error: unknown) => {
    // The steps record their own failures: what ends here is the result not stored (the database failing).
    const { message } = error as Error;
    deps.logger.warn({ sandbox: sandbox.id, err: message }, 'test run failed to complete');
    await deps.notifier.dm(actor.id, renderTestRunFailedDm(sandbox, suite, message));
  });
  const where = sandbox.approvalMessage ? 'by DM and in the request’s thread' : 'by DM';
  return notice(
    `:test_tube: Running the *${suite}* tests on *${sandbox.name}*; the results will come ${where}.`,
  );
}
