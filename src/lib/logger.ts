import { pino } from 'pino';
import type { Logger } from '../core/ports.js';

/**
 * JSON logs on stdout (or stderr, for the MCP stdio server whose stdout is the protocol). Known secret-bearing
 * fields are redacted as a second line of defence; the first is never logging them.
 */
export function createLogger(level: string, destination: 1 | 2 = 1) {
  return pino(
    {
      level,
      base: { service: 'k3d-sandbox-bot' },
      redact: {
        paths: [
          'kubeconfig',
          '*.kubeconfig',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: destination, sync: false }),
  );
}

/** The same logger, counting its warnings and errors (`sandbox_log_messages_total{level}`). */
export function countingLogger(logger: Logger, counter: { inc(labels: { level: string }): void }): Logger {
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn(obj, msg) {
      counter.inc({ level: 'warn' });
      logger.warn(obj, msg);
    },
    error(obj, msg) {
      counter.inc({ level: 'error' });
      logger.error(obj, msg);
    },
  };
}
