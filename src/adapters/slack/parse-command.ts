import { type Subcommand, USAGE } from './blocks/help.js';

/**
 * Parses the text of `/sandbox …` into a subcommand and its raw arguments. Only the shape is checked here
 * (which words, which flags); the values (name, numbers, durations) are validated by the core's schemas.
 */

export type ParsedCommand =
  | { sub: 'create'; input: CreateArgs | undefined }
  | { sub: 'list'; all: boolean }
  | { sub: 'status' | 'kubeconfig' | 'destroy' | 'cancel'; name: string }
  | { sub: 'extend'; name: string; duration: string | undefined }
  | { sub: 'test'; name: string; suite: string | undefined }
  | { sub: 'help'; unknown: string | undefined };

/** The create flags as typed; the core coerces and validates them. */
export interface CreateArgs {
  name?: string;
  servers?: string;
  agents?: string;
  ttl?: string;
  reason?: string;
}

/** Bad command syntax: what was wrong, and the accepted form of that subcommand. */
export class CommandSyntaxError extends Error {
  override name = 'CommandSyntaxError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

const CREATE_KEYS = ['name', 'servers', 'agents', 'ttl', 'reason'] as const;
type CreateKey = (typeof CREATE_KEYS)[number];
const isCreateKey = (key: string): key is CreateKey => (CREATE_KEYS as readonly string[]).includes(key);

/** `key=` or `--key=`: a quote right after it opens the value, as in `ttl='4h'`. */
const OPTION_PREFIX = /^(--)?[a-z][a-z_-]*=$/i;

/**
 * Splits command text into words. A double quote (straight or curly) groups words up to the next double quote.
 * A single quote (straight, or the opening curly ‘ a Mac types) groups words only where it opens a word (or a
 * `key=` value), up to a ' or ’ that ends a word, so apostrophes such as `can't` or `customer’s` are plain
 * letters: ’ (U+2019) is what Slack clients type for every apostrophe. Slack's HTML escapes of `&`, `<` and `>`
 * are undone first.
 */
export function tokenize(text: string, usage: string = USAGE.help): string[] {
  const chars = Array.from(
    text
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .replace(/[\u201C\u201D\u201E\u00AB\u00BB]/g, '"')
      .replace(/[\u2018\u201A]/g, "'"),
  );
  const isSpace = (char: string | undefined) => char === undefined || /\s/.test(char);
  const closes = (char: string, next: string | undefined) =>
    quote === '"' ? char === '"' : (char === "'" || char === '\u2019') && isSpace(next);
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let quote: string | undefined;
  for (const [i, char] of chars.entries()) {
    if (quote) {
      if (closes(char, chars[i + 1])) quote = undefined;
      else current += char;
    } else if ((char === '"' || char === "'") && (!inToken || OPTION_PREFIX.test(current))) {
      quote = char;
      inToken = true;
    } else if (isSpace(char)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += char;
      inToken = true;
    }
  }
  if (quote) throw new CommandSyntaxError(`A ${quote} quote is not closed.`, usage);
  if (inToken) tokens.push(current);
  return tokens;
}

const isFlag = (token: string) => token.startsWith('--');
const keyValue = (token: string) => /^([a-z][a-z_-]*)=(.*)$/is.exec(token);

/** A token that starts another create option: `--x`, or `key=value` for a known key. */
function startsOption(token: string): boolean {
  if (isFlag(token)) return true;
  const kv = keyValue(token);
  return kv !== null && isCreateKey((kv[1] ?? '').toLowerCase());
}

function parseCreate(tokens: string[]): CreateArgs | undefined {
  if (tokens.length === 0) return undefined;
  const usage = USAGE.create;
  const args: CreateArgs = {};
  const set = (key: CreateKey, value: string, shown: string) => {
    if (args[key] !== undefined) throw new CommandSyntaxError(`\`${shown}\` is given twice.`, usage);
    args[key] = value;
  };
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i++] as string;
    let key: string;
    let value: string | undefined;
    if (isFlag(token)) {
      const eq = token.indexOf('=');
      key = (eq === -1 ? token.slice(2) : token.slice(2, eq)).toLowerCase();
      value = eq === -1 ? undefined : token.slice(eq + 1);
      if (!isCreateKey(key)) {
        throw new CommandSyntaxError(
          `Unknown option \`${token}\`; the options are --servers, --agents, --ttl and --reason.`,
          usage,
        );
      }
    } else {
      const kv = keyValue(token);
      const kvKey = kv?.[1]?.toLowerCase();
      if (kv && kvKey !== undefined && isCreateKey(kvKey)) {
        key = kvKey;
        value = kv[2] ?? '';
      } else if (kv) {
        throw new CommandSyntaxError(
          `Unknown option \`${kv[1]}=\`; the options are servers=, agents=, ttl= and reason=.`,
          usage,
        );
      } else if (args.name === undefined) {
        set('name', token, 'name');
        continue;
      } else {
        throw new CommandSyntaxError(
          `Unexpected \`${token}\`: a sandbox has one name (put a reason after --reason).`,
          usage,
        );
      }
    }
    if (key === 'reason') {
      // The reason runs on to the next option, so `--reason fix the login bug` needs no quotes.
      const words = value === undefined ? [] : [value];
      while (i < tokens.length && !startsOption(tokens[i] as string)) words.push(tokens[i++] as string);
      value = words.join(' ');
      if (value === '') throw new CommandSyntaxError('`--reason` needs some text after it.', usage);
    } else if (value === undefined) {
      const next = tokens[i];
      if (next === undefined || startsOption(next)) {
        throw new CommandSyntaxError(
          `\`--${key}\` needs a value, e.g. \`--${key} ${example(key as CreateKey)}\`.`,
          usage,
        );
      }
      value = next;
      i++;
    }
    set(key as CreateKey, value, `--${key}`);
  }
  return args;
}

function example(key: CreateKey): string {
  return { name: 'demo-1', servers: '1', agents: '2', ttl: '4h', reason: 'text' }[key];
}

/** `<name> [optional]`: one required word and up to `optional` more. */
function positional(sub: Subcommand, tokens: string[], optional: 0 | 1): [string, string | undefined] {
  const usage = USAGE[sub];
  const flag = tokens.find(isFlag);
  if (flag) throw new CommandSyntaxError(`\`${sub}\` takes no option \`${flag}\`.`, usage);
  const [name, extra, ...rest] = tokens;
  if (name === undefined) throw new CommandSyntaxError(`\`${sub}\` needs the name of a sandbox.`, usage);
  const unexpected = optional === 0 ? extra : rest[0];
  if (unexpected !== undefined) throw new CommandSyntaxError(`Unexpected \`${unexpected}\`.`, usage);
  return [name, optional === 0 ? undefined : extra];
}

/** Parses `/sandbox` text. Throws CommandSyntaxError for malformed input; unknown words become help. */
export function parseCommand(text: string): ParsedCommand {
  const firstWord = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const usage = Object.hasOwn(USAGE, firstWord) ? USAGE[firstWord as Subcommand] : USAGE.help;
  const [first, ...tokens] = tokenize(text, usage);
  const sub = first?.toLowerCase();
  switch (sub) {
    case undefined:
    case 'help':
      return { sub: 'help', unknown: undefined };
    case 'create':
      return { sub: 'create', input: parseCreate(tokens) };
    case 'list': {
      const unexpected = tokens.find((t) => !['--all', 'all', '-a'].includes(t.toLowerCase()));
      if (unexpected !== undefined) throw new CommandSyntaxError(`Unexpected \`${unexpected}\`.`, USAGE.list);
      return { sub: 'list', all: tokens.length > 0 };
    }
    case 'status':
    case 'kubeconfig':
    case 'destroy':
    case 'cancel':
      return { sub, name: positional(sub, tokens, 0)[0] };
    case 'extend': {
      const [name, duration] = positional(sub, tokens, 1);
      return { sub, name, duration };
    }
    case 'test': {
      const [name, suite] = positional(sub, tokens, 1);
      return { sub, name, suite };
    }
    default:
      return { sub: 'help', unknown: first };
  }
}
