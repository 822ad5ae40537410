import type { types } from '@slack/bolt';
import type { Problem } from '../../../core/outages.js';
import { formatDuration, type Sandbox } from '../../../core/sandbox.js';

export type KnownBlock = types.KnownBlock;
export type Button = types.Button;
export type ModalView = types.ModalView;
export type HomeView = types.HomeView;

/** A message for chat.postMessage / chat.update / respond(): `text` is the notification fallback. */
export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Block Kit limits (slack-platform.md §7) the renderers stay within. */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  field: 2000,
  headerText: 150,
  buttonText: 75,
  optionText: 75,
  modalTitle: 24,
  contextElements: 10,
} as const;

/** A block quote of every line: a quote's later lines would otherwise read as the bot's own text. */
export function quote(text: string): string {
  return text.replace(/^/gm, '>');
}

/** Cuts `text` to at most `max` characters (code points, as Slack counts), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  // UTF-16 length is never below the count of characters: most texts are short and need no splitting.
  if (text.length <= max) return text;
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Keeps the end of `text` (the interesting part of a tool's output), starting with "…" when cut. */
export function tail(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  if (chars.length <= max) return text;
  return `…${chars.slice(chars.length - max + 1).join('')}`;
}

/**
 * Escapes user-supplied text for mrkdwn: `&`, `<` and `>` are the control characters, so a reason such as
 * `<!channel>` is shown and does not notify a channel.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A code block whose content cannot close it early, shortened from the front to fit `max` characters. */
export function codeBlock(text: string, max = 2500): string {
  const safe = text.replace(/```/g, "'''").trim() || '(no output)';
  return `\`\`\`\n${tail(escapeText(safe), max - 8)}\n\`\`\``;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** How a core actor id reads in Slack: a mention for Slack users, code for API identities, "the bot" for system. */
export function who(actorId: string | null | undefined): string {
  if (!actorId) return 'someone';
  if (SLACK_USER.test(actorId)) return `<@${actorId}>`;
  if (actorId === 'system') return 'the bot';
  return `\`${escapeText(actorId)}\``;
}

/** True when `id` is a Slack user that can be DMed (API identities such as `api:ci` cannot). */
export function isSlackUser(id: string): boolean {
  return SLACK_USER.test(id);
}

/** Core messages name people by their ids; in Slack they read better as mentions. Escapes the rest. */
export function mentionIds(message: string): string {
  return escapeText(message).replace(/\b([UW](?=[A-Z0-9]*\d)[A-Z0-9]{2,})\b/g, '<@$1>');
}

/**
 * A reason the bot wrote itself ("destroyed by U0123ABCD in Slack", "cancelled by …"), cut to `max`: the ids in
 * it read as mentions, as in the core's messages. Not for free text, such as a denial reason.
 */
export function botNote(text: string, max: number): string {
  return mentionIds(truncate(text, max));
}

/** A date Slack renders in the reader's time zone, with an ISO fallback for clients that cannot. */
export function slackDate(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

/** What holds a sandbox up (Docker down, its cluster stopped), with since when. */
export function renderProblem(problem: Problem): string {
  return `:warning: ${problem.summary} (since ${slackDate(problem.since)})`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** `1 second`, `95 seconds`: a duration in whole seconds, never 0. */
export function inSeconds(ms: number): string {
  return plural(Math.max(1, Math.round(ms / 1000)), 'second');
}

/** `1 server, 2 agents` */
export function nodes(sandbox: Pick<Sandbox, 'servers' | 'agents'>): string {
  return `${plural(sandbox.servers, 'server')}, ${plural(sandbox.agents, 'agent')}`;
}

/** What is left of a sandbox's time, or what its TTL will be once it is running. */
export function timeLeft(sandbox: Sandbox, now: number): string {
  if (sandbox.status === 'ACTIVE' && sandbox.expiresAt !== null) {
    const left = sandbox.expiresAt - now;
    return left > 0 ? `${formatDuration(left)} left` : 'expiring now';
  }
  return `TTL ${formatDuration(sandbox.ttlMs)}`;
}

const STATUS_EMOJI: Record<Sandbox['status'], string> = {
  PENDING_APPROVAL: ':hourglass_flowing_sand:',
  QUEUED: ':inbox_tray:',
  CREATING: ':construction:',
  ACTIVE: ':large_green_circle:',
  DESTROYING: ':wastebasket:',
  DESTROYED: ':white_circle:',
  FAILED: ':red_circle:',
  DENIED: ':no_entry:',
  CANCELLED: ':heavy_multiplication_x:',
};

/** `:large_green_circle: ACTIVE` */
export function statusLabel(sandbox: Pick<Sandbox, 'status'>): string {
  return `${STATUS_EMOJI[sandbox.status]} ${sandbox.status}`;
}

export function section(text: string, blockId?: string): KnownBlock {
  return {
    type: 'section',
    ...(blockId === undefined ? {} : { block_id: blockId }),
    text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) },
  };
}

export function context(text: string, blockId?: string): KnownBlock {
  return {
    type: 'context',
    ...(blockId === undefined ? {} : { block_id: blockId }),
    elements: [{ type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) }],
  };
}

export function header(text: string): KnownBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: truncate(text, LIMITS.headerText), emoji: true },
  };
}

export function button(
  actionId: string,
  label: string,
  value: string,
  options: { style?: 'primary' | 'danger'; confirm?: types.ConfirmationDialog } = {},
): Button {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: truncate(label, 30), emoji: true },
    value,
    ...(options.style === undefined ? {} : { style: options.style }),
    ...(options.confirm === undefined ? {} : { confirm: options.confirm }),
  };
}

/** A Slack-native "are you sure?" dialog for destructive buttons. */
export function confirmDialog(title: string, text: string, confirm: string): types.ConfirmationDialog {
  return {
    title: { type: 'plain_text', text: truncate(title, 100) },
    text: { type: 'mrkdwn', text: truncate(text, 300) },
    confirm: { type: 'plain_text', text: truncate(confirm, 30) },
    deny: { type: 'plain_text', text: 'Keep it' },
    style: 'danger',
  };
}
