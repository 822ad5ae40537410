import { SandboxError } from '../../../core/errors.js';
import { renderNoticeModal } from '../blocks/modals.js';
import { mentionIds, type RenderedMessage, section, slackDate } from '../blocks/text.js';
import type { SlackDeps } from '../slack-deps.js';

/** A time as the core words it for every door (ISO 8601, UTC). */
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;

/**
 * How listeners answer. A core refusal (SandboxError) is shown as the core worded it, its ids as mentions and
 * its times in the reader's zone; anything else is a bug or an outage, logged in full and shown short.
 */
export function describeError(error: unknown, deps: Pick<SlackDeps, 'logger'>, context: object = {}): string {
  if (error instanceof SandboxError) {
    return mentionIds(error.message).replace(ISO_TIME, (iso) => slackDate(Date.parse(iso)));
  }
  deps.logger.error({ ...context, err: error }, 'Slack request failed');
  return 'Something went wrong on our side and it has been logged. Try again in a moment, or ask an admin.';
}

export const notice = (text: string): RenderedMessage => ({
  text: text.replace(/[*`]/g, ''),
  blocks: [section(text)],
});

/** A message only the asker sees: for a command's ack body or its response_url. */
export const ephemeral = (message: RenderedMessage) => ({
  response_type: 'ephemeral' as const,
  text: message.text,
  blocks: message.blocks,
});

/** An ephemeral answer through the request's response_url (works in channels the bot is not in). */
export async function replyEphemeral(
  deps: Pick<SlackDeps, 'call' | 'postToResponseUrl'>,
  responseUrl: string | undefined,
  message: RenderedMessage,
  options: { replaceOriginal?: boolean } = {},
): Promise<void> {
  if (!responseUrl) return;
  await deps.call('response_url', () =>
    deps.postToResponseUrl(responseUrl, {
      ...ephemeral(message),
      replace_original: options.replaceOriginal ?? false,
    }),
  );
}

/** The parts of a block_actions payload the answer depends on. */
export interface ActionSource {
  container?: { type?: string };
  trigger_id?: string;
  response_url?: string;
}

/** App Home has no ephemeral messages: a click there is answered with a small modal. */
const answersInModal = (body: ActionSource): boolean => body.container?.type === 'view' || !body.response_url;

/**
 * For an App Home click whose answer takes a while (a file upload): a modal saying so, opened at once while
 * the click's trigger_id is still valid (3 s, single use). Returns its id for `replyToAction`'s `viewId`.
 */
export async function openWaitingModal(
  deps: Pick<SlackDeps, 'call' | 'client'>,
  body: ActionSource,
  message: RenderedMessage,
): Promise<string | undefined> {
  const triggerId = body.trigger_id;
  if (!answersInModal(body) || !triggerId) return undefined;
  const view = renderNoticeModal('Sandboxes', message.blocks);
  const opened = await deps.call('views.open', () => deps.client.views.open({ trigger_id: triggerId, view }));
  return opened?.view?.id;
}

/**
 * Answers a button click: ephemerally under the message it was on, or, for buttons in App Home (which has
 * no ephemeral messages), with a small modal opened by the click's trigger_id, or by rewriting the waiting
 * modal `viewId` when one was opened first.
 */
export async function replyToAction(
  deps: Pick<SlackDeps, 'call' | 'client' | 'postToResponseUrl'>,
  body: ActionSource,
  message: RenderedMessage,
  options: { replaceOriginal?: boolean; viewId?: string | undefined } = {},
): Promise<void> {
  if (answersInModal(body)) {
    const view = renderNoticeModal('Sandboxes', message.blocks);
    const viewId = options.viewId;
    if (viewId) {
      await deps.call('views.update', () => deps.client.views.update({ view_id: viewId, view }));
      return;
    }
    const triggerId = body.trigger_id;
    if (!triggerId) return;
    await deps.call('views.open', () => deps.client.views.open({ trigger_id: triggerId, view }));
    return;
  }
  await replyEphemeral(deps, body.response_url, message, options);
}
