import { formatDuration, type Sandbox } from '../../../core/sandbox.js';
import { ACTION } from '../ids.js';
import { renderRequester } from './approval-message.js';
import {
  botNote,
  button,
  confirmDialog,
  escapeText,
  nodes,
  quote,
  type RenderedMessage,
  section,
  slackDate,
  truncate,
  who,
} from './text.js';

/** The DMs a sandbox's owner gets. Plain sentences; the name in bold; times in the reader's zone. */

const simple = (text: string, fallback: string): RenderedMessage => ({
  text: fallback,
  blocks: [section(text)],
});

const expiry = (sandbox: Sandbox) =>
  sandbox.expiresAt === null ? '' : ` It expires ${slackDate(sandbox.expiresAt)}.`;

export function renderRequestedForYouDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:inbox_tray: ${renderRequester(sandbox)} asked for a sandbox *${sandbox.name}* for you (${nodes(sandbox)}, ${formatDuration(sandbox.ttlMs)}). It is waiting for an approver; I will tell you what happens.`,
    `A sandbox ${sandbox.name} was requested for you`,
  );
}

/** The request was filed, but its approval message has not reached the approvers: once, when a retry failed too. */
export function renderApprovalPostFailedDm(sandbox: Sandbox, channel: string): RenderedMessage {
  return simple(
    `:warning: Your request for *${sandbox.name}* is filed, but posting it in <#${channel}> for the approvers failed; I keep trying. Approvers can also see and approve it in my App Home. If it stays undecided, tell whoever runs this bot.`,
    `Your request ${sandbox.name} has not reached the approvers yet`,
  );
}

export function renderApprovedDm(sandbox: Sandbox, queuePosition: number): RenderedMessage {
  const place =
    queuePosition <= 1 ? 'It is next in line to be created.' : `It is number ${queuePosition} in the queue.`;
  return simple(
    `:white_check_mark: ${who(sandbox.decidedBy)} approved your sandbox *${sandbox.name}*. ${place} I will send the kubeconfig here when it is ready.`,
    `Your sandbox ${sandbox.name} was approved`,
  );
}

/** Once per outage: the owner was told it is in the queue, and would otherwise hear nothing for as long as it lasts. */
export function renderWaitingForDockerDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:hourglass_flowing_sand: Your approved sandbox *${sandbox.name}* has to wait: the bot's Docker host does not answer, so no cluster can be created now. It keeps its place in the queue and is created once Docker answers again; I will tell you here. \`/sandbox cancel ${sandbox.name}\` withdraws it.`,
    `Your sandbox ${sandbox.name} waits for the Docker host`,
  );
}

/** After `renderWaitingForDockerDm`: the wait is over. */
export function renderCreatingAfterWaitDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:construction: The Docker host answers again: your sandbox *${sandbox.name}* is being created now. I will send the kubeconfig here when it is ready.`,
    `Your sandbox ${sandbox.name} is being created`,
  );
}

/** Once per stop: kubectl on it fails, and nothing else would say why. */
export function renderClusterStoppedDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:double_vertical_bar: The cluster of your sandbox *${sandbox.name}* is stopped, so its API does not answer and \`kubectl\` fails. The bot's operators are told; it keeps its expiry and is not deleted. I will tell you here when it runs again. If you cannot wait, \`/sandbox destroy ${sandbox.name}\` and ask for a new one.`,
    `The cluster of your sandbox ${sandbox.name} is stopped`,
  );
}

export function renderClusterRunningDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:arrow_forward: The cluster of your sandbox *${sandbox.name}* runs again; its kubeconfig works as before.`,
    `The cluster of your sandbox ${sandbox.name} runs again`,
  );
}

export function renderDeniedDm(sandbox: Sandbox): RenderedMessage {
  const reason = sandbox.decisionNote
    ? `\n${quote(truncate(escapeText(sandbox.decisionNote), 500))}`
    : ' No reason was given.';
  return simple(
    `:no_entry: ${who(sandbox.decidedBy)} denied your sandbox request *${sandbox.name}*.${reason}`,
    `Your sandbox request ${sandbox.name} was denied`,
  );
}

export function renderCancelledDm(sandbox: Sandbox): RenderedMessage {
  const why = sandbox.decisionNote ? ` (${botNote(sandbox.decisionNote, 300)})` : '';
  // Cancelled by the approval timeout, not by a person: the requester may still want it.
  const again =
    sandbox.decidedBy === 'system' ? ` You can ask again with \`/sandbox create ${sandbox.name}\`.` : '';
  return simple(
    `:heavy_multiplication_x: Your sandbox request *${sandbox.name}* was cancelled${why}. Nothing was created.${again}`,
    `Your sandbox request ${sandbox.name} was cancelled`,
  );
}

/** The comment that goes with the kubeconfig file: what it is and the two lines needed to use it. */
export function renderKubeconfigComment(sandbox: Sandbox, resent: boolean): string {
  const lead = resent
    ? `:key: The kubeconfig of *${sandbox.name}*, as you asked.`
    : `:rocket: Your sandbox *${sandbox.name}* is ready (${nodes(sandbox)}).${expiry(sandbox)}`;
  return [
    lead,
    `Use it with \`export KUBECONFIG=~/Downloads/${kubeconfigFilename(sandbox)}\` and then \`kubectl get nodes\`.`,
    'It is the cluster admin credential: keep it to yourself, never paste it in a channel.',
  ].join('\n');
}

export function kubeconfigFilename(sandbox: Pick<Sandbox, 'name'>): string {
  return `kubeconfig-${sandbox.name}.yaml`;
}

/** When the kubeconfig could not be sent at `ready`: the bot tries again, and the command sends it at once. */
export function renderKubeconfigFailedDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:rocket: Your sandbox *${sandbox.name}* is ready, but sending its kubeconfig failed; the bot will try again. \`/sandbox kubeconfig ${sandbox.name}\` sends it now.`,
    `Your sandbox ${sandbox.name} is ready`,
  );
}

/** A test run started in Slack whose result could not be stored (the database failing). */
export function renderTestRunFailedDm(sandbox: Sandbox, suite: string, error: string): RenderedMessage {
  return simple(
    `:warning: The *${suite}* test run on *${sandbox.name}* did not complete: ${truncate(escapeText(error), 500)}. Run it again with \`/sandbox test ${sandbox.name} ${suite}\`.`,
    `The ${suite} test run on ${sandbox.name} did not complete`,
  );
}

export function renderFailedDm(sandbox: Sandbox): RenderedMessage {
  const reason = truncate(escapeText(sandbox.failureReason ?? 'unknown error'), 500);
  return simple(
    `:red_circle: Your sandbox *${sandbox.name}* failed: ${reason}\nAny partial cluster was removed. You can request it again with \`/sandbox create ${sandbox.name}\`.`,
    `Your sandbox ${sandbox.name} failed`,
  );
}

export function renderExtendedDm(sandbox: Sandbox, previousExpiresAt: number): RenderedMessage {
  const by = sandbox.expiresAt === null ? '' : ` by ${formatDuration(sandbox.expiresAt - previousExpiresAt)}`;
  return simple(
    `:hourglass: Your sandbox *${sandbox.name}* was extended${by}.${expiry(sandbox)}`,
    `Your sandbox ${sandbox.name} was extended`,
  );
}

export function renderDestroyedDm(sandbox: Sandbox): RenderedMessage {
  const why = sandbox.destroyReason ? ` (${botNote(sandbox.destroyReason, 300)})` : '';
  return simple(
    `:wastebasket: Your sandbox *${sandbox.name}* was destroyed${why}. Its kubeconfig no longer works.`,
    `Your sandbox ${sandbox.name} was destroyed`,
  );
}

/** Once per stuck delete: the owner would otherwise hear nothing until the cluster is finally gone. */
export function renderDestroyDelayedDm(sandbox: Sandbox): RenderedMessage {
  return simple(
    `:hourglass_flowing_sand: Deleting your sandbox *${sandbox.name}* is taking longer than it should: its cluster could not be deleted yet. The bot keeps trying and tells you here when it is gone; there is nothing you need to do.`,
    `Deleting your sandbox ${sandbox.name} is taking longer`,
  );
}

/**
 * The expiry warning, with Extend and Destroy now buttons that work as long as the sandbox is active. Extend
 * offers what a click gives (`extensionMs`: less near the maximum lifetime); at the cap there is none.
 */
export function renderExpiringDm(sandbox: Sandbox, extensionMs: number, now: number): RenderedMessage {
  const left =
    sandbox.expiresAt === null ? '' : ` in ${formatDuration(Math.max(0, sandbox.expiresAt - now))}`;
  const canExtend = extensionMs > 0;
  const advice = canExtend
    ? 'Extend it if you still need it; otherwise it is destroyed then.'
    : 'It has reached its maximum lifetime and cannot be extended; it is destroyed then.';
  return {
    text: `Your sandbox ${sandbox.name} expires soon`,
    blocks: [
      section(
        `:alarm_clock: Your sandbox *${sandbox.name}* expires${left}${sandbox.expiresAt === null ? '' : ` (${slackDate(sandbox.expiresAt)})`}. ${advice}`,
        `expiring_${sandbox.id}_text`,
      ),
      {
        type: 'actions',
        block_id: `expiring_${sandbox.id}_actions`,
        elements: [
          ...(canExtend
            ? [
                button(ACTION.extendSandbox, `Extend by ${formatDuration(extensionMs)}`, sandbox.id, {
                  style: 'primary',
                }),
              ]
            : []),
          button(ACTION.destroySandbox, 'Destroy now', sandbox.id, {
            style: 'danger',
            confirm: confirmDialog(
              `Destroy ${sandbox.name}?`,
              `The cluster *${sandbox.name}* and everything in it is deleted now.`,
              'Destroy',
            ),
          }),
        ],
      },
    ],
  };
}
