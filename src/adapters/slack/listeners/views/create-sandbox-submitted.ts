import { SandboxError } from '../../../../core/errors.js';
import { formatDuration, sandboxSpecSchema } from '../../../../core/sandbox.js';
import { renderNoticeModal } from '../../blocks/modals.js';
import { nodes, section } from '../../blocks/text.js';
import { CREATE_INPUT } from '../../ids.js';
import type { SlackDeps } from '../../slack-deps.js';
import { describeError } from '../replies.js';
import { inputValue, type ViewArgs } from './view-args.js';

type Field = keyof typeof CREATE_INPUT;
const isField = (key: unknown): key is Field => typeof key === 'string' && Object.hasOwn(CREATE_INPUT, key);

/** Slack shows modal errors as plain text under the input, cut at a sensible length. */
const plainError = (text: string) => (text.length > 300 ? `${text.slice(0, 299)}…` : text);

/**
 * The create modal's submission. Its answer *is* the ack, so this listener calls the core before acking
 * (a local SQLite transaction, no network): field problems come back inline under their inputs
 * (`response_action: 'errors'`, from the core's own schema), and success turns the modal into a receipt.
 */
export function createSandboxSubmitted(deps: SlackDeps) {
  const schema = sandboxSpecSchema(deps.service.options);
  return async ({ ack, body, view }: ViewArgs): Promise<void> => {
    const actor = deps.actors.resolve(body.user.id);
    const input: Record<string, string> = {};
    for (const field of Object.keys(CREATE_INPUT) as Field[]) {
      const value = inputValue(view, CREATE_INPUT[field].block, CREATE_INPUT[field].action);
      if (value !== undefined) input[field] = value;
    }

    const checked = schema.safeParse(input);
    if (!checked.success) {
      const errors: Record<string, string> = {};
      for (const issue of checked.error.issues) {
        const field = isField(issue.path[0]) ? issue.path[0] : 'name';
        errors[CREATE_INPUT[field].block] ??= plainError(issue.message);
      }
      await ack({ response_action: 'errors', errors });
      return;
    }

    try {
      const sandbox = deps.service.request(actor, input, { via: 'slack' });
      const receipt = renderNoticeModal('Request sent', [
        section(
          `:inbox_tray: Your request for *${sandbox.name}* (${nodes(sandbox)}, ${formatDuration(sandbox.ttlMs)}) is waiting for approval in <#${deps.approversChannel}>.\nRequest id \`${sandbox.approvalId}\`. I will DM you when it is decided.`,
        ),
      ]);
      await ack({ response_action: 'update', view: receipt });
    } catch (error) {
      // A taken name or a full quota: shown under the name, where the user can act on it.
      const text =
        error instanceof SandboxError ? error.message : describeError(error, deps, { view: 'create' });
      await ack({ response_action: 'errors', errors: { [CREATE_INPUT.name.block]: plainError(text) } });
    }
    deps.actors.refreshSoon();
  };
}
