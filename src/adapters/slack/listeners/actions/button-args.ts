import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';

/** What Bolt passes a button listener. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Buttons carry the sandbox id in `value`; a missing value reads as an unknown sandbox. */
export const sandboxIdOf = (action: ButtonAction): string => action.value ?? '';

/** True for a click on an ephemeral message (e.g. the `/sandbox destroy` confirmation). */
export const onEphemeral = (body: BlockAction): boolean =>
  (body.container as { is_ephemeral?: boolean } | undefined)?.is_ephemeral === true;
