import type { Logger } from './ports.js';

/**
 * For work that runs again and again (a scheduled job, a timer): a failure is logged as an error when it is new,
 * at debug level while the same one repeats, and at info level once the work succeeds again. Work that fails at
 * every tick (k3d missing, the database locked or full) then costs the log one error, not one a tick.
 */
export function repeatedFailures(logger: Logger) {
  const failing = new Map<string, string>();
  return {
    failed(key: string, error: unknown, message: string, fields: object = {}): void {
      const text = error instanceof Error ? error.message : String(error);
      const again = failing.get(key) === text;
      failing.set(key, text);
      if (again) logger.debug({ ...fields, err: text }, `${message} (again, the same way)`);
      else logger.error({ ...fields, err: error }, message);
    },
    succeeded(key: string, message: string, fields: object = {}): void {
      if (failing.delete(key)) logger.info(fields, message);
    },
    /** The message of the failure `key` is in, or undefined when its work last succeeded. */
    failing: (key: string): string | undefined => failing.get(key),
    /** Forgets, without a line, the failures of work that is gone (keys not in `current`). */
    retain(current: readonly string[]): void {
      for (const key of failing.keys()) if (!current.includes(key)) failing.delete(key);
    },
  };
}
