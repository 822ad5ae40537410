import { formatDuration, type Sandbox } from '../../../core/sandbox.js';
import type { ApprovalContext } from '../../../core/sandbox-service.js';
import { ACTION } from '../ids.js';
import {
  botNote,
  button,
  context,
  escapeText,
  type KnownBlock,
  plural,
  type RenderedMessage,
  slackDate,
  truncate,
  who,
} from './text.js';

/** MCP is the AI agents' door: an approver should know a request came from one, not from a person. */
const VIA: Record<Sandbox['requestedVia'], string> = {
  slack: 'via Slack',
  api: 'via the REST API',
  mcp: 'an AI agent, via MCP',
};

/** "<@alice> asks…", or for an agent acting for someone: "`api:ci` for <@alice> (via the REST API) asks…". */
export function renderRequester(sandbox: Sandbox): string {
  if (sandbox.requestedBy === sandbox.owner && sandbox.requestedVia === 'slack') return who(sandbox.owner);
  const forWhom = sandbox.requestedBy === sandbox.owner ? '' : ` for ${who(sandbox.owner)}`;
  return `${who(sandbox.requestedBy)}${forWhom} (${VIA[sandbox.requestedVia]})`;
}

function summary(sandbox: Sandbox, blockId: string): KnownBlock[] {
  return [
    {
      type: 'section',
      block_id: `${blockId}_summary`,
      text: {
        type: 'mrkdwn',
        text: truncate(`${renderRequester(sandbox)} asks for a sandbox: *${sandbox.name}*`, 3000),
      },
      fields: [
        { type: 'mrkdwn', text: `*Name*\n${sandbox.name}` },
        { type: 'mrkdwn', text: `*TTL*\n${formatDuration(sandbox.ttlMs)}` },
        { type: 'mrkdwn', text: `*Servers*\n${sandbox.servers}` },
        { type: 'mrkdwn', text: `*Agents*\n${sandbox.agents}` },
        {
          type: 'mrkdwn',
          text: `*Reason*\n${sandbox.reason ? truncate(escapeText(sandbox.reason), 1500) : '_none given_'}`,
        },
      ],
    },
    context(
      `Request \`${sandbox.approvalId}\` · sandbox \`${sandbox.id}\` · asked ${slackDate(sandbox.requestedAt)}`,
      `${blockId}_ids`,
    ),
  ];
}

/** How much the owner already has and how busy the bot was when the request was posted. */
function renderLoad(sandbox: Sandbox, load: ApprovalContext): string {
  const others =
    load.ownerLive === 0
      ? 'no other live sandbox'
      : plural(load.ownerLive, 'other live sandbox', 'other live sandboxes');
  return (
    `When asked: ${who(sandbox.owner)} had ${others} (limit ${load.maxPerUser}) · the bot had ` +
    `${load.live} of ${load.maxTotal} live sandboxes, ${load.queued} waiting for a slot and ${load.creating} being created`
  );
}

/**
 * The message in the approvers channel while a request waits: the facts, what the owner already has and how
 * busy the bot is, and Approve / Deny.
 */
export function renderApprovalRequest(sandbox: Sandbox, load: ApprovalContext): RenderedMessage {
  return {
    text: `Sandbox request ${sandbox.name} (${plural(sandbox.servers, 'server')}, ${plural(sandbox.agents, 'agent')}, ${formatDuration(sandbox.ttlMs)}) needs approval`,
    blocks: [
      ...summary(sandbox, `req_${sandbox.id}`),
      context(renderLoad(sandbox, load), `req_${sandbox.id}_load`),
      {
        type: 'actions',
        block_id: `req_${sandbox.id}_decision`,
        elements: [
          button(ACTION.approveRequest, 'Approve', sandbox.id, { style: 'primary' }),
          button(ACTION.denyRequest, 'Deny', sandbox.id, { style: 'danger' }),
        ],
      },
    ],
  };
}

export type Decision = 'approved' | 'denied' | 'cancelled';

/** The same message once decided: the outcome, who and when, and no buttons. */
export function renderDecidedMessage(sandbox: Sandbox, decision: Decision, at: number): RenderedMessage {
  const note = sandbox.decisionNote
    ? // A denial's note is the approver's own words; a cancellation's is the bot's.
      `: ${decision === 'denied' ? truncate(escapeText(sandbox.decisionNote), 500) : botNote(sandbox.decisionNote, 500)}`
    : '';
  const outcome =
    decision === 'approved'
      ? `:white_check_mark: *Approved* by ${who(sandbox.decidedBy)} ${slackDate(sandbox.decidedAt ?? at)}`
      : decision === 'denied'
        ? `:no_entry: *Denied* by ${who(sandbox.decidedBy)} ${slackDate(sandbox.decidedAt ?? at)}${note}`
        : `:heavy_multiplication_x: *Cancelled* ${slackDate(at)}${note}`;
  return {
    text: `Sandbox request ${sandbox.name}: ${decision}`,
    blocks: [
      ...summary(sandbox, `done_${sandbox.id}`),
      { type: 'section', block_id: `done_${sandbox.id}_outcome`, text: { type: 'mrkdwn', text: outcome } },
    ],
  };
}
