import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiToken } from '../../config.js';
import type { Actor } from '../../core/policy.js';
import { sendError } from './rest/http-errors.js';

/** The identity of every API caller when no token is configured: loopback only, with admin rights. */
const LOCAL_ACTOR: Actor = { id: 'api:local', isApprover: true, isAdmin: true };

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Headers a reverse proxy adds: behind one, every remote client would reach the API from the loopback. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'];

function actorForToken(token: ApiToken): Actor {
  return {
    id: `api:${token.name}`,
    isApprover: token.role === 'approver' || token.role === 'admin',
    isAdmin: token.role === 'admin',
  };
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function hostnameOf(hostHeader: string): string {
  // "[::1]:3000" keeps its brackets; "localhost:3000" loses the port.
  return hostHeader.startsWith('[')
    ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
    : hostHeader.split(':')[0]!;
}

/**
 * Without tokens the API is open to this machine only. A reverse proxy on this machine (a TLS terminator)
 * would pass every remote client through the loopback, so a request with proxy headers is refused. A browser
 * on this machine could still be steered at it (DNS rebinding, a cross-site form, a sandboxed page sending
 * `Origin: null`), so the Host must name the loopback and a browser Origin, if any, must be the loopback too.
 */
function localRequestProblem(req: Request): string | undefined {
  const address = req.socket.remoteAddress ?? '';
  if (!LOOPBACK_ADDRESSES.has(address)) {
    return 'This API has no tokens configured, so it answers only on the loopback interface. Set API_TOKENS (name:token:role entries) on the server and send Authorization: Bearer <token>.';
  }
  const proxyHeader = PROXY_HEADERS.find((name) => req.headers[name] !== undefined);
  if (proxyHeader !== undefined) {
    return `This request came through a proxy (it carries ${proxyHeader}), and without API_TOKENS the API trusts only clients on this machine that connect directly. Set API_TOKENS (name:token:role entries) on the server to serve through a proxy, and send Authorization: Bearer <token>.`;
  }
  const host = req.headers.host;
  if (host !== undefined && !LOOPBACK_HOSTNAMES.has(hostnameOf(host).toLowerCase())) {
    return `Without API_TOKENS the API accepts only Host localhost or 127.0.0.1, not "${host}"; set API_TOKENS to serve other names.`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost = '';
    try {
      originHost = new URL(origin).hostname;
    } catch {
      // an unparsable Origin, and "null" (a sandboxed page, a file, a redirect), is refused below
    }
    if (!['localhost', '127.0.0.1', '[::1]'].includes(originHost)) {
      return 'Without API_TOKENS the API refuses requests from web pages of other origins; set API_TOKENS and send a bearer token.';
    }
  }
  return undefined;
}

export type ApiAuth = ReturnType<typeof createApiAuth>;

/**
 * Resolves the caller of a REST route or of /mcp to a core Actor, or answers 401. Bearer tokens from
 * API_TOKENS are compared as SHA-256 digests with timingSafeEqual, every configured token each time, so
 * neither a token's length nor its position leaks through timing. The token itself is never logged.
 */
export function createApiAuth(tokens: readonly ApiToken[]) {
  const known = tokens.map((token) => ({ actor: actorForToken(token), digest: digest(token.token) }));

  function identify(req: Request): { actor: Actor } | { problem: string } {
    if (known.length === 0) {
      const problem = localRequestProblem(req);
      return problem ? { problem } : { actor: LOCAL_ACTOR };
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      return {
        problem:
          "Missing bearer token: send Authorization: Bearer <token> with a token from the server's API_TOKENS.",
      };
    }
    const presented = digest(match[1]!);
    let found: Actor | undefined;
    for (const candidate of known) {
      if (timingSafeEqual(candidate.digest, presented) && !found) found = candidate.actor;
    }
    return found
      ? { actor: found }
      : { problem: "The bearer token is not valid: use a token listed in the server's API_TOKENS." };
  }

  /** Express middleware: sets the actor for `actorOf(res)` or answers 401 with a `detail`. */
  function middleware(req: Request, res: Response, next: NextFunction): void {
    const result = identify(req);
    if ('problem' in result) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="k3d-sandbox-bot"');
      sendError(res, 401, result.problem);
      return;
    }
    res.locals.actor = result.actor;
    next();
  }

  return { middleware, identify, local: known.length === 0 };
}

/** The actor the auth middleware resolved for this response. */
export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new Error('actorOf() called on a route without the API auth middleware');
  return actor;
}
