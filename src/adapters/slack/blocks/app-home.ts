import type { Problem } from '../../../core/outages.js';
import { formatDuration, type Sandbox } from '../../../core/sandbox.js';
import { ACTION } from '../ids.js';
import { renderRequester } from './approval-message.js';
import {
  type Button,
  button,
  confirmDialog,
  context,
  escapeText,
  type HomeView,
  header,
  type KnownBlock,
  nodes,
  quote,
  renderProblem,
  section,
  statusLabel,
  timeLeft,
  truncate,
} from './text.js';

export interface AppHomeInput {
  userId: string;
  /** The user's sandboxes that are not finished, newest first. */
  mine: Sandbox[];
  /** Requests waiting for approval; only given to approvers. */
  pending: Sandbox[] | undefined;
  /** Whether the core's policy lets this user approve the request (no buttons on one's own request). */
  mayApprove: (sandbox: Sandbox) => boolean;
  /** What an Extend click gives a sandbox now (less near its maximum lifetime; none at it). */
  extensionMs: (sandbox: Sandbox) => number;
  /** What holds a sandbox up now (Docker down, its cluster stopped). */
  problemOf: (sandbox: Sandbox) => Problem | undefined;
  now: number;
}

/** Each list is cut here so the Home tab stays under Slack's 100 blocks (2 blocks per entry). */
const HOME_LIST_LIMIT = 20;

function sandboxButtons(sandbox: Sandbox, input: AppHomeInput): Button[] {
  const destroy = (label: string, what: string) =>
    button(ACTION.destroySandbox, label, sandbox.id, {
      style: 'danger',
      confirm: confirmDialog(`${label}?`, what, label),
    });
  switch (sandbox.status) {
    case 'ACTIVE': {
      const extension = input.extensionMs(sandbox);
      return [
        ...(sandbox.owner === input.userId
          ? [button(ACTION.sendKubeconfig, 'Kubeconfig', sandbox.id, { style: 'primary' })]
          : []),
        ...(extension > 0
          ? [button(ACTION.extendSandbox, `Extend ${formatDuration(extension)}`, sandbox.id)]
          : []),
        button(ACTION.runTests, 'Test', sandbox.id),
        destroy('Destroy', `The cluster *${sandbox.name}* and everything in it is deleted now.`),
      ];
    }
    case 'PENDING_APPROVAL':
    case 'QUEUED':
      return [
        button(ACTION.cancelRequest, 'Cancel request', sandbox.id, {
          style: 'danger',
          confirm: confirmDialog(
            'Cancel request?',
            `The request for *${sandbox.name}* is withdrawn.`,
            'Cancel it',
          ),
        }),
      ];
    default:
      return [];
  }
}

function more(count: number, shown: number, hint: string): KnownBlock[] {
  return count > shown ? [context(`…and ${count - shown} more. ${hint}`)] : [];
}

/** The Home tab: the user's sandboxes with their buttons, a New sandbox button, and for approvers the queue. */
export function renderAppHome(input: AppHomeInput): HomeView {
  const blocks: KnownBlock[] = [
    header('Kubernetes sandboxes'),
    {
      type: 'section',
      block_id: 'home_intro',
      text: {
        type: 'mrkdwn',
        text: 'Short-lived k3d clusters, approved by a person and removed when their time is up. `/sandbox help` lists the commands.',
      },
      accessory: button(ACTION.newSandbox, 'New sandbox', 'new', { style: 'primary' }),
    },
    { type: 'divider' },
    header('Your sandboxes'),
  ];

  if (input.mine.length === 0) {
    blocks.push(context('You have no sandboxes right now. Press *New sandbox* to ask for one.'));
  }
  for (const sandbox of input.mine.slice(0, HOME_LIST_LIMIT)) {
    const problem = input.problemOf(sandbox);
    blocks.push(
      section(
        `*${sandbox.name}* · ${statusLabel(sandbox)} · ${nodes(sandbox)} · ${timeLeft(sandbox, input.now)}${problem ? `\n${renderProblem(problem)}` : ''}`,
        `home_${sandbox.id}_info`,
      ),
    );
    const buttons = sandboxButtons(sandbox, input);
    if (buttons.length > 0) {
      blocks.push({ type: 'actions', block_id: `home_${sandbox.id}_actions`, elements: buttons });
    }
  }
  blocks.push(...more(input.mine.length, HOME_LIST_LIMIT, '`/sandbox list` shows them all.'));

  if (input.pending !== undefined) {
    blocks.push({ type: 'divider' }, header('Waiting for approval'));
    if (input.pending.length === 0) blocks.push(context('No requests are waiting.'));
    for (const sandbox of input.pending.slice(0, HOME_LIST_LIMIT)) {
      const reason = sandbox.reason ? `\n${quote(truncate(escapeText(sandbox.reason), 300))}` : '';
      blocks.push(
        section(
          `*${sandbox.name}* from ${renderRequester(sandbox)} · ${nodes(sandbox)} · ${formatDuration(sandbox.ttlMs)}${reason}`,
          `pending_${sandbox.id}_info`,
        ),
      );
      if (input.mayApprove(sandbox)) {
        blocks.push({
          type: 'actions',
          block_id: `pending_${sandbox.id}_actions`,
          elements: [
            button(ACTION.approveRequest, 'Approve', sandbox.id, { style: 'primary' }),
            button(ACTION.denyRequest, 'Deny', sandbox.id, { style: 'danger' }),
          ],
        });
      } else {
        blocks.push(context('Your own request: another approver decides it.', `pending_${sandbox.id}_own`));
      }
    }
    blocks.push(...more(input.pending.length, HOME_LIST_LIMIT, 'Decide them in the approvers channel.'));
  }
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
