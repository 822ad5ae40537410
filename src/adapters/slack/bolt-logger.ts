import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../core/ports.js';

const text = (parts: unknown[]): string =>
  parts
    .map((part) =>
      part instanceof Error ? part.message : typeof part === 'string' ? part : JSON.stringify(part),
    )
    .join(' ');

/**
 * Bolt's and the WebClient's log lines, into the app's logger. Debug lines are dropped on purpose: the
 * WebClient's debug output prints request bodies, and a kubeconfig upload is one.
 */
export function toBoltLogger(logger: Logger): BoltLogger {
  let name = 'slack';
  let level = LogLevel.INFO;
  return {
    debug: () => {},
    info: (...parts: unknown[]) => logger.info({ component: name }, text(parts)),
    warn: (...parts: unknown[]) => logger.warn({ component: name }, text(parts)),
    error: (...parts: unknown[]) => logger.error({ component: name }, text(parts)),
    setLevel: (next: LogLevel) => {
      level = next === LogLevel.DEBUG ? LogLevel.INFO : next;
    },
    getLevel: () => level,
    setName: (next: string) => {
      name = next;
    },
  };
}
