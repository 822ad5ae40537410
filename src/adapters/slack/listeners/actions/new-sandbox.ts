import { renderCreateModal } from '../../blocks/modals.js';
import type { SlackDeps } from '../../slack-deps.js';
import type { ButtonArgs } from './button-args.js';

/** "New sandbox" in App Home opens the same modal as `/sandbox create` without arguments. */
export function newSandbox(deps: SlackDeps) {
  return async ({ ack, body }: ButtonArgs): Promise<void> => {
    await ack();
    const view = renderCreateModal(deps.service.options);
    await deps.call('views.open', () => deps.client.views.open({ trigger_id: body.trigger_id, view }));
  };
}
