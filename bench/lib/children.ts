// Helper processes of a benchmark: the fake Slack and the floor server run in processes of their own, so the
// process being measured carries only its own work.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A forked module that answers `{ id, type, … }` requests with `{ id, result }` over IPC. */
export interface Forked<First> {
  child: ChildProcess;
  /** The first message it sent (when ready). */
  first: First;
  ask<T>(type: string, fields?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Forks `file` with IPC (a .ts module through tsx unless `execArgv` says otherwise) and resolves with its first
 * message. `stop()` disconnects (the module exits on `disconnect`), then kills after 3 s.
 */
export function forkModule<First>(
  file: string,
  options: { env?: Record<string, string>; execArgv?: string[] } = {},
): Promise<Forked<First>> {
  const child = fork(file, [], {
    execArgv: options.execArgv ?? ['--import', 'tsx'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const ask = <T>(type: string, fields: Record<string, unknown> = {}) => {
    const id = ++next;
    return new Promise<T>((resolve) => {
      const onMessage = (message: { id?: number; result?: T }) => {
        if (message.id !== id) return;
        child.off('message', onMessage);
        resolve(message.result as T);
      };
      child.on('message', onMessage);
      child.send({ ...fields, id, type });
    });
  };
  return new Promise((resolve, reject) => {
    child.once('message', (first) =>
      resolve({ child, first: first as First, ask, stop: () => stopChild(child) }),
    );
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  return exited.finally(() => clearTimeout(timer));
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux; clock ticks of 10 ms);
 * NaN elsewhere. For this process, process.cpuUsage() is finer.
 */
export function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export interface FakeSlackStats {
  calls: number;
  byMethod: Record<string, number>;
  /** `method error` of every call the fake answered ok:false. */
  failed: string[];
  filesCompleted: number;
  /** response_url posts received. */
  responses: number;
}

export interface RemoteFakeSlack {
  pid: number | undefined;
  apiUrl: string;
  botToken: string;
  signingSecret: string;
  /** Reusable response_urls for C0GENERAL (the benchmarks' fake lifts Slack's limit of 5 uses). */
  responseUrls: string[];
  stats(): Promise<FakeSlackStats>;
  stop(): Promise<void>;
}

/** What points a bot at the fake Slack: approvals in C0APPROVALS, the audit trail in C0AUDIT. */
export const botSlackEnv = (slack: RemoteFakeSlack, approvers: string): Record<string, string> => ({
  SLACK_BOT_TOKEN: slack.botToken,
  SLACK_SIGNING_SECRET: slack.signingSecret,
  SLACK_API_URL: slack.apiUrl,
  SLACK_APPROVERS_CHANNEL: 'C0APPROVALS',
  SLACK_AUDIT_CHANNEL: 'C0AUDIT',
  SLACK_APPROVERS: approvers,
});

/** The fake Slack Web API in a child process, seeded with U0ALICE, U0BOB, U0ADMIN and three channels. */
export async function startRemoteFakeSlack(): Promise<RemoteFakeSlack> {
  const forked = await forkModule<Omit<RemoteFakeSlack, 'pid' | 'stats' | 'stop'>>(
    here('./fake-slack-child.ts'),
  );
  return {
    ...forked.first,
    pid: forked.child.pid,
    stats: () => forked.ask<FakeSlackStats>('stats'),
    stop: forked.stop,
  };
}

/**
 * A reference server in a child process: `node:http` (floor-server.ts, the floor) or a bare Bolt app
 * (bolt-floor-server.ts), run as JavaScript from `compiled` (what `compileForBench` returned for them).
 */
export async function startFloorServer(
  signingSecret: string,
  kind: 'node:http' | 'bolt',
  compiled: string,
): Promise<{ pid: number | undefined; url: string; stop(): Promise<void> }> {
  const file = kind === 'bolt' ? 'bolt-floor-server.js' : 'floor-server.js';
  const forked = await forkModule<{ port: number }>(path.join(compiled, 'bench', 'lib', file), {
    env: { FLOOR_SIGNING_SECRET: signingSecret },
    execArgv: [],
  });
  return {
    pid: forked.child.pid,
    url: `http://127.0.0.1:${forked.first.port}/slack/events`,
    stop: forked.stop,
  };
}
