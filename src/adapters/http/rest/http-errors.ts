import type { Response } from 'express';
import type { z } from 'zod';
import { SandboxError, type SandboxErrorCode } from '../../../core/errors.js';
import type { Logger } from '../../../core/ports.js';
import { describeIssues } from '../../../core/sandbox.js';

/** The one mapping of the core's error codes to HTTP statuses. */
const STATUS_BY_CODE: Readonly<Record<SandboxErrorCode, number>> = {
  invalid_input: 422,
  not_found: 404,
  forbidden: 403,
  quota_exceeded: 429,
  conflict: 409,
};

/** An error a route raises itself (bad JSON, a missing parameter) with the status and detail to send. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Every error answer has this shape, as the original server's did: `{ "detail": "what to fix" }`. */
export function sendError(res: Response, status: number, detail: string): void {
  // The type is set, not left to res.json, which keeps one a failed route already set (text/plain for /metrics).
  res.status(status).type('application/json').json({ detail });
}

/** Parses with a route contract's schema; a failure becomes a 422 naming every field that is wrong. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(422, `Invalid ${where}: ${describeIssues(parsed.error)}.`);
  return parsed.data;
}

/** Answers an error from a route: known ones with their status, anything else logged in full and shown short. */
export function sendFailure(res: Response, error: unknown, logger: Logger): void {
  if (error instanceof HttpError) {
    sendError(res, error.status, error.message);
  } else if (error instanceof SandboxError) {
    sendError(res, STATUS_BY_CODE[error.code], error.message);
  } else {
    logger.error({ err: error }, 'REST request failed');
    sendError(res, 500, "Internal error: the request could not be completed; the bot's log has the details.");
  }
}
