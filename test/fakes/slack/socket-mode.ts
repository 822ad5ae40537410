// Slack's side of Socket Mode (slack-platform.md §1.2) for the fake: `apps.connections.open` with the app-level
// token hands out a one-use WebSocket URL; on connecting the app gets `hello`; Slack then pushes envelopes
// `{envelope_id, type, payload, accepts_response_payload, retry_attempt, retry_reason}` and the app answers
// each with `{envelope_id, payload?}`, which is what an HTTP ack body would have been.

import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

const PING_INTERVAL_MS = 10_000;

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface EnvelopeOptions {
  readonly retryAttempt?: number;
  readonly retryReason?: string;
  /** How long to wait for the app's ack. Slack: 3 s, then it retries. */
  readonly timeoutMs?: number;
}

export class SocketModeHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly acks = new Map<string, (payload: unknown) => void>();

  constructor(
    readonly appToken: string,
    private readonly appId: string,
  ) {}

  /** Takes WebSocket upgrades to /link on the fake's HTTP server; a URL works once, as Slack's do. */
  attach(server: Server): void {
    server.on('upgrade', (req, socket: Duplex, head) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/link' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.welcome(ws));
    });
  }

  /** `apps.connections.open`: only an app-level token (xapp-…) may open a connection. */
  open(token: string | undefined, origin: string): Record<string, unknown> {
    if (token === undefined) return { ok: false, error: 'not_authed' };
    if (!token.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
    if (token !== this.appToken) return { ok: false, error: 'invalid_auth' };
    const ticket = randomBytes(12).toString('hex');
    this.tickets.add(ticket);
    return { ok: true, url: `${origin.replace(/^http/, 'ws')}/link?ticket=${ticket}` };
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Pushes one envelope to a connected app and resolves with the payload of its ack. */
  send(type: EnvelopeType, payload: unknown, options: EnvelopeOptions = {}): Promise<unknown> {
    const [socket] = this.sockets;
    if (socket === undefined) return Promise.reject(new Error('no app is connected over Socket Mode'));
    const envelopeId = randomUUID();
    const timeoutMs = options.timeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(envelopeId);
        reject(new Error(`the app did not ack envelope ${envelopeId} (${type}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.acks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      socket.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: options.retryAttempt ?? 0,
          retry_reason: options.retryReason ?? '',
        }),
      );
    });
  }

  drop(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  close(): void {
    this.drop();
    this.wss.close();
  }

  private welcome(socket: WebSocket): void {
    this.sockets.add(socket);
    // Slack pings its end every few seconds; the SDK reconnects after 30 s without one.
    const pinger = setInterval(() => socket.ping(), PING_INTERVAL_MS).unref();
    socket.on('close', () => {
      clearInterval(pinger);
      this.sockets.delete(socket);
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      const resolve = this.acks.get(message.envelope_id ?? '');
      if (resolve === undefined) return;
      this.acks.delete(message.envelope_id ?? '');
      resolve(message.payload);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
  }
}
