import { pino } from 'pino';

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
