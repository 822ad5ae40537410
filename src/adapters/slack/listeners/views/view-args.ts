import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewOutput } from '@slack/bolt';

/** What Bolt passes a view_submission listener. */
export type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;

/** The typed text or the chosen option of one input, trimmed; undefined when empty. */
export function inputValue(view: ViewOutput, blockId: string, actionId: string): string | undefined {
  const state = view.state.values[blockId]?.[actionId];
  const value = (state?.selected_option?.value ?? state?.value ?? '').trim();
  return value === '' ? undefined : value;
}
