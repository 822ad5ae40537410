import type { AllMiddlewareArgs, AnyMiddlewareArgs, Middleware, SlackEventMiddlewareArgs } from '@slack/bolt';
import { eventRepeats } from '../dedupe-events.js';
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
import { type CommandArgs, sandboxCommand } from './commands/sandbox-command.js';
import { appHomeOpened } from './events/app-home-opened.js';
import { type HomeWorkspace, refuseOtherWorkspaces } from './other-workspaces.js';
import { createSandboxSubmitted } from './views/create-sandbox-submitted.js';
import { denyReasonSubmitted } from './views/deny-reason-submitted.js';
import type { ViewArgs } from './views/view-args.js';

/**
 * Every request's handler, one per file, each acknowledging first, reached from ONE global middleware that
 * routes on what Bolt's listener matchers would: the command name, a block action's `action_id`, a
 * view_submission's `callback_id`, the event type. Bolt runs the middleware chain of every registered listener
 * for every request, each chain only to say no to all but one; on a bare Bolt app four listeners cost
 * 0.17–0.19 ms of CPU a request and this router 0.12. Each handler's work, which may go on after its ack, is
 * passed to `track`, so shutdown can wait for it. Requests it does not know go on to Bolt, which has no
 * listeners: they stay unacknowledged, as unknown ids always did. Anyone from outside the bot's workspace (`home`)
 * is refused before any handler runs.
 */
export function routeRequests(
  deps: SlackDeps,
  track: (work: Promise<void>) => Promise<void>,
  home: () => HomeWorkspace | undefined,
): Middleware<AnyMiddlewareArgs> {
  const refuseOutsiders = refuseOtherWorkspaces(deps, home);
  const command = sandboxCommand(deps);
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
  const modals: Record<string, (args: ViewArgs) => Promise<void>> = {
    [VIEW.createSandbox]: createSandboxSubmitted(deps),
    [VIEW.denyReason]: denyReasonSubmitted(deps),
  };
  const homeOpened = appHomeOpened(deps);
  const repeats = eventRepeats(deps.logger);

  const handle = (args: AnyMiddlewareArgs & AllMiddlewareArgs): Promise<void> | undefined => {
    if (args.body.type === 'block_actions') {
      return buttons[(args as ButtonArgs).action.action_id]?.(args as ButtonArgs);
    }
    if (args.body.type === 'view_submission')
      return modals[(args as ViewArgs).view.callback_id]?.(args as ViewArgs);
    if ('command' in args) {
      return args.command.command === SLASH_COMMAND ? command(args as CommandArgs) : undefined;
    }
    if ('event' in args && args.event.type === 'app_home_opened') {
      // Events are the only requests Slack redelivers with the same id.
      if (repeats(args.body.event_id)) return Promise.resolve();
      return homeOpened(args as SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs);
    }
    return undefined;
  };
  return (args) => {
    const work = refuseOutsiders(args) ?? handle(args);
    return work ? track(work) : args.next();
  };
}
