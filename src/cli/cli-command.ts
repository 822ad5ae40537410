import type { ParseArgsConfig } from 'node:util';
import type { ApiClient } from './api-client.js';

/** Where a command writes: results to stdout, progress and errors to stderr (so `--json` output stays clean). */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes: documented in `--help`. */
export const EXIT = { ok: 0, failed: 1, usage: 2, timedOut: 3 } as const;

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CommandInput {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  client: ApiClient;
  io: CliIo;
  json: boolean;
  /** Waits between polls; tests may pass a faster one. */
  sleep: (ms: number) => Promise<void>;
}

/** One client subcommand: its own options (the common --url/--token/--json/--help are added) and a run. */
export interface CliCommand {
  name: string;
  summary: string;
  /** `<id>`-style arguments, for the usage line. */
  args: string;
  /** Lines describing the command's own options. */
  help: string[];
  options: NonNullable<ParseArgsConfig['options']>;
  run(input: CommandInput): Promise<number>;
}

/** The single positional argument a command needs, or a usage error naming it. */
export function requirePositional(positionals: string[], what: string): string {
  const [value, ...rest] = positionals;
  if (!value) throw new UsageError(`missing ${what}`);
  if (rest.length > 0) throw new UsageError(`unexpected argument(s): ${rest.join(' ')}`);
  return value;
}

export const stringOption = (values: CommandInput['values'], name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
