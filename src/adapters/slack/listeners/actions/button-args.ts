import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Actor } from '../../../../core/policy.js';
import type { RenderedMessage } from '../../blocks/text.js';
import type { SlackDeps } from '../../slack-deps.js';
import { describeError, notice, openWaitingModal, replyToAction } from '../replies.js';

/** What Bolt passes a button listener. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Buttons carry the sandbox id in `value`; a missing value reads as an unknown sandbox. */
const sandboxIdOf = (action: ButtonAction): string => action.value ?? '';

/** True for a click on an ephemeral message (e.g. the `/sandbox destroy` confirmation). */
const onEphemeral = (body: BlockAction): boolean =>
  (body.container as { is_ephemeral?: boolean } | undefined)?.is_ephemeral === true;

export interface ClickOptions {
  /** Shown before a refusal (default :information_source:). */
  refusalIcon?: string;
  /** Replace the message clicked on when it is ephemeral, so a confirmation cannot be clicked twice. */
  replaceEphemeral?: boolean;
  /**
   * For slow work: in App Home, a modal with this text opens right after the ack and is rewritten with the
   * answer, as the click's trigger_id expires after 3 s.
   */
  waiting?: string;
  /** A decision: the clicker's roles are checked against the approver group read now (see resolveCurrent). */
  decides?: boolean;
}

/**
 * Every button does the same around its own work: ack at once, resolve the clicker, run the work (which calls
 * the core, and may refuse with a SandboxError), and answer the clicker with its message or the refusal.
 */
export function onClick(
  deps: SlackDeps,
  name: string,
  work: (
    actor: Actor,
    sandboxId: string,
    body: BlockAction<ButtonAction>,
  ) => Promise<RenderedMessage | undefined>,
  options: ClickOptions = {},
) {
  return async ({ ack, body, action }: ButtonArgs): Promise<void> => {
    await ack();
    const actor = options.decides
      ? await deps.actors.resolveCurrent(body.user.id)
      : deps.actors.resolve(body.user.id);
    deps.actors.refreshSoon();
    const replaceOriginal = options.replaceEphemeral === true && onEphemeral(body);
    const viewId =
      options.waiting === undefined ? undefined : await openWaitingModal(deps, body, notice(options.waiting));
    let reply: RenderedMessage | undefined;
    try {
      reply = await work(actor, sandboxIdOf(action), body);
    } catch (error) {
      const text = describeError(error, deps, { action: name, user: actor.id });
      reply = notice(`${options.refusalIcon ?? ':information_source:'} ${text}`);
    }
    if (reply) await replyToAction(deps, body, reply, { replaceOriginal, viewId });
  };
}
