/**
 * Every Slack identifier the app renders and listens for, in one place. They are stable: a button rendered
 * by an older version of the bot must still route to a listener after an upgrade, so never rename one.
 */

/** The slash command (manifest.yml registers the same name). */
export const SLASH_COMMAND = '/sandbox';

/** `action_id`s of buttons. The button's `value` is always the sandbox id. */
export const ACTION = {
  approveRequest: 'approve_request',
  denyRequest: 'deny_request',
  cancelRequest: 'cancel_request',
  extendSandbox: 'extend_sandbox',
  destroySandbox: 'destroy_sandbox',
  sendKubeconfig: 'send_kubeconfig',
  runTests: 'run_tests',
  newSandbox: 'new_sandbox',
} as const;

/** `callback_id`s of modals. */
export const VIEW = {
  createSandbox: 'create_sandbox',
  denyReason: 'deny_reason',
  notice: 'sandbox_notice',
} as const;

/** Input `block_id`s (and their element `action_id`s) of the create modal; view errors are keyed by them. */
export const CREATE_INPUT = {
  name: { block: 'name', action: 'name_input' },
  servers: { block: 'servers', action: 'servers_select' },
  agents: { block: 'agents', action: 'agents_select' },
  ttl: { block: 'ttl', action: 'ttl_select' },
  reason: { block: 'reason', action: 'reason_input' },
} as const;

/** The deny modal's reason input. */
export const DENY_INPUT = { block: 'deny_reason', action: 'deny_reason_input' } as const;
