import type { AllMiddlewareArgs, AnyMiddlewareArgs } from '@slack/bolt';
import { renderNoticeModal } from '../blocks/modals.js';
import type { SlackDeps } from '../slack-deps.js';
import type { ButtonArgs } from './actions/button-args.js';
import type { CommandArgs } from './commands/sandbox-command.js';
import { ephemeral, notice, replyToAction } from './replies.js';
import type { ViewArgs } from './views/view-args.js';

/** The workspace of the bot's token, and its Enterprise Grid org if it is in one (from auth.test at start). */
export interface HomeWorkspace {
  teamId: string;
  enterpriseId: string | undefined;
  name: string;
}

type Body = Record<string, unknown> & { user?: { team_id?: unknown } };

/**
 * The workspace (and Grid org) ids of whoever sent a request. A command or an event comes from the workspace it
 * was typed or happened in. A click or a submission names the person's own workspace in user.team_id only: its
 * `team` is the app's workspace when an external member of a Slack Connect channel clicks (java-slack-sdk#1041).
 * In an Enterprise Grid org, user.team_id is one workspace of the person's, not always one the app is in
 * (bolt-js#1875), so there a click or a submission is not checked: without a request of their own, an outsider's
 * click can only be refused by the approver and owner rules. Undefined for requests not checked.
 */
function sendersTeams(args: AnyMiddlewareArgs, grid: boolean): string[] | undefined {
  const body = args.body as Body;
  let ids: unknown[];
  if (body.type === 'block_actions' || body.type === 'view_submission') {
    if (grid) return undefined;
    ids = [body.user?.team_id];
  } else if ('command' in args || body.type === 'event_callback') ids = [body.team_id, body.enterprise_id];
  else return undefined;
  return ids.filter((id): id is string => typeof id === 'string' && id !== '');
}

/**
 * Refuses, with a word to the person, a request from anyone outside the bot's own workspace (or Grid org): a member
 * of another organisation in a Slack Connect channel, or a user of another workspace the app is installed in. Slack
 * signs their requests with the same secret, and their user ids are nobody's in SLACK_APPROVERS, so without this
 * they could file requests (a quota each) and press every button. Returns undefined for a request from home.
 */
export function refuseOtherWorkspaces(deps: SlackDeps, home: () => HomeWorkspace | undefined) {
  return (args: AnyMiddlewareArgs & AllMiddlewareArgs): Promise<void> | undefined => {
    const ours = home();
    const teams = sendersTeams(args, ours?.enterpriseId !== undefined);
    if (teams === undefined || (ours && teams.some((t) => t === ours.teamId || t === ours.enterpriseId)))
      return undefined;
    deps.logger.warn(
      { type: args.body.type ?? 'slash_command', teams },
      'refused a Slack request from outside the bot’s workspace',
    );
    const answer = notice(
      `:no_entry: This sandbox bot is only for people of the ${ours?.name ?? 'its own'} workspace; nothing was done.`,
    );
    if ('command' in args) return (args as CommandArgs).ack(ephemeral(answer));
    if (args.body.type === 'block_actions') {
      const { ack, body } = args as ButtonArgs;
      return ack().then(() => replyToAction(deps, body, answer));
    }
    if (args.body.type === 'view_submission') {
      const view = renderNoticeModal('Sandboxes', answer.blocks);
      return (args as ViewArgs).ack({ response_action: 'update', view });
    }
    return Promise.resolve(); // an event (App Home opened): Bolt has acknowledged it, and nothing is published
  };
}
