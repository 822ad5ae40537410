import { UsageError } from './cli-command.js';

/** Where the CLI finds the server and its token when no flag says: SANDBOX_URL and SANDBOX_TOKEN. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface Connection {
  url: string;
  token: string | undefined;
}

/** Flags win over the environment; the environment is a parameter so tests and callers can pass their own. */
export function resolveConnection(
  flags: { url?: string | undefined; token?: string | undefined },
  env: Record<string, string | undefined> = process.env,
): Connection {
  const url = flags.url ?? (env.SANDBOX_URL?.trim() || DEFAULT_URL);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(
      `${flags.url === undefined ? 'SANDBOX_URL' : '--url'} "${url}" is not an http(s) URL; use e.g. ${DEFAULT_URL}`,
    );
  }
  const token = flags.token ?? (env.SANDBOX_TOKEN?.trim() || undefined);
  return { url: url.replace(/\/+$/, ''), token };
}
