// A local fake of Slack's Web API (slack-platform.md §2 and §9) for tests that run the real Bolt App and
// the real WebClient over real HTTP. It keeps enough state (users, channels, DMs, messages, threads,
// ephemerals, views, files, response_urls) to reject what Slack would reject, and journals every call
// so tests can assert on the exact arguments that went over the wire. It also takes Socket Mode connections
// (socket-mode.ts) for the app-level token.

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlockKitRejection } from './block-kit-rules.js';
import { checkMessageContent, checkView } from './block-kit-rules.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { type EnvelopeOptions, type EnvelopeType, SocketModeHub } from './socket-mode.js';

export type { BlockKitRejection } from './block-kit-rules.js';

/** The workspace the fake pretends to be (auth.test, payloads, user objects). */
export const FAKE_TEAM = {
  id: 'T0SANDBOX',
  domain: 'sandbox-test',
  name: 'Sandbox Test',
  url: 'https://sandbox-test.slack.com/',
} as const;

/** The app's bot user. Its ids differ from any test user, or Bolt's ignoreSelf would drop their events. */
export const FAKE_BOT = { userId: 'U0BOT', botId: 'B0BOT', appId: 'A0SANDBOX', name: 'sandbox-bot' } as const;

/** Legacy verification token carried in payloads (Bolt ignores it; Slack still sends it). */
export const FAKE_VERIFICATION_TOKEN = 'gIkuvaNzQIHg97ATvDxqgjtO';
export const DEFAULT_BOT_TOKEN = 'xoxb-test-token';
export const DEFAULT_APP_TOKEN = 'xapp-1-A0SANDBOX-1-test';
export const DEFAULT_SIGNING_SECRET = 'fake-slack-signing-secret-0f9e8d7c6b5a';
/** The bot scopes of manifest.yml (slack-platform.md §6). */
export const DEFAULT_SCOPES: readonly string[] = [
  'commands',
  'chat:write',
  'im:write',
  'files:write',
  'users:read',
  'usergroups:read',
];

export interface FakeSlackOptions {
  readonly botToken?: string;
  /** The app-level token that may open Socket Mode connections. */
  readonly appToken?: string;
  readonly signingSecret?: string;
  /** Scopes granted to the bot token; a method needing another one answers `missing_scope`. */
  readonly scopes?: readonly string[];
  /** How long a minted trigger_id can open a view. Slack: 3 s. */
  readonly triggerTtlMs?: number;
  /** How long a minted response_url takes messages. Slack: "up to 5 times within 30 minutes". */
  readonly responseUrlTtlMs?: number;
  /** How many messages a minted response_url takes. Slack: 5 (benchmarks lift it to reuse a few URLs). */
  readonly responseUrlMaxUses?: number;
  /** The Enterprise Grid org FAKE_TEAM belongs to; without it, FAKE_TEAM is in no org. */
  readonly enterprise?: { readonly id: string; readonly name: string } | undefined;
}

export interface FakeUser {
  readonly id: string;
  readonly name: string;
  readonly realName: string;
  readonly isBot: boolean;
  /**
   * The user's own workspace: FAKE_TEAM, or another one for an external member of a Slack Connect channel or a
   * user of another workspace the app is installed in (their payloads carry it as `user.team_id`).
   */
  readonly teamId: string;
  /** The user's Enterprise Grid org, if their workspace is in one (the fake's own org for FAKE_TEAM's users). */
  readonly enterpriseId: string | undefined;
}

/** A user to seed: by default a human of FAKE_TEAM (and of the fake's Enterprise Grid org, if it has one). */
export interface NewUser {
  id: string;
  name: string;
  realName?: string;
  isBot?: boolean;
  teamId?: string;
  enterpriseId?: string;
}

export interface FakeChannel {
  readonly id: string;
  readonly name: string;
  /** undefined = membership not modelled (anyone, the bot included, may post). */
  readonly members: readonly string[] | undefined;
  readonly isPrivate: boolean;
}

/** What a faulted request gets instead of normal handling. */
export type FakeFault =
  | { readonly ok: false; readonly error: string; readonly needed?: string; readonly provided?: string }
  | { readonly status: number; readonly retryAfter?: number; readonly body?: string }
  | { readonly delayMs: number }
  | { readonly drop: true };

/** One Web API request as the fake received it. */
export interface SlackCall {
  readonly method: string;
  /** Body and query fields; `blocks`, `view`, `files`, `metadata`, `attachments` JSON-decoded; no `token`. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Date.now() on arrival. */
  readonly at: number;
  /** From `Authorization: Bearer`, else from a form body (Slack ignores a token in a JSON body). */
  readonly token: string | undefined;
  /** The JSON answered; undefined while in flight or when a status/drop fault answered instead. */
  readonly response: Readonly<Record<string, unknown>> | undefined;
  readonly fault: FakeFault | undefined;
}

/** A message as Slack returns it (conversations.history shape). */
export interface SlackMessage {
  [field: string]: unknown;
  type: 'message';
  ts: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  bot_id?: string;
}

export interface FakeEphemeral {
  readonly channel: string;
  readonly user: string;
  readonly message_ts: string;
  readonly text: string;
  readonly blocks: unknown[] | undefined;
  readonly thread_ts: string | undefined;
  readonly via: 'chat.postEphemeral' | 'response_url' | 'ack';
}

export interface FakeFile {
  readonly id: string;
  readonly filename: string;
  /** The byte length announced to files.getUploadURLExternal. */
  readonly length: number;
  /** What arrived at the upload URL; undefined until then. */
  readonly bytes: Buffer | undefined;
  /** `bytes` decoded as UTF-8, for text files such as kubeconfigs. */
  readonly text: string | undefined;
  readonly title: string | undefined;
  readonly channel_id: string | undefined;
  readonly thread_ts: string | undefined;
  readonly initial_comment: string | undefined;
  /** files.completeUploadExternal succeeded for this file. */
  readonly completed: boolean;
}

/** A view as Slack returns it from views.* and sends it in payloads. */
export interface SlackView {
  [field: string]: unknown;
  id: string;
  type: 'modal' | 'home';
  team_id: string;
  callback_id: string;
  private_metadata: string;
  external_id: string;
  hash: string;
  blocks: unknown[];
  state: { values: Record<string, Record<string, unknown>> };
  previous_view_id: string | null;
  root_view_id: string | null;
}

/** Where a response_url's messages go: the conversation, the user, and the message it came from. */
export interface ResponseUrlContext {
  readonly channelId?: string;
  readonly userId?: string;
  readonly messageTs?: string;
  readonly isEphemeral?: boolean;
}

export interface FakeResponse {
  readonly id: string;
  readonly url: string;
  /** The JSON body (a string only when it was not JSON). */
  readonly body: Readonly<Record<string, unknown>> | string;
  readonly at: number;
  /** The HTTP status the fake answered with. */
  readonly status: number;
  readonly context: ResponseUrlContext;
  /** Posted to the response_url, or the body of a slash command's acknowledgement (which Slack shows alike). */
  readonly via: 'response_url' | 'ack';
}

export interface FakeSlack {
  /** `http://127.0.0.1:PORT/api/`: give it to WebClient/Bolt as `slackApiUrl`. */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  url(path: string): string;
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly verificationToken: string;
  /** The Enterprise Grid org of the app's workspace, if it is in one. */
  readonly enterprise: { readonly id: string; readonly name: string } | undefined;

  /** Apps connected over Socket Mode. */
  socketModeConnections(): number;
  /** Cuts every Socket Mode connection without a close frame, as a network failure does. */
  dropSocketModeConnections(): void;
  /** Pushes an envelope over Socket Mode and resolves with the payload the app acked with. */
  sendEnvelope(type: EnvelopeType, payload: unknown, options?: EnvelopeOptions): Promise<unknown>;

  addUser(user: NewUser): void;
  addChannel(channel: { id: string; name: string; members?: readonly string[]; isPrivate?: boolean }): void;
  addUsergroup(id: string, users: readonly string[]): void;
  /** Seeds a message by someone else (e.g. a human), which the bot may not update. */
  addMessage(message: {
    channel: string;
    user: string;
    text: string;
    ts?: string;
    threadTs?: string;
  }): SlackMessage;

  readonly calls: readonly SlackCall[];
  callsTo(method: string): SlackCall[];
  waitForCall(
    method: string,
    predicate?: (call: SlackCall) => boolean,
    timeoutMs?: number,
  ): Promise<SlackCall>;

  /** Top-level messages of a conversation (a `U…` means the bot's DM with that user), oldest first. */
  messages(channel: string): SlackMessage[];
  message(channel: string, ts: string): SlackMessage | undefined;
  /** The parent followed by its replies, oldest first (conversations.replies). */
  thread(channel: string, ts: string): SlackMessage[];
  ephemerals(user?: string): FakeEphemeral[];
  /** The stable `D…` id of the bot's DM with a user (`U0ALICE` → `D0ALICE`). */
  dmChannelOf(userId: string): string;
  files(): Map<string, FakeFile>;
  view(viewId: string): SlackView | undefined;
  homeView(userId: string): SlackView | undefined;
  /** The user's open modal stack, root first; empty once closed. */
  openModals(userId: string): SlackView[];
  user(id: string): FakeUser | undefined;
  channel(id: string): FakeChannel | undefined;

  readonly responses: readonly FakeResponse[];
  responseUrl(context?: ResponseUrlContext): string;
  waitForResponse(predicate?: (response: FakeResponse) => boolean, timeoutMs?: number): Promise<FakeResponse>;
  /** A trigger_id views.open/push accept once, within `triggerTtlMs`. */
  mintTriggerId(userId?: string): string;
  /**
   * Shows a slash command's ack body as Slack does, like a message to the command's response_url (checked
   * the same way; the driver calls this). Returns the journalled answer, or undefined for an empty ack.
   */
  resolveCommandAck(responseUrl: string, ack: unknown): FakeResponse | undefined;
  /** Applies an app's view_submission ack to the modal stack (the driver calls this). */
  resolveViewSubmission(viewId: string, ack: unknown): BlockKitRejection | undefined;

  /** `method` is a Web API method, or `upload` (the upload URL) or `response_url`. */
  failNext(method: string, fault: FakeFault, times?: number): void;
  failAlways(method: string, fault: FakeFault): void;
  clearFaults(): void;
  /**
   * Slack's special rate limit of chat.postMessage, opt-in: "one message per second per channel", short bursts
   * allowed (docs.slack.dev/apis/web-api/rate-limits). Once a conversation (a `U…` means the bot's DM) has taken
   * `posts` messages within the last `windowMs`, a further post is answered as Slack answers it: HTTP 429,
   * `Retry-After` (whole seconds until the window has room again, at least 1) and `{ok:false, error:"ratelimited"}`,
   * and is journalled with that response. Small numbers keep tests fast; undefined lifts the limit.
   */
  limitPostsPerChannel(limit: PostRateLimit | undefined): void;
  stop(): Promise<void>;
}

export interface PostRateLimit {
  readonly posts: number;
  readonly windowMs: number;
}

/** Starts a fake Slack on 127.0.0.1 and a free port. Start it before constructing the Bolt App (§2.3). */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new FakeSlackServer(options);
  await fake.listen();
  return fake;
}

/** Polls `probe` until it returns something other than undefined/false. */
export async function waitUntil<T>(
  probe: () => T | undefined | false,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await sleep(10);
  }
}

type Json = Record<string, unknown>;
type Reply = { ok: boolean } & Json;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Resolved = { readonly id: string; readonly seeded: FakeChannel | undefined };

interface MethodSpec {
  readonly scope?: string;
  readonly handle: (args: Json) => Reply;
}

interface MintedResponseUrl {
  readonly context: ResponseUrlContext;
  readonly mintedAt: number;
  uses: number;
}

interface Trigger {
  readonly userId: string | undefined;
  readonly mintedAt: number;
  used: boolean;
}

// Fields Slack documents as JSON strings inside a form-encoded body.
const JSON_FIELDS = ['blocks', 'view', 'files', 'metadata', 'attachments'];
const PARSE_BASE = 'http://127.0.0.1';

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const ok = (fields: Json = {}): Reply => ({ ok: true, ...fields });
const fail = (error: string, fields: Json = {}): Reply => ({ ok: false, error, ...fields });
const rejected = (rejection: BlockKitRejection): Reply =>
  fail(rejection.error, { response_metadata: { messages: rejection.messages } });

/** A non-empty string field; numbers and booleans (JSON bodies) are stringified like the form encoder does. */
function str(args: Json, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A boolean field: JSON bodies carry booleans, form bodies the strings "true"/"1". */
function flag(args: Json, key: string): boolean {
  const value = args[key];
  return value === true || value === 1 || value === 'true' || value === '1';
}

function compareTs(a: string, b: string): number {
  const [aSec = 0, aFrac = 0] = a.split('.').map(Number);
  const [bSec = 0, bFrac = 0] = b.split('.').map(Number);
  return aSec - bSec || aFrac - bFrac;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    .end(JSON.stringify(body));
}

function summarize(call: SlackCall): string {
  const target = str(call.args, 'channel') ?? str(call.args, 'channel_id') ?? str(call.args, 'user_id');
  const outcome =
    call.response === undefined ? `fault ${JSON.stringify(call.fault)}` : (call.response.error ?? 'ok');
  return `${call.method}${target === undefined ? '' : `(${target})`} → ${String(outcome)}`;
}

class FakeSlackServer implements FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly verificationToken = FAKE_VERIFICATION_TOKEN;
  readonly enterprise: { readonly id: string; readonly name: string } | undefined;

  private readonly server: Server;
  private readonly socketMode: SocketModeHub;
  private address = '';
  private readonly scopes: readonly string[];
  private readonly triggerTtlMs: number;
  private readonly responseUrlTtlMs: number;
  private readonly responseUrlMaxUses: number;

  private readonly journal: Mutable<SlackCall>[] = [];
  private readonly responseLog: FakeResponse[] = [];
  private readonly users = new Map<string, FakeUser>();
  private usersSeeded = false;
  private readonly channels = new Map<string, FakeChannel>();
  private readonly usergroups = new Map<string, readonly string[]>();
  private readonly openedDms = new Set<string>();
  /** Every message of a conversation, replies included, in ts order. */
  private readonly history = new Map<string, SlackMessage[]>();
  private readonly ephemeralLog: FakeEphemeral[] = [];
  private readonly views = new Map<string, SlackView>();
  private readonly viewOwners = new Map<string, string>();
  private readonly modalStacks = new Map<string, string[]>();
  private readonly homeViews = new Map<string, string>();
  private readonly fileStore = new Map<string, Mutable<FakeFile>>();
  private readonly uploadKeys = new Map<string, string>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly responseUrls = new Map<string, MintedResponseUrl>();
  private readonly nextFaults = new Map<string, { fault: FakeFault; remaining: number }[]>();
  private readonly alwaysFaults = new Map<string, FakeFault>();
  private postLimit: PostRateLimit | undefined;
  /** When each conversation took its recent posts (for `postLimit`), oldest first. */
  private readonly postTimes = new Map<string, number[]>();
  private lastTsMicros = 0;
  private idCounter = 0;

  // The method table: scope (checked against the token's scopes) and handler.
  private readonly methods: Record<string, MethodSpec> = {
    'auth.test': { handle: () => this.authTest() },
    'chat.postMessage': { scope: 'chat:write', handle: (a) => this.postMessage(a) },
    'chat.update': { scope: 'chat:write', handle: (a) => this.updateMessage(a) },
    'chat.delete': { scope: 'chat:write', handle: (a) => this.deleteMessage(a) },
    'chat.postEphemeral': { scope: 'chat:write', handle: (a) => this.postEphemeral(a) },
    'conversations.open': { scope: 'im:write', handle: (a) => this.openConversation(a) },
    'views.open': { handle: (a) => this.openView(a) },
    'views.push': { handle: (a) => this.pushView(a) },
    'views.update': { handle: (a) => this.updateView(a) },
    'views.publish': { handle: (a) => this.publishView(a) },
    'users.info': { scope: 'users:read', handle: (a) => this.userInfo(a) },
    'usergroups.users.list': { scope: 'usergroups:read', handle: (a) => this.usergroupUsers(a) },
    'files.getUploadURLExternal': { scope: 'files:write', handle: (a) => this.getUploadUrl(a) },
    'files.completeUploadExternal': { scope: 'files:write', handle: (a) => this.completeUpload(a) },
  };

  constructor(options: FakeSlackOptions) {
    this.botToken = options.botToken ?? DEFAULT_BOT_TOKEN;
    this.appToken = options.appToken ?? DEFAULT_APP_TOKEN;
    this.socketMode = new SocketModeHub(this.appToken, FAKE_BOT.appId);
    this.signingSecret = options.signingSecret ?? DEFAULT_SIGNING_SECRET;
    this.scopes = options.scopes ?? DEFAULT_SCOPES;
    this.triggerTtlMs = options.triggerTtlMs ?? 3000;
    this.responseUrlTtlMs = options.responseUrlTtlMs ?? 30 * 60_000;
    this.responseUrlMaxUses = options.responseUrlMaxUses ?? 5;
    this.enterprise = options.enterprise;
    this.users.set(FAKE_BOT.userId, {
      teamId: FAKE_TEAM.id,
      enterpriseId: this.enterprise?.id,
      id: FAKE_BOT.userId,
      name: FAKE_BOT.name,
      realName: 'Sandbox Bot',
      isBot: true,
    });
    this.server = createServer((req, res) => void this.route(req, res));
    this.socketMode.attach(this.server);
  }

  socketModeConnections(): number {
    return this.socketMode.connections;
  }

  dropSocketModeConnections(): void {
    this.socketMode.drop();
  }

  sendEnvelope(type: EnvelopeType, payload: unknown, options?: EnvelopeOptions): Promise<unknown> {
    return this.socketMode.send(type, payload, options);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.address = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get origin(): string {
    return this.address;
  }

  get apiUrl(): string {
    return `${this.address}/api/`;
  }

  url(path: string): string {
    return `${this.address}${path.startsWith('/') ? '' : '/'}${path}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.socketMode.close();
    // Keep-alive sockets from fetch would otherwise hold close() open for seconds.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- seeding -------------------------------------------------------------------------------------------

  addUser(user: NewUser): void {
    const teamId = user.teamId ?? FAKE_TEAM.id;
    this.users.set(user.id, {
      id: user.id,
      name: user.name,
      realName: user.realName ?? user.name,
      isBot: user.isBot ?? false,
      teamId,
      enterpriseId: user.enterpriseId ?? (teamId === FAKE_TEAM.id ? this.enterprise?.id : undefined),
    });
    this.usersSeeded = true;
  }

  addChannel(channel: { id: string; name: string; members?: readonly string[]; isPrivate?: boolean }): void {
    this.channels.set(channel.id, {
      id: channel.id,
      name: channel.name,
      members: channel.members === undefined ? undefined : [...channel.members],
      isPrivate: channel.isPrivate ?? false,
    });
  }

  addUsergroup(id: string, users: readonly string[]): void {
    this.usergroups.set(id, [...users]);
  }

  addMessage(seed: {
    channel: string;
    user: string;
    text: string;
    ts?: string;
    threadTs?: string;
  }): SlackMessage {
    const message: SlackMessage = {
      type: 'message',
      ts: seed.ts ?? this.nextTs(),
      user: seed.user,
      text: seed.text,
    };
    if (seed.threadTs !== undefined) message.thread_ts = seed.threadTs;
    this.append(this.conversationId(seed.channel), message);
    return message;
  }

  // ---- journal and state queries -------------------------------------------------------------------------

  get calls(): readonly SlackCall[] {
    return this.journal;
  }

  get responses(): readonly FakeResponse[] {
    return this.responseLog;
  }

  callsTo(method: string): SlackCall[] {
    return this.journal.filter((call) => call.method === method);
  }

  waitForCall(
    method: string,
    predicate?: (call: SlackCall) => boolean,
    timeoutMs = 3000,
  ): Promise<SlackCall> {
    return waitUntil(
      () => this.journal.find((call) => call.method === method && (predicate?.(call) ?? true)),
      timeoutMs,
      () =>
        `a ${method} call${predicate === undefined ? '' : ' matching the predicate'}; calls so far: ` +
        (this.journal.map(summarize).join(', ') || 'none'),
    );
  }

  waitForResponse(predicate?: (response: FakeResponse) => boolean, timeoutMs = 3000): Promise<FakeResponse> {
    return waitUntil(
      () => this.responseLog.find((response) => predicate?.(response) ?? true),
      timeoutMs,
      () =>
        `a response_url post${predicate === undefined ? '' : ' matching the predicate'}; received: ` +
        (JSON.stringify(this.responseLog.map((r) => r.body)) ?? '[]'),
    );
  }

  messages(channel: string): SlackMessage[] {
    return (this.history.get(this.conversationId(channel)) ?? []).filter(
      (m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast',
    );
  }

  message(channel: string, ts: string): SlackMessage | undefined {
    return this.history.get(this.conversationId(channel))?.find((m) => m.ts === ts);
  }

  thread(channel: string, ts: string): SlackMessage[] {
    return (this.history.get(this.conversationId(channel)) ?? []).filter(
      (m) => m.ts === ts || m.thread_ts === ts,
    );
  }

  ephemerals(user?: string): FakeEphemeral[] {
    return this.ephemeralLog.filter((e) => user === undefined || e.user === user);
  }

  dmChannelOf(userId: string): string {
    return /^[UW]/.test(userId) ? `D${userId.slice(1)}` : `D${userId}`;
  }

  files(): Map<string, FakeFile> {
    return new Map(this.fileStore);
  }

  view(viewId: string): SlackView | undefined {
    return this.views.get(viewId);
  }

  homeView(userId: string): SlackView | undefined {
    const id = this.homeViews.get(userId);
    return id === undefined ? undefined : this.views.get(id);
  }

  openModals(userId: string): SlackView[] {
    return (this.modalStacks.get(userId) ?? []).flatMap((id) => this.views.get(id) ?? []);
  }

  user(id: string): FakeUser | undefined {
    return this.users.get(id);
  }

  channel(id: string): FakeChannel | undefined {
    return this.channels.get(id);
  }

  // ---- things the driver (Slack's side) mints ------------------------------------------------------------

  responseUrl(context: ResponseUrlContext = {}): string {
    const id = randomBytes(8).toString('hex');
    this.responseUrls.set(id, { context, mintedAt: Date.now(), uses: 0 });
    return this.url(`/response/${id}`);
  }

  mintTriggerId(userId?: string): string {
    const id = `${Date.now()}${String(++this.idCounter).padStart(4, '0')}.7000000000001.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { userId, mintedAt: Date.now(), used: false });
    return id;
  }

  resolveViewSubmission(viewId: string, ack: unknown): BlockKitRejection | undefined {
    const owner = this.viewOwners.get(viewId);
    const stack = owner === undefined ? undefined : this.modalStacks.get(owner);
    if (owner === undefined || stack === undefined || !stack.includes(viewId)) return undefined;
    const action = isObject(ack) ? ack.response_action : undefined;
    if (action === 'errors') return this.checkSubmissionErrors(this.views.get(viewId)!, ack);
    if (action === 'update' || action === 'push') {
      const input = isObject(ack) ? ack.view : undefined;
      // Slack shows the user an error and keeps the modal when the new view is invalid.
      const problem = checkView(input, 'modal');
      if (problem !== undefined || !isObject(input)) return problem;
      if (action === 'update') {
        const old = this.views.get(viewId)!;
        this.views.set(viewId, this.buildView(input, viewId, old.previous_view_id, old.root_view_id));
      } else {
        const pushed = this.buildView(input, this.nextId('V'), viewId, stack[0] ?? viewId);
        this.storeView(pushed, owner);
        stack.push(pushed.id);
      }
      return undefined;
    }
    // `clear` closes the whole stack; an empty ack closes the submitted view and uncovers the one below.
    const keep = action === 'clear' ? 0 : stack.indexOf(viewId);
    stack.splice(keep);
    if (stack.length === 0) this.modalStacks.delete(owner);
    return undefined;
  }

  /**
   * Slack shows `errors` only under input blocks of the submitted view: any other key, or an empty message,
   * gets the user a generic "We had some trouble connecting" and none of the app's messages.
   */
  private checkSubmissionErrors(view: SlackView, ack: unknown): BlockKitRejection | undefined {
    const errors = isObject(ack) ? ack.errors : undefined;
    if (!isObject(errors) || Object.keys(errors).length === 0) {
      return {
        error: 'invalid_arguments',
        messages: ['[ERROR] must be an object keyed by block_id [json-pointer:/errors]'],
      };
    }
    const inputs = new Set(
      view.blocks.filter((b) => isObject(b) && b.type === 'input').map((b) => (b as Json).block_id),
    );
    const messages = Object.entries(errors).flatMap(([blockId, text]) => {
      if (!inputs.has(blockId)) {
        return [`[ERROR] not the block_id of an input block in the view [json-pointer:/errors/${blockId}]`];
      }
      return typeof text === 'string' && text !== ''
        ? []
        : [`[ERROR] must be a non-empty string [json-pointer:/errors/${blockId}]`];
    });
    return messages.length === 0 ? undefined : { error: 'invalid_arguments', messages };
  }

  // ---- faults ----------------------------------------------------------------------------------------------

  failNext(method: string, fault: FakeFault, times = 1): void {
    const queue = this.nextFaults.get(method) ?? [];
    queue.push({ fault, remaining: times });
    this.nextFaults.set(method, queue);
  }

  failAlways(method: string, fault: FakeFault): void {
    this.alwaysFaults.set(method, fault);
  }

  clearFaults(): void {
    this.nextFaults.clear();
    this.alwaysFaults.clear();
  }

  limitPostsPerChannel(limit: PostRateLimit | undefined): void {
    this.postLimit = limit;
    this.postTimes.clear();
  }

  /** Seconds until `channel` may take another post under `postLimit`; undefined when it may now. */
  private postRetryAfter(channel: string, now: number): number | undefined {
    const limit = this.postLimit;
    if (limit === undefined) return undefined;
    const recent = (this.postTimes.get(channel) ?? []).filter((at) => at > now - limit.windowMs);
    this.postTimes.set(channel, recent);
    const oldest = recent[0];
    if (recent.length < limit.posts || oldest === undefined) return undefined;
    return Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000));
  }

  private takeFault(key: string): FakeFault | undefined {
    const queue = this.nextFaults.get(key);
    const next = queue?.[0];
    if (queue !== undefined && next !== undefined) {
      next.remaining -= 1;
      if (next.remaining <= 0) queue.shift();
      return next.fault;
    }
    return this.alwaysFaults.get(key);
  }

  /** Applies the next fault for `key`; true when the fault answered (or dropped) the request itself. */
  private async answerWithFault(
    key: string,
    req: IncomingMessage,
    res: ServerResponse,
    call?: Mutable<SlackCall>,
  ): Promise<boolean> {
    const fault = this.takeFault(key);
    if (fault === undefined) return false;
    if (call !== undefined) call.fault = fault;
    if ('delayMs' in fault) {
      await sleep(fault.delayMs);
      return false;
    }
    if ('drop' in fault) {
      req.socket.destroy();
      return true;
    }
    if ('status' in fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      send(
        res,
        fault.status,
        fault.body ?? (fault.status === 429 ? 'ratelimited' : 'Internal Server Error'),
        headers,
      );
      return true;
    }
    const body = { ...fault };
    if (call !== undefined) call.response = body;
    sendJson(res, 200, body);
    return true;
  }

  // ---- HTTP routing ----------------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', PARSE_BASE);
      const body = await readBody(req);
      const api = /^\/api\/([\w.]+)$/.exec(url.pathname);
      if (api?.[1] !== undefined) return await this.handleApi(api[1], req, res, body, url);
      const upload = /^\/upload\/v1\/([\w-]+)$/.exec(url.pathname);
      if (upload?.[1] !== undefined && req.method === 'POST')
        return await this.handleUpload(upload[1], req, res, body);
      const response = /^\/response\/([\w-]+)$/.exec(url.pathname);
      if (response?.[1] !== undefined && req.method === 'POST') {
        return await this.handleResponseUrl(response[1], req, res, body);
      }
      send(res, 404, 'Not Found');
    } catch (error) {
      // A throw here is a bug in the fake, not Slack behaviour: fail loudly so the test shows it.
      console.error(`fake Slack crashed on ${req.method} ${req.url}:`, error);
      if (!res.headersSent) send(res, 500, `fake Slack error: ${String(error)}`);
      else res.end();
    }
  }

  private async handleApi(method: string, req: IncomingMessage, res: ServerResponse, body: Buffer, url: URL) {
    const decoded = this.decodeArgs(req, body, url);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const { token: bodyToken, ...args } = decoded ?? {};
    // Slack takes a token from a form body, but from a JSON body never: there only the header counts.
    const isJson = /application\/json/i.test(req.headers['content-type'] ?? '');
    const token = bearer ?? (typeof bodyToken === 'string' && !isJson ? bodyToken : undefined);
    const call: Mutable<SlackCall> = {
      method,
      args,
      at: Date.now(),
      token,
      response: undefined,
      fault: undefined,
    };
    this.journal.push(call);
    if (await this.answerWithFault(method, req, res, call)) return;
    const posting =
      method === 'chat.postMessage' ? this.conversationId(str(args, 'channel') ?? '') : undefined;
    const retryAfter = posting === undefined ? undefined : this.postRetryAfter(posting, call.at);
    if (retryAfter !== undefined) {
      call.response = fail('ratelimited');
      return sendJson(res, 429, call.response, { 'retry-after': String(retryAfter) });
    }
    const spec = this.methods[method];
    const reply = decoded === undefined ? fail('invalid_json') : this.dispatch(method, spec, token, args);
    call.response = reply;
    if (posting !== undefined && reply.ok) this.postTimes.get(posting)?.push(call.at);
    sendJson(res, 200, reply, {
      'x-oauth-scopes': this.scopes.join(','),
      'x-accepted-oauth-scopes': spec?.scope ?? '',
    });
  }

  private dispatch(
    method: string,
    spec: MethodSpec | undefined,
    token: string | undefined,
    args: Json,
  ): Reply {
    if (method === 'apps.connections.open') return this.socketMode.open(token, this.address) as Reply;
    if (spec === undefined) return fail('unknown_method', { req_method: method });
    if (token === undefined) return fail('not_authed');
    if (token === this.appToken) return fail('not_allowed_token_type');
    if (token !== this.botToken) return fail('invalid_auth');
    if (spec.scope !== undefined && !this.scopes.includes(spec.scope)) {
      return fail('missing_scope', { needed: spec.scope, provided: this.scopes.join(',') });
    }
    return spec.handle(args);
  }

  /** Query + body fields, whatever the encoding; undefined when a JSON body does not parse. */
  private decodeArgs(req: IncomingMessage, body: Buffer, url: URL): Json | undefined {
    const args: Json = Object.fromEntries(url.searchParams);
    const contentType = req.headers['content-type'] ?? '';
    const boundary = multipartBoundary(contentType);
    if (/application\/json/i.test(contentType)) {
      if (body.length > 0) {
        try {
          const parsed: unknown = JSON.parse(body.toString('utf8'));
          if (!isObject(parsed)) return undefined;
          Object.assign(args, parsed);
        } catch {
          return undefined;
        }
      }
    } else if (boundary !== undefined) {
      for (const part of parseMultipart(body, boundary)) {
        args[part.name] = part.filename === undefined ? part.data.toString('utf8') : part.data;
      }
    } else if (body.length > 0) {
      Object.assign(args, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    }
    for (const field of JSON_FIELDS) {
      const raw = args[field];
      if (typeof raw !== 'string') continue;
      try {
        args[field] = JSON.parse(raw);
      } catch {
        // Left as a string: the handler answers it the way Slack answers malformed JSON.
      }
    }
    return args;
  }

  private async handleUpload(key: string, req: IncomingMessage, res: ServerResponse, body: Buffer) {
    if (await this.answerWithFault('upload', req, res)) return;
    const file = this.fileStore.get(this.uploadKeys.get(key) ?? '');
    if (file === undefined) return send(res, 404, 'Not Found');
    const boundary = multipartBoundary(req.headers['content-type']);
    let bytes = body;
    // Slack accepts the raw bytes or a multipart form; the SDK sends one part named `body`.
    if (boundary !== undefined) {
      const part = parseMultipart(body, boundary).find((p) => p.name === 'body' || p.name === 'file');
      if (part === undefined) return send(res, 400, 'no file part named "body"');
      bytes = part.data;
    }
    file.bytes = bytes;
    file.text = bytes.toString('utf8');
    send(res, 200, `OK - ${bytes.length}`);
  }

  private async handleResponseUrl(id: string, req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    if (await this.answerWithFault('response_url', req, res)) return;
    const text = raw.toString('utf8');
    let body: Json | string = text;
    try {
      const parsed: unknown = JSON.parse(
        /x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')
          ? (new URLSearchParams(text).get('payload') ?? '')
          : text,
      );
      if (isObject(parsed)) body = parsed;
    } catch {
      // recorded as text, answered below
    }
    // Slack answers response_url errors with an HTTP status and the error code as plain text.
    const { status, reply } = this.receiveResponse(id, body, 'response_url');
    send(res, status, reply);
  }

  resolveCommandAck(responseUrl: string, ack: unknown): FakeResponse | undefined {
    const id = responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
    if (ack === undefined || ack === '') return undefined;
    // A string answer is shown as its text; an object one as a message.
    const body = typeof ack === 'string' ? { text: ack } : isObject(ack) ? ack : String(ack);
    this.receiveResponse(id, body, 'ack');
    return this.responseLog.at(-1);
  }

  /** Checks and applies a message sent to a response_url (or as a command's ack), and journals it. */
  private receiveResponse(
    id: string,
    body: Json | string,
    via: FakeResponse['via'],
  ): { status: number; reply: string } {
    const minted = this.responseUrls.get(id);
    const answer = (status: number, reply: string) => {
      const url = this.url(`/response/${id}`);
      this.responseLog.push({ id, url, body, at: Date.now(), status, context: minted?.context ?? {}, via });
      return { status, reply };
    };
    if (minted === undefined) return answer(404, 'expired_url');
    // A command's ack is its immediate answer; what is posted to the URL is limited in time and number.
    if (via === 'response_url') {
      if (Date.now() - minted.mintedAt > this.responseUrlTtlMs) return answer(404, 'expired_url');
      if (minted.uses >= this.responseUrlMaxUses) return answer(404, 'used_url');
    }
    if (typeof body === 'string') return answer(400, 'invalid_payload');
    if (!flag(body, 'delete_original')) {
      if (body.blocks === undefined && body.attachments === undefined && typeof body.text !== 'string') {
        return answer(400, 'no_text');
      }
      const problem = checkMessageContent(body.text, body.blocks);
      if (problem !== undefined) return answer(400, problem.error);
    }
    if (via === 'response_url') minted.uses += 1;
    this.applyResponse(minted.context, body, via);
    return answer(200, 'ok');
  }

  /** What Slack does with a response_url post: delete/replace the source message, post, or post ephemerally. */
  private applyResponse(context: ResponseUrlContext, body: Json, via: FakeResponse['via']): void {
    const { channelId, userId, messageTs } = context;
    if (channelId === undefined) return;
    const threadTs = str(body, 'thread_ts');
    if (messageTs !== undefined && (flag(body, 'delete_original') || flag(body, 'replace_original'))) {
      if (context.isEphemeral === true) {
        const index = this.ephemeralLog.findIndex(
          (e) => e.channel === channelId && e.message_ts === messageTs,
        );
        const old = this.ephemeralLog[index];
        if (old === undefined) return;
        if (flag(body, 'delete_original')) this.ephemeralLog.splice(index, 1);
        else
          this.ephemeralLog[index] = { ...old, text: String(body.text ?? ''), blocks: this.blocksOf(body) };
        return;
      }
      if (flag(body, 'delete_original')) this.removeMessage(channelId, messageTs);
      else this.replaceMessage(channelId, messageTs, (old) => this.withContent(old, body, true));
      return;
    }
    if (body.response_type === 'in_channel') {
      this.append(channelId, this.botMessage(body, threadTs));
    } else if (userId !== undefined) {
      this.ephemeralLog.push({
        channel: channelId,
        user: userId,
        message_ts: this.nextTs(),
        text: typeof body.text === 'string' ? body.text : '',
        blocks: this.blocksOf(body),
        thread_ts: threadTs,
        via,
      });
    }
  }

  // ---- Web API methods -------------------------------------------------------------------------------------

  private authTest(): Reply {
    return ok({
      url: FAKE_TEAM.url,
      team: FAKE_TEAM.name,
      user: FAKE_BOT.name,
      team_id: FAKE_TEAM.id,
      user_id: FAKE_BOT.userId,
      bot_id: FAKE_BOT.botId,
      ...(this.enterprise && { enterprise_id: this.enterprise.id }),
      is_enterprise_install: false,
    });
  }

  private postMessage(args: Json): Reply {
    const channel = this.resolveChannel(str(args, 'channel'), { names: true, users: true });
    if (typeof channel === 'string') return fail(channel);
    const refused = this.botCannotPost(channel) ?? this.checkContent(args);
    if (refused !== undefined) return refused;
    const threadTs = str(args, 'thread_ts');
    if (threadTs !== undefined && !this.isThreadParent(channel.id, threadTs)) return fail('thread_not_found');
    const message = this.botMessage(args, threadTs);
    if (threadTs !== undefined && flag(args, 'reply_broadcast')) message.subtype = 'thread_broadcast';
    this.append(channel.id, message);
    return ok({ channel: channel.id, ts: message.ts, message });
  }

  private updateMessage(args: Json): Reply {
    const channel = this.resolveChannel(str(args, 'channel'), { names: false, users: false });
    if (typeof channel === 'string') return fail(channel);
    const ts = str(args, 'ts');
    const existing = ts === undefined ? undefined : this.message(channel.id, ts);
    if (ts === undefined || existing === undefined) return fail('message_not_found');
    if (existing.user !== FAKE_BOT.userId) return fail('cant_update_message');
    const refused = this.checkContent(args);
    if (refused !== undefined) return refused;
    const updated = this.replaceMessage(channel.id, ts, (old) => this.withContent(old, args, false))!;
    return ok({ channel: channel.id, ts, text: updated.text, message: updated });
  }

  private deleteMessage(args: Json): Reply {
    const channel = this.resolveChannel(str(args, 'channel'), { names: false, users: false });
    if (typeof channel === 'string') return fail(channel);
    const ts = str(args, 'ts');
    const existing = ts === undefined ? undefined : this.message(channel.id, ts);
    if (ts === undefined || existing === undefined) return fail('message_not_found');
    if (existing.user !== FAKE_BOT.userId) return fail('cant_delete_message');
    this.removeMessage(channel.id, ts);
    return ok({ channel: channel.id, ts });
  }

  private postEphemeral(args: Json): Reply {
    const user = str(args, 'user');
    if (user === undefined || (this.usersSeeded && !this.users.has(user))) return fail('user_not_found');
    const channel = this.resolveChannel(str(args, 'channel'), { names: true, users: true });
    if (typeof channel === 'string') return fail(channel);
    const members = channel.seeded?.members;
    if (members !== undefined && !members.includes(user)) return fail('user_not_in_channel');
    const refused = this.botCannotPost(channel) ?? this.checkContent(args);
    if (refused !== undefined) return refused;
    const threadTs = str(args, 'thread_ts');
    if (threadTs !== undefined && !this.isThreadParent(channel.id, threadTs)) return fail('thread_not_found');
    const messageTs = this.nextTs();
    this.ephemeralLog.push({
      channel: channel.id,
      user,
      message_ts: messageTs,
      text: typeof args.text === 'string' ? args.text : '',
      blocks: this.blocksOf(args),
      thread_ts: threadTs,
      via: 'chat.postEphemeral',
    });
    return ok({ message_ts: messageTs });
  }

  private openConversation(args: Json): Reply {
    const users = (str(args, 'users') ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    if (users.length === 0) {
      // Re-opening an existing conversation by id.
      if (str(args, 'channel') === undefined) return fail('users_list_not_supplied');
      const channel = this.resolveChannel(str(args, 'channel'), { names: false, users: false });
      if (typeof channel === 'string') return fail(channel);
      return ok({ no_op: true, already_open: true, channel: { id: channel.id } });
    }
    if (users.length > 8) return fail('too_many_users');
    if (users.some((u) => this.usersSeeded && !this.users.has(u))) return fail('user_not_found');
    const id = users.length === 1 ? this.dmChannelOf(users[0]!) : this.groupDmOf(users);
    const existed = this.openedDms.has(id);
    this.openedDms.add(id);
    const channel = flag(args, 'return_im')
      ? {
          id,
          created: Math.floor(Date.now() / 1000),
          is_im: users.length === 1,
          is_mpim: users.length > 1,
          user: users[0],
        }
      : { id };
    return ok({ ...(existed ? { no_op: true, already_open: true } : {}), channel });
  }

  private openView(args: Json): Reply {
    const trigger = this.checkTrigger(str(args, 'trigger_id'));
    if (typeof trigger === 'string') return fail(trigger);
    const problem = checkView(args.view, 'modal');
    if (problem !== undefined) return rejected(problem);
    trigger.used = true;
    const owner = trigger.userId ?? 'unknown-user';
    const view = this.buildView(args.view as Json, this.nextId('V'), null, null);
    view.root_view_id = view.id;
    this.storeView(view, owner);
    this.modalStacks.set(owner, [view.id]);
    return ok({ view });
  }

  private pushView(args: Json): Reply {
    const trigger = this.checkTrigger(str(args, 'trigger_id'));
    if (typeof trigger === 'string') return fail(trigger);
    const owner = trigger.userId ?? 'unknown-user';
    const stack = this.modalStacks.get(owner);
    if (stack === undefined || stack.length === 0) return fail('not_found');
    if (stack.length >= 3) return fail('push_limit_reached');
    const problem = checkView(args.view, 'modal');
    if (problem !== undefined) return rejected(problem);
    trigger.used = true;
    const view = this.buildView(args.view as Json, this.nextId('V'), stack.at(-1) ?? null, stack[0] ?? null);
    this.storeView(view, owner);
    stack.push(view.id);
    return ok({ view });
  }

  private updateView(args: Json): Reply {
    const viewId = str(args, 'view_id');
    const externalId = str(args, 'external_id');
    const existing =
      viewId !== undefined
        ? this.views.get(viewId)
        : [...this.views.values()].find((v) => externalId !== undefined && v.external_id === externalId);
    if (existing === undefined || !this.isLive(existing)) return fail('not_found');
    const hash = str(args, 'hash');
    if (hash !== undefined && hash !== existing.hash) return fail('hash_conflict');
    const problem = checkView(args.view, existing.type);
    if (problem !== undefined) return rejected(problem);
    const view = this.buildView(
      args.view as Json,
      existing.id,
      existing.previous_view_id,
      existing.root_view_id,
    );
    this.views.set(view.id, view);
    return ok({ view });
  }

  private publishView(args: Json): Reply {
    const userId = str(args, 'user_id');
    if (userId === undefined) return fail('invalid_arguments');
    if (this.usersSeeded && !this.users.has(userId)) return fail('user_not_found');
    const current = this.homeView(userId);
    const hash = str(args, 'hash');
    if (hash !== undefined && current !== undefined && hash !== current.hash) return fail('hash_conflict');
    const problem = checkView(args.view, 'home');
    if (problem !== undefined) return rejected(problem);
    const view = this.buildView(args.view as Json, current?.id ?? this.nextId('V'), null, null);
    this.storeView(view, userId);
    this.homeViews.set(userId, view.id);
    return ok({ view });
  }

  private userInfo(args: Json): Reply {
    const user = this.users.get(str(args, 'user') ?? '');
    if (user === undefined) return fail('user_not_found');
    const profile: Json = { display_name: user.name, real_name: user.realName, team: user.teamId };
    if (user.id === FAKE_BOT.userId) profile.bot_id = FAKE_BOT.botId;
    return ok({
      user: {
        id: user.id,
        team_id: user.teamId,
        name: user.name,
        real_name: user.realName,
        deleted: false,
        is_bot: user.isBot,
        is_admin: false,
        is_app_user: false,
        tz: 'Europe/Berlin',
        tz_label: 'Central European Time',
        tz_offset: 3600,
        profile,
      },
    });
  }

  private usergroupUsers(args: Json): Reply {
    const users = this.usergroups.get(str(args, 'usergroup') ?? '');
    return users === undefined ? fail('no_such_subteam') : ok({ users: [...users] });
  }

  private getUploadUrl(args: Json): Reply {
    const filename = str(args, 'filename');
    const length = Number(str(args, 'length'));
    if (filename === undefined) return this.invalidArgument('filename', 'missing required field');
    if (str(args, 'length') === undefined || !Number.isInteger(length) || length < 0) {
      return this.invalidArgument('length', 'must be a non-negative integer');
    }
    const id = this.nextId('F');
    const key = randomBytes(12).toString('hex');
    this.uploadKeys.set(key, id);
    this.fileStore.set(id, {
      id,
      filename,
      length,
      bytes: undefined,
      text: undefined,
      title: undefined,
      channel_id: undefined,
      thread_ts: undefined,
      initial_comment: undefined,
      completed: false,
    });
    return ok({ upload_url: this.url(`/upload/v1/${key}`), file_id: id });
  }

  private completeUpload(args: Json): Reply {
    const entries = args.files;
    if (
      !Array.isArray(entries) ||
      entries.length === 0 ||
      !entries.every((e) => isObject(e) && typeof e.id === 'string')
    ) {
      return this.invalidArgument('files', 'must be a JSON array of {"id","title"} objects');
    }
    const files: Mutable<FakeFile>[] = [];
    for (const entry of entries as Json[]) {
      const file = this.fileStore.get(entry.id as string);
      if (file?.bytes === undefined) return fail('file_not_found');
      if (file.bytes.length !== file.length) return fail('file_upload_size_mismatch');
      files.push(file);
    }
    const channelRef = str(args, 'channel_id') ?? str(args, 'channels');
    const threadTs = str(args, 'thread_ts');
    const initialComment = str(args, 'initial_comment');
    let channel: Resolved | undefined;
    if (channelRef !== undefined) {
      const resolved = this.resolveChannel(channelRef, { names: false, users: false });
      if (typeof resolved === 'string') return fail(resolved);
      const refused = this.botCannotPost(resolved);
      if (refused !== undefined) return refused;
      if (threadTs !== undefined && !this.isThreadParent(resolved.id, threadTs))
        return fail('thread_not_found');
      channel = resolved;
    }
    const problem = checkMessageContent(initialComment, args.blocks);
    if (problem !== undefined) return rejected(problem);
    entries.forEach((entry, i) => {
      const file = files[i]!;
      const title = (entry as Json).title;
      file.title = typeof title === 'string' ? title : file.filename;
      file.channel_id = channel?.id;
      file.thread_ts = threadTs;
      file.initial_comment = initialComment;
      file.completed = true;
    });
    if (channel !== undefined) {
      // Sharing a file posts a message carrying it, like Slack does once its scan finishes.
      const message = this.botMessage({ text: initialComment ?? '', blocks: args.blocks }, threadTs);
      message.files = files.map((f) => ({ id: f.id, name: f.filename, title: f.title }));
      message.upload = true;
      this.append(channel.id, message);
    }
    return ok({ files: files.map((f) => this.fileObject(f)) });
  }

  // ---- helpers ---------------------------------------------------------------------------------------------

  private invalidArgument(field: string, reason: string): Reply {
    return fail('invalid_arguments', {
      response_metadata: { messages: [`[ERROR] ${reason} [json-pointer:/${field}]`] },
    });
  }

  /**
   * A channel reference as Slack resolves it: a `D…` DM once the bot has opened it (conversations.open), as the
   * bot is in no other; `U…` means the bot's DM with that user (chat.postMessage, chat.postEphemeral only);
   * seeded channels by id, or by name where Slack allows names. Returns an error code when it does not resolve.
   */
  private resolveChannel(
    ref: string | undefined,
    allow: { names: boolean; users: boolean },
  ): Resolved | string {
    if (ref === undefined) return 'channel_not_found';
    if (ref.startsWith('D'))
      return this.openedDms.has(ref) ? { id: ref, seeded: undefined } : 'channel_not_found';
    if (/^[UW]/.test(ref) && allow.users) {
      if (this.usersSeeded && !this.users.has(ref)) return 'channel_not_found';
      const id = this.dmChannelOf(ref);
      this.openedDms.add(id);
      return { id, seeded: undefined };
    }
    const byName = allow.names
      ? [...this.channels.values()].find((c) => c.name === ref.replace(/^#/, ''))
      : undefined;
    const seeded = this.channels.get(ref) ?? byName;
    return seeded === undefined ? 'channel_not_found' : { id: seeded.id, seeded };
  }

  private botCannotPost(channel: Resolved): Reply | undefined {
    const seeded = channel.seeded;
    if (seeded?.members === undefined || seeded.members.includes(FAKE_BOT.userId)) return undefined;
    // A private channel is invisible to non-members: Slack does not admit it exists.
    if (seeded.isPrivate) return fail('channel_not_found');
    if (this.scopes.includes('chat:write.public')) return undefined;
    return fail('not_in_channel');
  }

  /** The message-content rules shared by post, update and ephemeral: something to show, within limits. */
  private checkContent(args: Json): Reply | undefined {
    const hasText = typeof args.text === 'string' && args.text !== '';
    if (!hasText && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
    const problem = checkMessageContent(args.text, args.blocks);
    return problem === undefined ? undefined : rejected(problem);
  }

  private isThreadParent(channel: string, ts: string): boolean {
    const parent = this.message(channel, ts);
    return parent !== undefined && (parent.thread_ts === undefined || parent.thread_ts === parent.ts);
  }

  private blocksOf(args: Json): unknown[] | undefined {
    return Array.isArray(args.blocks) && args.blocks.length > 0 ? args.blocks : undefined;
  }

  private botMessage(args: Json, threadTs: string | undefined): SlackMessage {
    const message: SlackMessage = {
      type: 'message',
      ts: this.nextTs(),
      user: FAKE_BOT.userId,
      bot_id: FAKE_BOT.botId,
      app_id: FAKE_BOT.appId,
      team: FAKE_TEAM.id,
      text: typeof args.text === 'string' ? args.text : '',
    };
    const blocks = this.blocksOf(args);
    if (blocks !== undefined) message.blocks = blocks;
    if (threadTs !== undefined) message.thread_ts = threadTs;
    if (args.metadata !== undefined) message.metadata = args.metadata;
    if (args.attachments !== undefined) message.attachments = args.attachments;
    return message;
  }

  /**
   * chat.update keeps fields it was not given (blocks included; `[]` removes them); a response_url
   * replacement is a whole new message.
   */
  private withContent(old: SlackMessage, args: Json, replaceAll: boolean): SlackMessage {
    const { blocks: oldBlocks, ...rest } = old;
    const text = typeof args.text === 'string' ? args.text : replaceAll ? '' : old.text;
    const message: SlackMessage = { ...rest, text, edited: { user: FAKE_BOT.userId, ts: this.nextTs() } };
    const blocks = args.blocks === undefined && !replaceAll ? oldBlocks : this.blocksOf(args);
    if (blocks !== undefined) message.blocks = blocks;
    return message;
  }

  private append(channel: string, message: SlackMessage): void {
    const list = this.history.get(channel) ?? [];
    list.push(message);
    list.sort((a, b) => compareTs(a.ts, b.ts));
    this.history.set(channel, list);
    const parentTs = message.thread_ts;
    if (parentTs === undefined || parentTs === message.ts) return;
    this.replaceMessage(channel, parentTs, (parent) => {
      const replies = list.filter((m) => m.thread_ts === parentTs && m.ts !== parentTs);
      return {
        ...parent,
        thread_ts: parentTs,
        reply_count: replies.length,
        reply_users: [...new Set(replies.map((m) => m.user))],
        latest_reply: replies.at(-1)?.ts,
      };
    });
  }

  /** Replaces a stored message with a new object, so snapshots a test already holds do not change. */
  private replaceMessage(channel: string, ts: string, change: (old: SlackMessage) => SlackMessage) {
    const list = this.history.get(channel);
    const index = list?.findIndex((m) => m.ts === ts) ?? -1;
    const old = list?.[index];
    if (list === undefined || old === undefined) return undefined;
    const updated = change(old);
    list[index] = updated;
    return updated;
  }

  private removeMessage(channel: string, ts: string): void {
    const list = this.history.get(channel);
    const index = list?.findIndex((m) => m.ts === ts) ?? -1;
    if (list !== undefined && index >= 0) list.splice(index, 1);
  }

  private conversationId(channel: string): string {
    return /^[UW]/.test(channel) ? this.dmChannelOf(channel) : channel;
  }

  private groupDmOf(users: readonly string[]): string {
    const members = [...new Set([...users, FAKE_BOT.userId])].sort();
    const id = `G${createHash('sha1').update(members.join(',')).digest('hex').slice(0, 9).toUpperCase()}`;
    if (!this.channels.has(id))
      this.addChannel({ id, name: `mpdm-${members.join('--')}`, members, isPrivate: true });
    return id;
  }

  private checkTrigger(triggerId: string | undefined): Trigger | string {
    const trigger = triggerId === undefined ? undefined : this.triggers.get(triggerId);
    if (trigger === undefined) return 'invalid_trigger_id';
    if (trigger.used) return 'exchanged_trigger_id';
    if (Date.now() - trigger.mintedAt > this.triggerTtlMs) return 'expired_trigger_id';
    return trigger;
  }

  private isLive(view: SlackView): boolean {
    if (view.type === 'home') return true;
    const owner = this.viewOwners.get(view.id);
    return owner !== undefined && (this.modalStacks.get(owner) ?? []).includes(view.id);
  }

  private buildView(input: Json, id: string, previousId: string | null, rootId: string | null): SlackView {
    return {
      id,
      team_id: FAKE_TEAM.id,
      type: input.type === 'home' ? 'home' : 'modal',
      callback_id: str(input, 'callback_id') ?? '',
      private_metadata: str(input, 'private_metadata') ?? '',
      external_id: str(input, 'external_id') ?? '',
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(6).toString('base64url')}`,
      title: input.title ?? null,
      submit: input.submit ?? null,
      close: input.close ?? null,
      blocks: Array.isArray(input.blocks) ? input.blocks : [],
      state: { values: {} },
      clear_on_close: input.clear_on_close === true,
      notify_on_close: input.notify_on_close === true,
      previous_view_id: previousId,
      root_view_id: rootId,
      app_id: FAKE_BOT.appId,
      app_installed_team_id: FAKE_TEAM.id,
      bot_id: FAKE_BOT.botId,
    };
  }

  private storeView(view: SlackView, owner: string): void {
    this.views.set(view.id, view);
    this.viewOwners.set(view.id, owner);
  }

  private fileObject(file: FakeFile): Json {
    const created = Math.floor(Date.now() / 1000);
    return {
      id: file.id,
      created,
      timestamp: created,
      name: file.filename,
      title: file.title,
      mimetype: /\.(ya?ml|txt|json|conf|log)$/i.test(file.filename)
        ? 'text/plain'
        : 'application/octet-stream',
      size: file.bytes?.length ?? 0,
      user: FAKE_BOT.userId,
      user_team: FAKE_TEAM.id,
      is_external: false,
      is_public: false,
      url_private: this.url(`/files/${file.id}`),
    };
  }

  /** `"<unix seconds>.<6 digits>"`, strictly increasing across the whole fake (hence per channel). */
  private nextTs(): string {
    this.lastTsMicros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    const seconds = Math.floor(this.lastTsMicros / 1e6);
    return `${seconds}.${String(this.lastTsMicros % 1e6).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.idCounter += 1;
    return `${prefix}0${String(this.idCounter).padStart(8, '0')}`;
  }
}
