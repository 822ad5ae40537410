import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { type App, ErrorCode, type Receiver, ReceiverMultipleAckError } from '@slack/bolt';
import type { Logger } from '../../core/ports.js';
import { signedBySlack } from './signature.js';

/** Where each answer is reported: the payload type (`unknown` before the body is verified) and HTTP status. */
export interface SlackRequestObserver {
  observe(labels: { type: string; status: number }, seconds: number): void;
}

export interface EventsReceiverOptions {
  signingSecret: string;
  logger: Logger;
  requests?: SlackRequestObserver;
  /** Larger bodies get 413 (Bolt's limit: 4 MB). */
  maxBodyBytes?: number;
  /** A request no listener acknowledged within this long gets 404, as Bolt's receivers answer (3,001 ms). */
  unackedAfterMs?: number;
}

/** An unsigned body is read only to spot an ssl_check (`ssl_check=1&token=…`, a few dozen bytes). */
const MAX_UNSIGNED_BODY_BYTES = 4096;

/** As Slack advises: a request stamped more than five minutes from now is refused (replays, clock skew). */
const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Slack's HTTP door: a Bolt receiver on node:http. It does what Bolt's ExpressReceiver does for a request to
 * /slack/events (verify the v0 signature over the raw body, answer `ssl_check` (which Slack sends unsigned)
 * and `url_verification`, hand the payload to `App.processEvent`, send what the listener acks, answer 401/500
 * when processing fails before an ack, 404 when nothing acks in time) without express and raw-body in front of
 * it, and sends each ack with a Content-Length in one write instead of a chunked body. Measured on the ack
 * benchmark's bare app: 0.13–0.23 ms of CPU per request against 0.31–0.39 ms on ExpressReceiver.
 *
 * Every answer's time from arrival, payload type and status go to `requests` (slack_request_duration_seconds).
 * The server is the bot's own (one port for Slack, REST, MCP and metrics): it passes Slack's requests to
 * `handle`; `start` and `stop` have nothing to do.
 */
export class SlackEventsReceiver implements Receiver {
  /** Set by Bolt's App constructor, which calls `init`. */
  private bolt!: App;
  private readonly maxBodyBytes: number;
  private readonly unackedAfterMs: number;

  constructor(private readonly options: EventsReceiverOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
    this.unackedAfterMs = options.unackedAfterMs ?? 3_001;
  }

  init(app: App): void {
    this.bolt = app;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Answers one request to the events URL (POST; other methods get 405). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const reply = new Reply(res, this.options.requests);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      reply.send(405);
      req.resume();
      return;
    }
    // Slack's periodic ssl_check is the one request it sends unsigned (bolt-js #1397): an unsigned or stale
    // request is read only far enough to see whether it is one; anything else unsigned is refused.
    const stale = staleHeaders(req);
    if (stale && !isForm(req)) {
      this.refuse(reply, 401, stale);
      req.resume();
      return;
    }
    const limit = stale ? MAX_UNSIGNED_BODY_BYTES : this.maxBodyBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (stale && !refused) {
        refused = true;
        this.refuse(reply, 401, stale);
      }
    });
    req.on('end', () => {
      if (refused) return;
      const raw = Buffer.concat(chunks, Math.min(size, limit));
      if (stale) {
        if (isSslCheck(raw)) {
          reply.type = 'ssl_check';
          reply.send(200);
        } else {
          this.refuse(reply, 401, stale);
        }
        return;
      }
      if (size > this.maxBodyBytes) {
        this.refuse(reply, 413, `the body is larger than ${this.maxBodyBytes} bytes`);
        return;
      }
      this.dispatch(req, reply, raw);
    });
    req.on('error', () => {
      // The client went away mid-body: nobody is left to answer.
    });
  };

  private dispatch(req: IncomingMessage, reply: Reply, raw: Buffer): void {
    const timestamp = header(req.headers['x-slack-request-timestamp']) ?? '';
    const signature = header(req.headers['x-slack-signature']) ?? '';
    if (!signedBySlack(this.options.signingSecret, timestamp, signature, raw)) {
      this.refuse(reply, 401, 'the signature does not match (is SLACK_SIGNING_SECRET the app’s?)');
      return;
    }
    const text = raw.toString('utf8');
    let body: Record<string, unknown>;
    try {
      body = parseBody(text, req.headers['content-type']);
    } catch {
      this.refuse(reply, 400, 'the body is neither a form nor JSON Slack sends');
      return;
    }
    reply.type = payloadType(body);
    if (body.ssl_check) {
      reply.send(200);
      return;
    }
    if (body.type === 'url_verification') {
      reply.send(200, { challenge: body.challenge });
      return;
    }
    let acked = false;
    const timer = setTimeout(() => {
      if (acked) return;
      acked = true;
      this.options.logger.error(
        { type: reply.type },
        `a Slack request was not acknowledged within ${this.unackedAfterMs} ms (answered 404): no listener handled it, or one did not ack`,
      );
      reply.send(404);
    }, this.unackedAfterMs);
    const ack = async (response?: unknown): Promise<void> => {
      if (acked) throw new ReceiverMultipleAckError();
      acked = true;
      clearTimeout(timer);
      reply.send(200, response);
    };
    const retryNum = header(req.headers['x-slack-retry-num']);
    const retryReason = header(req.headers['x-slack-retry-reason']);
    this.bolt
      .processEvent({
        body,
        ack,
        ...(retryNum === undefined ? {} : { retryNum: Number.parseInt(retryNum, 10) }),
        ...(retryReason === undefined ? {} : { retryReason }),
      })
      .catch((error: unknown) => {
        // The app's error handler has logged it; what is left is to answer, if the listener has not.
        if (acked) return;
        acked = true;
        clearTimeout(timer);
        reply.send((error as { code?: string }).code === ErrorCode.AuthorizationError ? 401 : 500);
      });
  }

  private refuse(reply: Reply, status: number, reason: string): void {
    this.options.logger.warn({ status, reason }, `refused a request to the Slack events URL: ${reason}`);
    reply.send(status);
  }
}

/** The answer to one request, timed from its arrival and reported with its payload type once sent. */
class Reply {
  type = 'unknown';
  private readonly started = performance.now();

  constructor(
    private readonly res: ServerResponse,
    private readonly requests: SlackRequestObserver | undefined,
  ) {}

  /** One write: status, headers with Content-Length, body (a string as is, anything else as JSON). */
  send(status: number, response?: unknown): void {
    const { res } = this;
    if (response === undefined || response === '' || response === null) {
      res.writeHead(status, { 'content-length': 0 }).end();
    } else {
      const json = typeof response !== 'string';
      const text = json ? JSON.stringify(response) : response;
      res
        .writeHead(status, {
          ...(json ? { 'content-type': 'application/json' } : {}),
          'content-length': Buffer.byteLength(text),
        })
        .end(text);
    }
    this.requests?.observe({ type: this.type, status }, (performance.now() - this.started) / 1000);
  }
}

/** A label for the payload: Slack's `type` (block_actions, view_submission, event_callback…) or slash_command. */
function payloadType(body: Record<string, unknown>): string {
  if (typeof body.command === 'string') return 'slash_command';
  if (body.ssl_check) return 'ssl_check';
  return typeof body.type === 'string' && /^[a-z_]{1,40}$/.test(body.type) ? body.type : 'other';
}

/** Commands and interactivity come as forms (interactivity as JSON in `payload`), events as JSON. */
function parseBody(text: string, contentType: string | undefined): Record<string, unknown> {
  let parsed: unknown;
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const form = parseForm(text);
    parsed = typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
  } else {
    parsed = JSON.parse(text);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object');
  return parsed as Record<string, unknown>;
}

/** Slack's certificate check: a form post with `ssl_check=1`, sent without signature headers. */
function isSslCheck(raw: Buffer): boolean {
  return parseForm(raw.toString('utf8')).ssl_check === '1';
}

const isForm = (req: IncomingMessage) =>
  req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Why the signature headers cannot be Slack's (missing, or a timestamp far from now), or undefined. */
function staleHeaders(req: IncomingMessage): string | undefined {
  const timestamp = header(req.headers['x-slack-request-timestamp']);
  if (!timestamp || !header(req.headers['x-slack-signature'])) return 'the signature headers are missing';
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds)) return 'the request timestamp is not a number';
  const skew = Math.round(seconds - Date.now() / 1000);
  if (Math.abs(skew) > MAX_SKEW_SECONDS) {
    const off = `${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} this host's clock`;
    return `the request timestamp is ${off}, more than five minutes (a replay, or this host's clock is wrong: if every request is refused so, check its time sync)`;
  }
  return undefined;
}
