// Server-side Block Kit checks of the fake Slack: the limits from slack-platform.md §7, reported the way
// Slack reports them (`response_metadata.messages` entries like
// "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"), so a builder bug fails a
// test here instead of in production. Only limits Slack documents are enforced; rendering rules are not.

import { isDeepStrictEqual } from 'node:util';

type Json = Record<string, unknown>;

export type Surface = 'message' | 'modal' | 'home';

/** The first problem found decides the error code; every problem is listed, as Slack does. */
export interface BlockKitRejection {
  readonly error: string;
  readonly messages: readonly string[];
}

const MAX_BLOCKS: Record<Surface, number> = { message: 50, modal: 100, home: 100 };

const BLOCK_TYPES = new Set([
  'actions',
  'call',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

const TEXT_KEYS = { plain_text: ['type', 'text', 'emoji'], mrkdwn: ['type', 'text', 'verbatim'] };

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Slack counts characters, not UTF-16 code units, so an emoji is one character.
const charCount = (text: string): number => [...text].length;

class Problems {
  readonly list: string[] = [];

  add(pointer: string, reason: string): void {
    this.list.push(`[ERROR] ${reason} [json-pointer:${pointer}]`);
  }

  maxChars(value: unknown, max: number, pointer: string): void {
    if (value === undefined) return;
    if (typeof value !== 'string') this.add(pointer, 'must be a string');
    else if (charCount(value) > max) this.add(pointer, `must be less than ${max + 1} characters`);
  }

  maxItems(value: unknown, max: number, pointer: string, min = 0): void {
    if (!Array.isArray(value)) {
      this.add(pointer, 'must be an array');
      return;
    }
    if (value.length > max) this.add(pointer, `must provide no more than ${max} items`);
    if (value.length < min) this.add(pointer, `must provide at least ${min} items`);
  }

  text(value: unknown, pointer: string, max: number, plainOnly = false): void {
    if (!isObject(value)) {
      this.add(pointer, 'must be a text object');
      return;
    }
    if (value.type !== 'plain_text' && (plainOnly || value.type !== 'mrkdwn')) {
      this.add(`${pointer}/type`, plainOnly ? 'must be plain_text' : 'must be plain_text or mrkdwn');
    }
    // `emoji` belongs to plain_text and `verbatim` to mrkdwn; Slack refuses anything else in a text object.
    const allowed = value.type === 'mrkdwn' ? TEXT_KEYS.mrkdwn : TEXT_KEYS.plain_text;
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.add(pointer, `invalid additional property: ${key}`);
    }
    if (typeof value.text !== 'string') this.add(`${pointer}/text`, 'must be a string');
    else if (value.text.length === 0) this.add(`${pointer}/text`, 'must be more than 0 characters');
    else this.maxChars(value.text, max, `${pointer}/text`);
  }
}

function checkOptions(p: Problems, options: unknown, max: number, pointer: string): void {
  p.maxItems(options, max, pointer, 1);
  if (!Array.isArray(options)) return;
  for (const [i, option] of options.entries()) {
    const at = `${pointer}/${i}`;
    if (!isObject(option)) {
      p.add(at, 'must be an option object');
      continue;
    }
    p.text(option.text, `${at}/text`, 75);
    p.maxChars(option.value, 150, `${at}/value`);
    if (option.description !== undefined) p.text(option.description, `${at}/description`, 75, true);
  }
}

const checkSelect = (p: Problems, el: Json, at: string): void => {
  if (el.options !== undefined) checkOptions(p, el.options, 100, `${at}/options`);
  if (el.option_groups !== undefined) p.maxItems(el.option_groups, 100, `${at}/option_groups`, 1);
  if (el.placeholder !== undefined) p.text(el.placeholder, `${at}/placeholder`, 150, true);
};

/** Slack: an initial option "exactly matches one of the options" (text object included) of a static list. */
function checkInitialOptions(p: Problems, el: Json, at: string): void {
  const grouped = Array.isArray(el.option_groups)
    ? el.option_groups.flatMap((g) => (isObject(g) && Array.isArray(g.options) ? g.options : []))
    : [];
  const offered = [...(Array.isArray(el.options) ? el.options : []), ...grouped];
  const check = (option: unknown, pointer: string) => {
    if (!offered.some((o) => isDeepStrictEqual(o, option))) {
      p.add(pointer, 'must exactly match one of the options');
    }
  };
  if (el.initial_option !== undefined) check(el.initial_option, `${at}/initial_option`);
  if (Array.isArray(el.initial_options)) {
    for (const [i, option] of el.initial_options.entries()) check(option, `${at}/initial_options/${i}`);
  }
}

const checkStaticSelect = (p: Problems, el: Json, at: string): void => {
  checkSelect(p, el, at);
  checkInitialOptions(p, el, at);
};

// Per element type: the checks beyond the shared action_id rule. Types not listed are accepted unchecked.
const ELEMENT_RULES: Record<string, (p: Problems, el: Json, at: string) => void> = {
  button: (p, el, at) => {
    p.text(el.text, `${at}/text`, 75, true);
    p.maxChars(el.value, 2000, `${at}/value`);
    p.maxChars(el.url, 3000, `${at}/url`);
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
      p.add(`${at}/style`, 'must be one of: primary, danger');
    }
  },
  static_select: checkStaticSelect,
  multi_static_select: checkStaticSelect,
  external_select: checkSelect,
  multi_external_select: checkSelect,
  users_select: checkSelect,
  multi_users_select: checkSelect,
  conversations_select: checkSelect,
  multi_conversations_select: checkSelect,
  channels_select: checkSelect,
  multi_channels_select: checkSelect,
  overflow: (p, el, at) => checkOptions(p, el.options, 5, `${at}/options`),
  radio_buttons: (p, el, at) => {
    checkOptions(p, el.options, 10, `${at}/options`);
    checkInitialOptions(p, el, at);
  },
  checkboxes: (p, el, at) => {
    checkOptions(p, el.options, 10, `${at}/options`);
    checkInitialOptions(p, el, at);
  },
  plain_text_input: (p, el, at) => {
    for (const key of ['min_length', 'max_length'] as const) {
      const value = el[key];
      if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 3000)) {
        p.add(`${at}/${key}`, 'must be a number between 0 and 3000');
      }
    }
    if (el.placeholder !== undefined) p.text(el.placeholder, `${at}/placeholder`, 150, true);
  },
  image: (p, el, at) => {
    if (el.alt_text === undefined) p.add(`${at}/alt_text`, 'is required');
    p.maxChars(el.alt_text, 2000, `${at}/alt_text`);
  },
};

/** The "are you sure?" dialog of an interactive element. */
function checkConfirm(p: Problems, confirm: unknown, at: string): void {
  if (!isObject(confirm)) {
    p.add(at, 'must be a confirmation dialog object');
    return;
  }
  p.text(confirm.title, `${at}/title`, 100, true);
  p.text(confirm.text, `${at}/text`, 300);
  p.text(confirm.confirm, `${at}/confirm`, 30, true);
  p.text(confirm.deny, `${at}/deny`, 30, true);
  if (confirm.style !== undefined && confirm.style !== 'primary' && confirm.style !== 'danger') {
    p.add(`${at}/style`, 'must be one of: primary, danger');
  }
}

function checkElement(p: Problems, element: unknown, at: string): void {
  if (!isObject(element) || typeof element.type !== 'string') {
    p.add(at, 'must be a block element object with a type');
    return;
  }
  p.maxChars(element.action_id, 255, `${at}/action_id`);
  if (element.confirm !== undefined) checkConfirm(p, element.confirm, `${at}/confirm`);
  ELEMENT_RULES[element.type]?.(p, element, at);
}

const BLOCK_RULES: Record<string, (p: Problems, block: Json, at: string) => void> = {
  section: (p, block, at) => {
    if (block.text === undefined && block.fields === undefined) {
      p.add(at, 'must provide either text or fields');
    }
    if (block.text !== undefined) p.text(block.text, `${at}/text`, 3000);
    if (block.fields !== undefined) {
      p.maxItems(block.fields, 10, `${at}/fields`, 1);
      if (Array.isArray(block.fields)) {
        for (const [i, field] of block.fields.entries()) p.text(field, `${at}/fields/${i}`, 2000);
      }
    }
    if (block.accessory !== undefined) checkElement(p, block.accessory, `${at}/accessory`);
  },
  header: (p, block, at) => p.text(block.text, `${at}/text`, 150, true),
  context: (p, block, at) => {
    p.maxItems(block.elements, 10, `${at}/elements`, 1);
    if (!Array.isArray(block.elements)) return;
    block.elements.forEach((el, i) => {
      const elAt = `${at}/elements/${i}`;
      if (isObject(el) && el.type === 'image') checkElement(p, el, elAt);
      else p.text(el, elAt, 3000);
    });
  },
  actions: (p, block, at) => {
    p.maxItems(block.elements, 25, `${at}/elements`, 1);
    if (!Array.isArray(block.elements)) return;
    const actionIds = new Set<string>();
    block.elements.forEach((el, i) => {
      checkElement(p, el, `${at}/elements/${i}`);
      // Slack routes a click by (block_id, action_id); two equal action_ids in one block are ambiguous.
      if (isObject(el) && typeof el.action_id === 'string') {
        if (actionIds.has(el.action_id)) {
          p.add(`${at}/elements/${i}/action_id`, `duplicate action_id "${el.action_id}" in this block`);
        }
        actionIds.add(el.action_id);
      }
    });
  },
  input: (p, block, at) => {
    p.text(block.label, `${at}/label`, 2000, true);
    if (block.hint !== undefined) p.text(block.hint, `${at}/hint`, 2000, true);
    if (block.element === undefined) p.add(`${at}/element`, 'is required');
    else checkElement(p, block.element, `${at}/element`);
  },
  image: (p, block, at) => {
    if (block.image_url === undefined && block.slack_file === undefined) {
      p.add(at, 'must provide either image_url or slack_file');
    }
    p.maxChars(block.image_url, 3000, `${at}/image_url`);
    if (block.alt_text === undefined) p.add(`${at}/alt_text`, 'is required');
    p.maxChars(block.alt_text, 2000, `${at}/alt_text`);
    if (block.title !== undefined) p.text(block.title, `${at}/title`, 2000, true);
  },
  markdown: (p, block, at) => {
    if (typeof block.text !== 'string') p.add(`${at}/text`, 'must be a string');
    else p.maxChars(block.text, 12000, `${at}/text`);
  },
};

function checkBlocks(p: Problems, blocks: unknown, surface: Surface, pointer: string): void {
  if (!Array.isArray(blocks)) {
    p.add(pointer, 'must be an array');
    return;
  }
  const max = MAX_BLOCKS[surface];
  if (blocks.length > max) p.add(pointer, `must provide no more than ${max} items`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `${pointer}/${i}`;
    if (!isObject(block) || typeof block.type !== 'string') {
      p.add(at, 'must be a block object with a type');
      return;
    }
    if (!BLOCK_TYPES.has(block.type)) p.add(`${at}/type`, `unsupported block type "${block.type}"`);
    if (block.block_id !== undefined) {
      p.maxChars(block.block_id, 255, `${at}/block_id`);
      if (typeof block.block_id === 'string') {
        if (blockIds.has(block.block_id)) {
          p.add(`${at}/block_id`, `duplicate block_id "${block.block_id}"`);
        }
        blockIds.add(block.block_id);
      }
    }
    BLOCK_RULES[block.type]?.(p, block, at);
  });
}

/**
 * Checks the text and blocks of a message (chat.postMessage, chat.update, chat.postEphemeral, response_url).
 * `blocks` must already be JSON-decoded; a string here means it was not valid JSON.
 */
export function checkMessageContent(text: unknown, blocks: unknown): BlockKitRejection | undefined {
  if (typeof text === 'string' && charCount(text) > 40000) {
    return { error: 'msg_too_long', messages: ['[ERROR] text must be less than 40001 characters'] };
  }
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) {
    return { error: 'invalid_blocks_format', messages: ['[ERROR] blocks must be a JSON array'] };
  }
  const p = new Problems();
  checkBlocks(p, blocks, 'message', '/blocks');
  return p.list.length === 0 ? undefined : { error: 'invalid_blocks', messages: p.list };
}

/**
 * Checks a view for views.open/push/update/publish. Slack answers a bad view with `invalid_arguments`
 * (not `invalid_blocks`), with JSON pointers into `/view`.
 */
export function checkView(view: unknown, expectedType?: 'modal' | 'home'): BlockKitRejection | undefined {
  const p = new Problems();
  if (!isObject(view)) {
    p.add('/view', 'must be a JSON object');
    return { error: 'invalid_arguments', messages: p.list };
  }
  if (view.type !== 'modal' && view.type !== 'home') p.add('/view/type', 'must be one of: modal, home');
  else if (expectedType !== undefined && view.type !== expectedType) {
    p.add('/view/type', `must be ${expectedType} for this method`);
  }
  const surface: Surface = view.type === 'home' ? 'home' : 'modal';
  if (surface === 'modal') {
    p.text(view.title, '/view/title', 24, true);
    if (view.submit !== undefined) p.text(view.submit, '/view/submit', 24, true);
    if (view.close !== undefined) p.text(view.close, '/view/close', 24, true);
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      p.add('/view/submit', 'is required when the view has input blocks');
  }
  p.maxChars(view.private_metadata, 3000, '/view/private_metadata');
  p.maxChars(view.callback_id, 255, '/view/callback_id');
  p.maxChars(view.external_id, 255, '/view/external_id');
  checkBlocks(p, view.blocks, surface, '/view/blocks');
  return p.list.length === 0 ? undefined : { error: 'invalid_arguments', messages: p.list };
}
