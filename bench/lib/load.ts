// A closed-loop load generator: `concurrency` clients, each sending its next signed request as soon as the
// previous one is answered, over keep-alive connections. Latency is from the first byte sent to the last
// byte of the answer; signing happens before the clock starts.
import { Agent, request } from 'node:http';
import { percentile } from './report.js';
import { signedHeaders } from './slack-requests.js';

export interface LoadResult {
  /** Milliseconds per request kind, unsorted. */
  byKind: Map<string, number[]>;
  /** Milliseconds of the warm-up requests (new connections among them), in the order sent. */
  warmUpMs: number[];
  /** Answers other than 200, by status. */
  statuses: Map<number, number>;
  elapsedMs: number;
}

export interface LoadOptions {
  url: string;
  secret: string;
  concurrency: number;
  count: number;
  /**
   * Requests sent first and not recorded, over the same connections: timing starts once every client has
   * its connection open and the server has seen this concurrency (default 0).
   */
  warmUp?: number;
  /** The i-th request (0-based). */
  next: (i: number) => { kind: string; body: string };
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const byKind = new Map<string, number[]>();
  const statuses = new Map<number, number>();
  const warmUpMs: number[] = [];
  const warmUp = options.warmUp ?? 0;
  let issued = 0;
  let started = 0;
  const client = async () => {
    for (;;) {
      const i = issued++;
      if (i === warmUp) started = performance.now();
      if (i >= warmUp + options.count) return;
      const { kind, body } = options.next(i);
      const headers = signedHeaders(options.secret, body);
      const sent = performance.now();
      const status = await post(agent, url, headers, body);
      const ms = performance.now() - sent;
      if (i < warmUp) {
        warmUpMs[i] = ms;
        continue;
      }
      if (status !== 200) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const list = byKind.get(kind) ?? [];
      if (list.length === 0) byKind.set(kind, list);
      list.push(ms);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { byKind, warmUpMs, statuses, elapsedMs };
}

/** p50/p95/p99/max of a list of milliseconds. */
export function summarize(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p);
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? Number.NaN };
}
