import type { TestResultSummary } from '../../../core/events.js';
import type { Problem } from '../../../core/outages.js';
import { formatDuration, type Sandbox } from '../../../core/sandbox.js';
import { ACTION } from '../ids.js';
import { renderRequester } from './approval-message.js';
import { stepDuration } from './test-result.js';
import {
  botNote,
  button,
  context,
  escapeText,
  type KnownBlock,
  nodes,
  plural,
  type RenderedMessage,
  renderProblem,
  section,
  slackDate,
  statusLabel,
  timeLeft,
  truncate,
  who,
} from './text.js';

/** Lines per list reply; more would hit Slack's section and message limits. */
const LIST_LIMIT = 40;

export function renderSandboxList(
  sandboxes: Sandbox[],
  now: number,
  all: boolean,
  problemOf: (sandbox: Sandbox) => Problem | undefined,
): RenderedMessage {
  if (sandboxes.length === 0) {
    return {
      text: 'No sandboxes',
      blocks: [
        section(
          all
            ? 'No live sandboxes.'
            : 'You have no live sandboxes. `/sandbox create <name>` asks for one (`/sandbox list --all` shows everyone’s you may see).',
        ),
      ],
    };
  }
  const lines = sandboxes.slice(0, LIST_LIMIT).map((s) => {
    const problem = problemOf(s);
    return `*${s.name}* · ${statusLabel(s)} · ${nodes(s)} · ${timeLeft(s, now)}${all ? ` · ${who(s.owner)}` : ''}${problem ? ` · ${renderProblem(problem)}` : ''}`;
  });
  const blocks: KnownBlock[] = [];
  // One section per 10 lines keeps each under the 3000-character limit, an outage's note on every line included.
  for (let i = 0; i < lines.length; i += 10) blocks.push(section(lines.slice(i, i + 10).join('\n')));
  if (sandboxes.length > LIST_LIMIT) blocks.push(context(`…and ${sandboxes.length - LIST_LIMIT} more.`));
  return { text: plural(sandboxes.length, 'sandbox', 'sandboxes'), blocks };
}

/** `/sandbox status`: everything about one sandbox a person may want, without the kubeconfig. */
export function renderSandboxStatus(
  sandbox: Sandbox,
  lastTest: TestResultSummary | undefined,
  now: number,
  problem: Problem | undefined,
): RenderedMessage {
  const facts = [
    `*${sandbox.name}* · ${statusLabel(sandbox)} · ${nodes(sandbox)} · ${timeLeft(sandbox, now)}`,
  ];
  if (problem) facts.push(renderProblem(problem));
  facts.push(`Requested by ${renderRequester(sandbox)} ${slackDate(sandbox.requestedAt)}`);
  if (sandbox.decidedBy) facts.push(`Decided by ${who(sandbox.decidedBy)}`);
  if (sandbox.expiresAt !== null && sandbox.status === 'ACTIVE') {
    facts.push(`Expires ${slackDate(sandbox.expiresAt)}`);
  }
  if (sandbox.failureReason) facts.push(`Failure: ${truncate(escapeText(sandbox.failureReason), 500)}`);
  if (sandbox.destroyReason) facts.push(`Destroy reason: ${botNote(sandbox.destroyReason, 300)}`);
  if (sandbox.decisionNote) {
    // A denial's note is the approver's own words; the others are the bot's.
    const note =
      sandbox.status === 'DENIED'
        ? truncate(escapeText(sandbox.decisionNote), 300)
        : botNote(sandbox.decisionNote, 300);
    facts.push(`Note: ${note}`);
  }
  if (lastTest) {
    facts.push(
      `Last test: *${escapeText(lastTest.suite)}* ${lastTest.passed ? 'passed' : 'failed'} ${slackDate(lastTest.finishedAt)} (${stepDuration(lastTest.finishedAt - lastTest.startedAt)})`,
    );
  }
  return {
    text: `${sandbox.name}: ${sandbox.status}`,
    blocks: [
      section(facts.join('\n')),
      context(
        `Sandbox \`${sandbox.id}\` · request \`${sandbox.approvalId}\` · cluster \`${sandbox.clusterName}\` · TTL ${formatDuration(sandbox.ttlMs)}`,
      ),
    ],
  };
}

/**
 * `/sandbox destroy <name>` asks first: this is the confirmation with its button. It offers only what the core's
 * destroy does for that state (withdraw a request, destroy an active cluster); a cluster being created or
 * destroyed gets its state and what to do instead, with no button the core would refuse.
 */
export function renderDestroyConfirmation(sandbox: Sandbox): RenderedMessage {
  const name = `*${sandbox.name}*`;
  switch (sandbox.status) {
    case 'CREATING':
      return {
        text: `${sandbox.name} is being created`,
        blocks: [
          section(
            `${name} is being created, so it cannot be destroyed yet. Once it is active, run \`/sandbox destroy ${sandbox.name}\` again; if the create fails, there is nothing left to destroy.`,
          ),
        ],
      };
    case 'DESTROYING':
      return {
        text: `${sandbox.name} is already being destroyed`,
        blocks: [section(`${name} is already being destroyed; its owner gets a DM when it is gone.`)],
      };
  }
  const what =
    sandbox.status === 'ACTIVE'
      ? `Destroy ${name}? The cluster and everything in it is deleted.`
      : `Withdraw the request for ${name}? Nothing has been created yet.`;
  return {
    text: `Destroy ${sandbox.name}?`,
    blocks: [
      section(what, `confirm_${sandbox.id}_text`),
      {
        type: 'actions',
        block_id: `confirm_${sandbox.id}_actions`,
        elements: [button(ACTION.destroySandbox, `Destroy ${sandbox.name}`, sandbox.id, { style: 'danger' })],
      },
    ],
  };
}
