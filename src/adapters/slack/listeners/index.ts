import type { App } from '@slack/bolt';
import { ACTION, SLASH_COMMAND, VIEW } from '../ids.js';
import type { SlackDeps } from '../slack-deps.js';
import { approveRequest } from './actions/approve-request.js';
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

/** Registers every listener: one per file, each acknowledging first. */
export function registerListeners(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, sandboxCommand(deps));

  app.action(ACTION.approveRequest, approveRequest(deps));
  app.action(ACTION.denyRequest, denyRequest(deps));
  app.action(ACTION.cancelRequest, cancelRequest(deps));
  app.action(ACTION.extendSandbox, extendSandbox(deps));
  app.action(ACTION.destroySandbox, destroySandbox(deps));
  app.action(ACTION.sendKubeconfig, sendKubeconfig(deps));
  app.action(ACTION.runTests, runTests(deps));
  app.action(ACTION.newSandbox, newSandbox(deps));

  app.view(VIEW.createSandbox, createSandboxSubmitted(deps));
  app.view(VIEW.denyReason, denyReasonSubmitted(deps));

  app.event('app_home_opened', appHomeOpened(deps));
}
