import { SandboxError } from '../../../../core/errors.js';
import type { DenyModalMetadata } from '../../blocks/modals.js';
import { DENY_INPUT } from '../../ids.js';
import type { SlackDeps } from '../../slack-deps.js';
import { describeError } from '../replies.js';
import { inputValue, type ViewArgs } from './view-args.js';

function metadataOf(text: string): DenyModalMetadata | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<DenyModalMetadata>;
    return typeof parsed.sandboxId === 'string' ? { sandboxId: parsed.sandboxId } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The deny modal's submission: denies with the reason (the core decides, as for the button), closing the
 * modal on success. A refusal, such as another approver having decided first, is shown in the modal.
 */
export function denyReasonSubmitted(deps: SlackDeps) {
  return async ({ ack, body, view }: ViewArgs): Promise<void> => {
    const reason = inputValue(view, DENY_INPUT.block, DENY_INPUT.action);
    if (!reason) {
      await ack({
        response_action: 'errors',
        errors: { [DENY_INPUT.block]: 'Say why, so the requester knows what to change.' },
      });
      return;
    }
    const metadata = metadataOf(view.private_metadata);
    const actor = deps.actors.resolve(body.user.id);
    try {
      if (!metadata) throw new Error('deny modal without a sandbox id in private_metadata');
      deps.service.deny(actor, metadata.sandboxId, reason);
      await ack();
    } catch (error) {
      const text =
        error instanceof SandboxError ? error.message : describeError(error, deps, { view: 'deny' });
      await ack({ response_action: 'errors', errors: { [DENY_INPUT.block]: text.slice(0, 300) } });
    }
  };
}
