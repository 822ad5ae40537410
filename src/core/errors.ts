/**
 * The few errors the core raises. Messages are written for the person who will read them and say what to do;
 * every door maps `code` once (Slack ephemeral text, HTTP status, MCP isError).
 */
export type SandboxErrorCode = 'invalid_input' | 'not_found' | 'forbidden' | 'quota_exceeded' | 'conflict';

/**
 * A refusal the user is told about: an outcome, not a bug, so it carries no stack trace (capturing one through
 * Bolt's middleware chain cost ~25 µs per refused Slack command under load).
 */
export class SandboxError extends Error {
  readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidInput extends SandboxError {
  constructor(message: string) {
    super('invalid_input', message);
  }
}

export class NotFound extends SandboxError {
  constructor(what: string) {
    super('not_found', `${what} was not found; list your sandboxes to find its name or id.`);
  }
}

export class Forbidden extends SandboxError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class QuotaExceeded extends SandboxError {
  constructor(message: string) {
    super('quota_exceeded', message);
  }
}

/** The sandbox is not in a state that allows the action, usually because someone else acted first. */
export class Conflict extends SandboxError {
  constructor(message: string) {
    super('conflict', message);
  }
}
