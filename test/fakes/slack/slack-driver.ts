// "Slack's side" of the conversation: builds slash-command, block_actions, view_submission and
// event_callback requests exactly as Slack sends them (slack-platform.md §3), signs the exact bytes,
// and POSTs them to the app. Trigger ids and response_urls are minted by the fake, so what the app does
// with them (views.open, respond()) lands in the fake's state.

import { createHmac } from 'node:crypto';
import type { BlockKitRejection, FakeSlack, SlackMessage, SlackView } from './fake-slack.js';
import { FAKE_BOT, FAKE_TEAM } from './fake-slack.js';
import type { EnvelopeType } from './socket-mode.js';

export interface SlackSignatureHeaders {
  'x-slack-request-timestamp': string;
  'x-slack-signature': string;
}

/** Slack's v0 request signature: `v0=` + hex HMAC-SHA256(secret, `v0:<ts>:<raw body>`), ts in seconds. */
export function signSlackRequest(
  secret: string,
  rawBody: string,
  ts: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const signature = createHmac('sha256', secret).update(`v0:${ts}:${rawBody}`).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${signature}` };
}

export interface SendOptions {
  /** Unix seconds to sign with and send; default now. */
  readonly timestamp?: number;
  /** Sent instead of the computed signature; `null` omits the header. */
  readonly signature?: string | null;
  /** Extra headers, e.g. `x-slack-retry-num`; they win over the computed ones. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface DriverResult {
  readonly status: number;
  /** Parsed JSON when the app answered JSON, else the text ('' for an empty body). */
  readonly body: unknown;
  readonly text: string;
  readonly headers: Headers;
}

export interface CommandResult extends DriverResult {
  readonly responseUrl: string;
  readonly triggerId: string;
}

export interface CommandOptions {
  /** Default `/sandbox`. */
  readonly command?: string;
  /** Default `C0GENERAL`. A seeded channel's name goes into `channel_name`. */
  readonly channelId?: string;
}

export type ButtonContainer =
  | {
      readonly type: 'message';
      readonly channelId: string;
      readonly messageTs: string;
      readonly isEphemeral?: boolean;
    }
  | { readonly type: 'view'; readonly viewId: string };

export interface ButtonClick {
  readonly actionId: string;
  /** Must equal the rendered button's value when given (a user can only send what is rendered). */
  readonly value?: string;
  readonly blockId?: string;
  readonly container: ButtonContainer;
  /** Send even if no such button is rendered: simulates a stale or forged click. Then `value` is required. */
  readonly forge?: boolean;
}

export interface ActionResult extends DriverResult {
  readonly triggerId: string;
  /** Set for clicks on messages; views have no response_url. */
  readonly responseUrl: string | undefined;
}

export interface ViewSubmission {
  readonly callbackId: string;
  /**
   * What the user entered, `{ [blockId]: { [actionId]: { type, value | selected_option | … } } }`; inputs not
   * given are sent as Slack does, with their initial value or null.
   */
  readonly values?: Record<string, Record<string, unknown>>;
  /** Overrides the view's private_metadata (default: what the app opened the view with). */
  readonly privateMetadata?: string;
  /** Default: the user's topmost open modal with this callback_id. */
  readonly viewId?: string;
}

export interface SubmissionResult extends DriverResult {
  readonly view: SlackView;
  /**
   * When Slack would refuse the app's answer: `response_action: update|push` with an invalid view, or `errors`
   * not keyed by the view's input blocks.
   */
  readonly viewRejection: BlockKitRejection | undefined;
}

export interface EventOptions {
  readonly eventId?: string;
  /** Adds `X-Slack-Retry-Num` (and `X-Slack-Retry-Reason`), as on Slack's redeliveries. */
  readonly retryNum?: number;
  readonly retryReason?: string;
  readonly eventTime?: number;
}

export interface EventResult extends DriverResult {
  readonly eventId: string;
}

export interface SlackDriver {
  command(userId: string, text: string, opts?: CommandOptions): Promise<CommandResult>;
  clickButton(userId: string, click: ButtonClick): Promise<ActionResult>;
  submitView(userId: string, submission: ViewSubmission): Promise<SubmissionResult>;
  /**
   * Sends an inner event (`{ type: 'app_home_opened', user, … }`) wrapped in Slack's `event_callback`
   * envelope, or a whole envelope (`type: 'event_callback'`) with missing fields filled in.
   */
  event(event: Record<string, unknown>, opts?: EventOptions): Promise<EventResult>;
  /** `app_home_opened` for the user's DM, carrying the published Home view like Slack does. */
  appHomeOpened(userId: string, opts?: EventOptions & { tab?: 'home' | 'messages' }): Promise<EventResult>;
  /** Low level: signs (unless overridden) and POSTs exactly these bytes. */
  send(rawBody: string, contentType: string, opts?: SendOptions): Promise<DriverResult>;
}

export interface SlackDriverOptions {
  /** The app's Slack endpoint, e.g. `http://127.0.0.1:PORT/slack/events`. */
  readonly appUrl: string;
  /**
   * Deliver over Socket Mode (the app connected to the fake with its app-level token) instead of signed HTTP:
   * the same requests, as envelopes; the ack's payload is the answer's body.
   */
  readonly socketMode?: boolean;
  readonly fake: FakeSlack;
  /** Default: `fake.signingSecret`. */
  readonly signingSecret?: string;
}

const FORM = 'application/x-www-form-urlencoded';
const TEAM = { id: FAKE_TEAM.id, domain: FAKE_TEAM.domain };

/** A workspace as payloads name it; the fake knows the domain of its own only. */
const teamOf = (teamId: string) =>
  teamId === FAKE_TEAM.id ? TEAM : { id: teamId, domain: teamId.toLowerCase() };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface RenderedButton {
  readonly blockId: string | undefined;
  readonly element: Record<string, unknown>;
}

/** Every button a user could click in these blocks (actions elements and section accessories). */
function renderedButtons(blocks: unknown): RenderedButton[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.filter(isObject).flatMap((block) => {
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    const elements = Array.isArray(block.elements) ? block.elements : [block.accessory];
    return elements
      .filter((el): el is Record<string, unknown> => isObject(el) && el.type === 'button')
      .map((element) => ({ blockId, element }));
  });
}

/** What an untouched input holds in a submission: its initial value, or null (an empty list for multi-choice). */
function initialState(element: Record<string, unknown>): Record<string, unknown> {
  const { type } = element;
  if (type === 'multi_static_select' || type === 'checkboxes') {
    return { type, selected_options: element.initial_options ?? [] };
  }
  if (type === 'static_select' || type === 'radio_buttons' || type === 'external_select') {
    return { type, selected_option: element.initial_option ?? null };
  }
  return { type, value: element.initial_value ?? null };
}

/**
 * `view.state.values` as Slack sends it: every input block of the view, each with what the user entered
 * (`given`, by block_id and action_id) or else what the view was opened with.
 */
function submittedValues(
  view: SlackView,
  given: Record<string, Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of view.blocks) {
    if (!isObject(block) || block.type !== 'input' || typeof block.block_id !== 'string') continue;
    const element = block.element;
    if (!isObject(element) || typeof element.action_id !== 'string') continue;
    values[block.block_id] = { [element.action_id]: initialState(element) };
  }
  for (const [blockId, actions] of Object.entries(given))
    values[blockId] = { ...values[blockId], ...actions };
  return values;
}

export function createSlackDriver(options: SlackDriverOptions): SlackDriver {
  const { appUrl, fake } = options;
  const secret = options.signingSecret ?? fake.signingSecret;
  let eventCounter = 0;

  async function send(rawBody: string, contentType: string, opts: SendOptions = {}): Promise<DriverResult> {
    if (options.socketMode) return deliver(rawBody, contentType, opts);
    const signed = signSlackRequest(secret, rawBody, opts.timestamp);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': signed['x-slack-request-timestamp'],
    };
    const signature = opts.signature === undefined ? signed['x-slack-signature'] : opts.signature;
    if (signature !== null) headers['x-slack-signature'] = signature;
    // A string body keeps fetch from adding `;charset=UTF-8`, which Bolt would answer with 400 (§3.1).
    const response = await fetch(appUrl, {
      method: 'POST',
      headers: { ...headers, ...opts.headers },
      body: rawBody,
    });
    const text = await response.text();
    let body: unknown = text;
    if (/json/i.test(response.headers.get('content-type') ?? '') && text !== '') body = JSON.parse(text);
    return { status: response.status, body, text, headers: response.headers };
  }

  /** Socket Mode: the body Slack would have POSTed, pushed as an envelope of the matching type. */
  async function deliver(rawBody: string, contentType: string, opts: SendOptions): Promise<DriverResult> {
    let type: EnvelopeType = 'events_api';
    let payload: unknown;
    if (contentType === FORM) {
      const fields = Object.fromEntries(new URLSearchParams(rawBody));
      type = fields.payload === undefined ? 'slash_commands' : 'interactive';
      payload = fields.payload === undefined ? fields : JSON.parse(fields.payload);
    } else {
      payload = JSON.parse(rawBody);
    }
    const retryNum = opts.headers?.['x-slack-retry-num'];
    const ack = await fake.sendEnvelope(type, payload, {
      ...(retryNum === undefined ? {} : { retryAttempt: Number(retryNum) }),
      ...(opts.headers?.['x-slack-retry-reason'] === undefined
        ? {}
        : { retryReason: opts.headers['x-slack-retry-reason'] }),
    });
    const text = ack === undefined ? '' : typeof ack === 'string' ? ack : JSON.stringify(ack);
    return { status: 200, body: ack ?? '', text, headers: new Headers() };
  }

  const sendForm = (fields: Record<string, string>): Promise<DriverResult> =>
    send(new URLSearchParams(fields).toString(), FORM);

  const sendPayload = (payload: Record<string, unknown>): Promise<DriverResult> =>
    sendForm({ payload: JSON.stringify(payload) });

  /** The user's own workspace: another one for an external member of a Slack Connect channel. */
  const userTeam = (userId: string) => teamOf(fake.user(userId)?.teamId ?? FAKE_TEAM.id);

  /** A command's enterprise_id and enterprise_name, when the user's workspace is in an Enterprise Grid org. */
  function userEnterprise(userId: string): Record<string, string> {
    const id = fake.user(userId)?.enterpriseId;
    if (id === undefined) return {};
    return { enterprise_id: id, enterprise_name: id === fake.enterprise?.id ? fake.enterprise.name : id };
  }

  function userObject(userId: string) {
    const name = fake.user(userId)?.name ?? userId.toLowerCase();
    return { id: userId, username: name, name, team_id: userTeam(userId).id };
  }

  function channelName(channelId: string): string {
    if (channelId.startsWith('D')) return 'directmessage';
    return fake.channel(channelId)?.name ?? channelId.toLowerCase();
  }

  async function command(userId: string, text: string, opts: CommandOptions = {}): Promise<CommandResult> {
    const channelId = opts.channelId ?? 'C0GENERAL';
    const responseUrl = fake.responseUrl({ channelId, userId });
    const triggerId = fake.mintTriggerId(userId);
    // Field order and string-typed is_enterprise_install as in a real slash-command post (§3.2). A command comes
    // from the workspace it was typed in: a user of another workspace reaches the app where it is installed there.
    const team = userTeam(userId);
    const result = await sendForm({
      token: fake.verificationToken,
      team_id: team.id,
      team_domain: team.domain,
      ...userEnterprise(userId),
      channel_id: channelId,
      channel_name: channelName(channelId),
      user_id: userId,
      user_name: userObject(userId).name,
      command: opts.command ?? '/sandbox',
      text,
      api_app_id: FAKE_BOT.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    });
    // Slack shows a command's ack body to the user like a message to the response_url.
    if (result.status === 200) fake.resolveCommandAck(responseUrl, result.body);
    return { ...result, responseUrl, triggerId };
  }

  function findButton(click: ButtonClick, blocks: unknown, where: string): Record<string, unknown> {
    const buttons = renderedButtons(blocks);
    const match = buttons.find(
      (b) =>
        b.element.action_id === click.actionId &&
        (click.blockId === undefined || b.blockId === click.blockId),
    );
    if (match !== undefined) {
      if (click.value !== undefined && match.element.value !== click.value) {
        throw new Error(
          `clickButton: button ${click.actionId} in ${where} has value ${JSON.stringify(match.element.value)}, ` +
            `not ${JSON.stringify(click.value)} (pass forge: true to send a value that is not rendered)`,
        );
      }
      return { ...match.element, block_id: match.blockId };
    }
    if (click.forge === true) {
      return { type: 'button', action_id: click.actionId, block_id: click.blockId, value: click.value };
    }
    const rendered = buttons.map((b) => `${b.blockId ?? '?'}/${String(b.element.action_id)}`).join(', ');
    throw new Error(
      `clickButton: no button ${click.blockId ?? '*'}/${click.actionId} in ${where}; rendered: ${rendered || 'none'}`,
    );
  }

  function buttonAction(button: Record<string, unknown>) {
    const action: Record<string, unknown> = {
      type: 'button',
      action_id: button.action_id,
      block_id: button.block_id,
      text: button.text ?? { type: 'plain_text', text: String(button.action_id), emoji: true },
      action_ts: `${(Date.now() / 1000).toFixed(6)}`,
    };
    if (button.value !== undefined) action.value = button.value;
    if (button.style !== undefined) action.style = button.style;
    return action;
  }

  async function clickButton(userId: string, click: ButtonClick): Promise<ActionResult> {
    const triggerId = fake.mintTriggerId(userId);
    // `team` is the app's workspace even when an external member of a Slack Connect channel clicks; only
    // user.team_id names theirs (java-slack-sdk#1041).
    const base = {
      type: 'block_actions',
      user: userObject(userId),
      api_app_id: FAKE_BOT.appId,
      token: fake.verificationToken,
      trigger_id: triggerId,
      team: TEAM,
      enterprise: fake.enterprise ?? null,
      is_enterprise_install: false,
    };
    const { container } = click;
    if (container.type === 'view') {
      const view = fake.view(container.viewId);
      if (view === undefined) throw new Error(`clickButton: fake Slack has no view ${container.viewId}`);
      const button = findButton(click, view.blocks, `view ${view.id}`);
      const result = await sendPayload({
        ...base,
        container: { type: 'view', view_id: view.id },
        view,
        state: view.state,
        actions: [buttonAction(button)],
      });
      return { ...result, triggerId, responseUrl: undefined };
    }
    const { channelId, messageTs } = container;
    const isEphemeral = container.isEphemeral === true;
    let message: SlackMessage | undefined;
    let blocks: unknown;
    if (isEphemeral) {
      blocks = fake
        .ephemerals(userId)
        .find((e) => e.channel === channelId && e.message_ts === messageTs)?.blocks;
      if (blocks === undefined && click.forge !== true) {
        throw new Error(`clickButton: no ephemeral ${messageTs} for ${userId} in ${channelId}`);
      }
    } else {
      message = fake.message(channelId, messageTs);
      if (message === undefined && click.forge !== true) {
        throw new Error(`clickButton: fake Slack has no message ${messageTs} in ${channelId}`);
      }
      blocks = message?.blocks;
    }
    const button = findButton(click, blocks, `message ${messageTs} in ${channelId}`);
    const responseUrl = fake.responseUrl({ channelId, userId, messageTs, isEphemeral });
    const payload: Record<string, unknown> = {
      ...base,
      container: { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: isEphemeral },
      channel: { id: channelId, name: channelName(channelId) },
      state: { values: {} },
      response_url: responseUrl,
      actions: [buttonAction(button)],
    };
    // Slack sends the message only for non-ephemeral messages.
    if (message !== undefined) payload.message = message;
    const result = await sendPayload(payload);
    return { ...result, triggerId, responseUrl };
  }

  function viewToSubmit(userId: string, submission: ViewSubmission): SlackView {
    if (submission.viewId !== undefined) {
      const view = fake.view(submission.viewId);
      if (view === undefined) throw new Error(`submitView: fake Slack has no view ${submission.viewId}`);
      return view;
    }
    const open = fake.openModals(userId).filter((v) => v.callback_id === submission.callbackId);
    const top = open.at(-1);
    if (top === undefined) {
      const opened = fake.openModals(userId).map((v) => v.callback_id);
      throw new Error(
        `submitView: ${userId} has no open modal with callback_id ${submission.callbackId}; ` +
          `open: ${opened.join(', ') || 'none'} (did the app call views.open?)`,
      );
    }
    return top;
  }

  async function submitView(userId: string, submission: ViewSubmission): Promise<SubmissionResult> {
    const stored = viewToSubmit(userId, submission);
    const view: SlackView = {
      ...stored,
      state: { values: submittedValues(stored, submission.values ?? {}) },
      private_metadata: submission.privateMetadata ?? stored.private_metadata,
    };
    // A submission names the submitter's workspace as `team` (bolt-js#1614), the app's as view.app_installed_team_id.
    const result = await sendPayload({
      type: 'view_submission',
      team: userTeam(userId),
      user: userObject(userId),
      api_app_id: FAKE_BOT.appId,
      token: fake.verificationToken,
      trigger_id: fake.mintTriggerId(userId),
      view,
      response_urls: [],
      is_enterprise_install: false,
      enterprise: fake.enterprise ?? null,
    });
    const ack = result.status === 200 ? (result.body === '' ? undefined : result.body) : undefined;
    const viewRejection = result.status === 200 ? fake.resolveViewSubmission(view.id, ack) : undefined;
    return { ...result, view, viewRejection };
  }

  async function event(payload: Record<string, unknown>, opts: EventOptions = {}): Promise<EventResult> {
    eventCounter += 1;
    // A whole envelope is sent as given (its event_id kept); an inner event gets Slack's envelope.
    const given = payload.type === 'event_callback' ? payload : undefined;
    const eventId =
      opts.eventId ??
      (typeof given?.event_id === 'string'
        ? given.event_id
        : `Ev0${Date.now().toString(36).toUpperCase()}${eventCounter}`);
    const eventTime = opts.eventTime ?? Math.floor(Date.now() / 1000);
    const inner = isObject(given?.event) ? given.event : payload;
    const envelope = {
      token: fake.verificationToken,
      team_id: FAKE_TEAM.id,
      api_app_id: FAKE_BOT.appId,
      type: 'event_callback',
      event_time: eventTime,
      authorizations: [
        {
          enterprise_id: null,
          team_id: FAKE_TEAM.id,
          user_id: FAKE_BOT.userId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      ...given,
      event: { event_ts: `${(Date.now() / 1000).toFixed(6)}`, ...inner },
      event_id: eventId,
    };
    const headers: Record<string, string> = {};
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
    }
    const result = await send(JSON.stringify(envelope), 'application/json', { headers });
    return { ...result, eventId };
  }

  function appHomeOpened(userId: string, opts: EventOptions & { tab?: 'home' | 'messages' } = {}) {
    const { tab = 'home', ...eventOptions } = opts;
    const inner: Record<string, unknown> = {
      type: 'app_home_opened',
      user: userId,
      channel: fake.dmChannelOf(userId),
      tab,
    };
    // After a first views.publish, Slack includes the current Home view in the event.
    const home = fake.homeView(userId);
    if (home !== undefined) inner.view = home;
    return event(inner, eventOptions);
  }

  return { command, clickButton, submitView, event, appHomeOpened, send };
}
