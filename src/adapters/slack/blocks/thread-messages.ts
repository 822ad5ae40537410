import { formatDuration, type Sandbox } from '../../../core/sandbox.js';
import {
  botNote,
  codeBlock,
  escapeText,
  inSeconds,
  isSlackUser,
  nodes,
  type RenderedMessage,
  section,
  slackDate,
  truncate,
  who,
} from './text.js';

/**
 * The sandbox's story in the thread of its approval message. Nothing here may carry the kubeconfig: the
 * thread is visible to the whole approvers channel.
 */

export function renderCreatingThread(sandbox: Sandbox): RenderedMessage {
  const attempt = sandbox.createAttempts > 1 ? ` (attempt ${sandbox.createAttempts})` : '';
  return {
    text: `Provisioning ${sandbox.name} started`,
    blocks: [
      section(
        `:construction: Provisioning started${attempt}: k3d cluster \`${sandbox.clusterName}\` with ${nodes(sandbox)}.`,
      ),
    ],
  };
}

export function renderWaitingForDockerThread(sandbox: Sandbox): RenderedMessage {
  return {
    text: `${sandbox.name} waits for the Docker daemon`,
    blocks: [
      section(
        ':hourglass_flowing_sand: Waiting: the Docker daemon does not answer, so nothing is created; it stays in the queue and is created once the daemon answers.',
      ),
    ],
  };
}

export function renderClusterStoppedThread(sandbox: Sandbox): RenderedMessage {
  return {
    text: `The cluster of ${sandbox.name} is stopped`,
    blocks: [
      section(
        `:double_vertical_bar: The cluster is stopped, so its API does not answer; \`k3d cluster start ${sandbox.clusterName}\` on the bot's Docker host starts it.`,
      ),
    ],
  };
}

export function renderClusterRunningThread(sandbox: Sandbox): RenderedMessage {
  return {
    text: `The cluster of ${sandbox.name} runs again`,
    blocks: [section(':arrow_forward: The cluster runs again.')],
  };
}

/** Posted at once; the kubeconfig's fate follows in its own line, except for an API owner, who gets no DM. */
export function renderReadyThread(sandbox: Sandbox, durationMs: number): RenderedMessage {
  const api = isSlackUser(sandbox.owner)
    ? ''
    : ` The kubeconfig is not sent by DM: ${who(sandbox.owner)} is an API client and fetches it through the API.`;
  const expires = sandbox.expiresAt === null ? '' : ` It expires ${slackDate(sandbox.expiresAt)}.`;
  return {
    text: `${sandbox.name} is ready after ${inSeconds(durationMs)}`,
    blocks: [section(`:rocket: Ready after ${inSeconds(durationMs)}.${api}${expires}`)],
  };
}

/** The kubeconfig upload on `ready` failed; the bot retries it. */
export function renderKubeconfigFailedThread(sandbox: Sandbox): RenderedMessage {
  return {
    text: `Sending the kubeconfig of ${sandbox.name} failed`,
    blocks: [
      section(
        `:warning: Sending the kubeconfig to ${who(sandbox.owner)} by DM failed; the bot will try again, and \`/sandbox kubeconfig ${sandbox.name}\` sends it now.`,
      ),
    ],
  };
}

/** The kubeconfig went out by DM: on `ready`, or on a later attempt after a failure. */
export function renderKubeconfigSentThread(sandbox: Sandbox): RenderedMessage {
  return {
    text: `The kubeconfig of ${sandbox.name} was sent`,
    blocks: [section(`:envelope: The kubeconfig went to ${who(sandbox.owner)} by DM.`)],
  };
}

/** The failure with the tool's output tail in a code block, cut to fit one section. */
export function renderFailedThread(sandbox: Sandbox, detail: string | null): RenderedMessage {
  const reason = truncate(escapeText(sandbox.failureReason ?? 'unknown error'), 600);
  const blocks = [section(`:red_circle: Failed: ${reason}`)];
  if (detail?.trim()) blocks.push(section(codeBlock(detail, 2400)));
  return {
    text: `${sandbox.name} failed: ${truncate(sandbox.failureReason ?? 'unknown error', 200)}`,
    blocks,
  };
}

export function renderExtendedThread(sandbox: Sandbox, previousExpiresAt: number): RenderedMessage {
  const by = sandbox.expiresAt === null ? '' : ` by ${formatDuration(sandbox.expiresAt - previousExpiresAt)}`;
  const until = sandbox.expiresAt === null ? '' : `; it now expires ${slackDate(sandbox.expiresAt)}`;
  return { text: `${sandbox.name} extended`, blocks: [section(`:hourglass: Extended${by}${until}.`)] };
}

export function renderDestroyingThread(sandbox: Sandbox): RenderedMessage {
  const why = sandbox.destroyReason ? ` (${botNote(sandbox.destroyReason, 300)})` : '';
  return { text: `Destroying ${sandbox.name}`, blocks: [section(`:wastebasket: Destroying${why}.`)] };
}

export function renderDestroyFailedThread(attempt: number, error: string): RenderedMessage {
  return {
    text: `Deleting the cluster failed (attempt ${attempt})`,
    blocks: [
      section(
        `:warning: Deleting the cluster failed (attempt ${attempt}); the bot keeps retrying and says here when it is gone, or if it fails differently.`,
      ),
      section(codeBlock(error, 1500)),
    ],
  };
}

export function renderDestroyedThread(sandbox: Sandbox): RenderedMessage {
  const why = sandbox.destroyReason ? `: ${botNote(sandbox.destroyReason, 300)}` : '';
  return { text: `${sandbox.name} destroyed`, blocks: [section(`:white_circle: Destroyed${why}.`)] };
}
