import type { types } from '@slack/bolt';
import { formatDuration, maxNameLength, type Sandbox, type SandboxLimits } from '../../../core/sandbox.js';
import { CREATE_INPUT, DENY_INPUT, VIEW } from '../ids.js';
import { type KnownBlock, type ModalView, nodes, section, truncate, who } from './text.js';

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text, emoji: true });
const option = (text: string, value: string): types.PlainTextOption => ({ text: plain(text), value });

/** TTL choices offered in the modal: common values up to the configured maximum, plus the default. */
function ttlChoices(limits: Pick<SandboxLimits, 'defaultTtlMs' | 'maxTtlMs'>): number[] {
  const hour = 3_600_000;
  const common = [
    30 * 60_000,
    hour,
    2 * hour,
    4 * hour,
    8 * hour,
    12 * hour,
    24 * hour,
    48 * hour,
    72 * hour,
  ];
  const all = new Set([
    ...common.filter((ms) => ms <= limits.maxTtlMs),
    limits.defaultTtlMs,
    limits.maxTtlMs,
  ]);
  return [...all].sort((a, b) => a - b).slice(0, 100);
}

function numberSelect(
  blockId: string,
  actionId: string,
  label: string,
  from: number,
  to: number,
  initial: number,
): KnownBlock {
  const options = [];
  for (let n = from; n <= to && options.length < 100; n++) options.push(option(String(n), String(n)));
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    element: {
      type: 'static_select',
      action_id: actionId,
      options,
      initial_option: option(String(initial), String(initial)),
    },
  };
}

/** The "New sandbox" modal: name, servers, agents, TTL choice and reason. Errors come back inline. */
export function renderCreateModal(limits: SandboxLimits): ModalView {
  const ttls = ttlChoices(limits);
  const defaultTtl = formatDuration(limits.defaultTtlMs);
  return {
    type: 'modal',
    callback_id: VIEW.createSandbox,
    title: plain('New sandbox'),
    submit: plain('Request'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: CREATE_INPUT.name.block,
        label: plain('Name'),
        hint: plain(
          `Lowercase letters, digits and "-", up to ${maxNameLength(limits.clusterPrefix)} characters.`,
        ),
        element: {
          type: 'plain_text_input',
          action_id: CREATE_INPUT.name.action,
          placeholder: plain('e.g. demo-1'),
          max_length: Math.min(3000, maxNameLength(limits.clusterPrefix) + 10),
        },
      },
      numberSelect(
        CREATE_INPUT.servers.block,
        CREATE_INPUT.servers.action,
        'Servers (control plane)',
        1,
        limits.maxServers,
        1,
      ),
      numberSelect(
        CREATE_INPUT.agents.block,
        CREATE_INPUT.agents.action,
        'Agents (workers)',
        0,
        limits.maxAgents,
        0,
      ),
      {
        type: 'input',
        block_id: CREATE_INPUT.ttl.block,
        label: plain('Time to live'),
        hint: plain('It is destroyed after this; you can extend it while it runs.'),
        element: {
          type: 'static_select',
          action_id: CREATE_INPUT.ttl.action,
          options: ttls.map((ms) => option(formatDuration(ms), formatDuration(ms))),
          initial_option: option(defaultTtl, defaultTtl),
        },
      },
      {
        type: 'input',
        block_id: CREATE_INPUT.reason.block,
        optional: true,
        label: plain('Reason'),
        element: {
          type: 'plain_text_input',
          action_id: CREATE_INPUT.reason.action,
          multiline: true,
          max_length: 500,
          placeholder: plain('What is it for? Approvers see this.'),
        },
      },
    ],
  };
}

/** What the deny modal carries: the sandbox, and where the click came from for follow-up messages. */
export interface DenyModalMetadata {
  sandboxId: string;
  channel?: string;
}

export function renderDenyModal(sandbox: Sandbox, metadata: DenyModalMetadata): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW.denyReason,
    private_metadata: JSON.stringify(metadata),
    title: plain('Deny request'),
    submit: plain('Deny'),
    close: plain('Back'),
    blocks: [
      section(
        `Deny *${sandbox.name}* (${nodes(sandbox)}) for ${who(sandbox.owner)}? They will see your reason.`,
      ),
      {
        type: 'input',
        block_id: DENY_INPUT.block,
        label: plain('Reason'),
        element: {
          type: 'plain_text_input',
          action_id: DENY_INPUT.action,
          multiline: true,
          min_length: 1,
          max_length: 500,
        },
      },
    ],
  };
}

/** A small read-only modal: how buttons in App Home answer (there is no ephemeral message there). */
export function renderNoticeModal(title: string, blocks: KnownBlock[]): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW.notice,
    title: plain(truncate(title, 24)),
    close: plain('OK'),
    blocks: blocks.slice(0, 100),
  };
}
