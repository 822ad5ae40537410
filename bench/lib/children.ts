// Helper processes of a benchmark: the fake Slack and the floor server run in processes of their own, so the
// process being measured carries only its own work.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Forks a TypeScript module with IPC and resolves with its first message. */
function forkTs<T>(file: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; first: T }> {
  const child = fork(here(file), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (first) => resolve({ child, first: first as T }));
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
  apiUrl: string;
  botToken: string;
  signingSecret: string;
  /** Reusable response_urls (the fake does not limit their use) for C0GENERAL. */
  responseUrls: string[];
  stats(): Promise<FakeSlackStats>;
  stop(): Promise<void>;
}

/** The fake Slack Web API in a child process, seeded with U0ALICE, U0BOB, U0ADMIN and three channels. */
export async function startRemoteFakeSlack(): Promise<RemoteFakeSlack> {
  const { child, first } = await forkTs<Omit<RemoteFakeSlack, 'stats' | 'stop'>>('./fake-slack-child.ts');
  let next = 0;
  return {
    ...first,
    stats() {
      const id = ++next;
      return new Promise((resolve) => {
        const onMessage = (message: { id?: number; result?: FakeSlackStats }) => {
          if (message.id !== id || !message.result) return;
          child.off('message', onMessage);
          resolve(message.result);
        };
        child.on('message', onMessage);
        child.send({ id, type: 'stats' });
      });
    },
    stop: () => stopChild(child),
  };
}

/** The floor server (floor-server.ts) in a child process. */
export async function startFloorServer(signingSecret: string): Promise<{ url: string; stop(): Promise<void> }> {
  const { child, first } = await forkTs<{ port: number }>('./floor-server.ts', {
    FLOOR_SIGNING_SECRET: signingSecret,
  });
  return { url: `http://127.0.0.1:${first.port}/slack/events`, stop: () => stopChild(child) };
}
