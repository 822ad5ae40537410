import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { dedupeEvents } from '../dedupe-events.js';
import { ACTION, SLASH_COMMAND, VIEW } from '../ids.js';
import type { SlackDeps } from '../slack-deps.js';
import { approveRequest } from './actions/approve-request.js';
import type { ButtonArgs } from './actions/button-args.js';
import { cancelRequest } from './actions/cancel-request.js';
import { denyRequest } from './actions/deny-request.js';
import { destroySandbox } from './actions/destroy-sandbox.js';
import { extendSandbox } from './actions/extend-sandbox.js';
import { newSandbox } from './actions/new-sandbox.js';
import { runTests } from './actions/run-tests.js';
import { sendKubeconfig } from './actions/send-kubeconfig.js';
import { sandboxCommand } from './commands/sandbox-command.js';
import { appHomeOpened } from './events/app-home-opened.js';
import { createSandboxSubmitted } from './views/create-sandbox-submitted.js';
import { denyReasonSubmitted } from './views/deny-reason-submitted.js';
import type { ViewArgs } from './views/view-args.js';

/**
 * Registers every listener: one per file, each acknowledging first. Buttons share one Bolt listener, and so do
 * modals, dispatching on their id: Bolt runs the middleware chain of every registered listener for every request
 * it receives, so a listener per button would cost every request (a slash command too) a chain per button that
 * can only say no. Ids no listener knows stay unhandled, as before.
 */
export function registerListeners(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, sandboxCommand(deps));

  const buttons: Record<string, (args: ButtonArgs) => Promise<void>> = {
    [ACTION.approveRequest]: approveRequest(deps),
    [ACTION.denyRequest]: denyRequest(deps),
    [ACTION.cancelRequest]: cancelRequest(deps),
    [ACTION.extendSandbox]: extendSandbox(deps),
    [ACTION.destroySandbox]: destroySandbox(deps),
    [ACTION.sendKubeconfig]: sendKubeconfig(deps),
    [ACTION.runTests]: runTests(deps),
    [ACTION.newSandbox]: newSandbox(deps),
  };
  app.action<BlockAction<ButtonAction>>(anyOf(buttons), (args) =>
    dispatch(buttons, args.action.action_id, args),
  );

  const modals: Record<string, (args: ViewArgs) => Promise<void>> = {
    [VIEW.createSandbox]: createSandboxSubmitted(deps),
    [VIEW.denyReason]: denyReasonSubmitted(deps),
  };
  app.view(anyOf(modals), (args) => dispatch(modals, args.view.callback_id, args));

  // Events are the only requests Slack redelivers with the same id; the dedupe runs in their chain alone.
  app.event('app_home_opened', dedupeEvents(deps.logger), appHomeOpened(deps));
}

/** Matches exactly the ids of `handlers` (plain words: see ids.ts). */
const anyOf = (handlers: Record<string, unknown>) => new RegExp(`^(?:${Object.keys(handlers).join('|')})$`);

function dispatch<A>(
  handlers: Record<string, (args: A) => Promise<void>>,
  id: string,
  args: A,
): Promise<void> {
  const handler = handlers[id];
  if (!handler) throw new Error(`no listener for ${id}`); // unreachable: anyOf() matched the id
  return handler(args);
}
