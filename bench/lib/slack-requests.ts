// Slack's side of a request, without the fake Slack object: form bodies for a slash command and a button click
// as Slack posts them, signed per request with the v0 HMAC scheme. Benchmarks build thousands of these, and
// the floor server checks exactly the same signature the bot does.
import { signSlackRequest } from '../../test/fakes/slack/slack-driver.js';

export const FORM = 'application/x-www-form-urlencoded';
const TEAM = { id: 'T0SANDBOX', domain: 'sandbox-test' };
const APP_ID = 'A0SANDBOX';

export interface SlackRequest {
  /** What the request is, for per-kind statistics. */
  kind: string;
  body: string;
}

/** `/sandbox <text>` typed by `userId` in `channelId`; answers go to `responseUrl`. */
export function slashCommand(
  userId: string,
  text: string,
  responseUrl: string,
  channelId = 'C0GENERAL',
): string {
  return new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: TEAM.id,
    team_domain: TEAM.domain,
    channel_id: channelId,
    channel_name: 'general',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/sandbox',
    text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.7000000000001.${Math.random().toString(16).slice(2)}`,
  }).toString();
}

/**
 * A click on a button whose value is `value` (the bot's buttons carry the sandbox id), on a message in
 * `channelId`. The message itself is left out, as Slack does for ephemeral messages; the listeners need only
 * the action, the user, the container and the response_url.
 */
export function buttonClick(
  userId: string,
  actionId: string,
  value: string,
  responseUrl: string,
  channelId = 'C0APPROVALS',
): string {
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: TEAM.id },
    api_app_id: APP_ID,
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    trigger_id: `${Date.now()}.7000000000001.${Math.random().toString(16).slice(2)}`,
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    container: {
      type: 'message',
      message_ts: '1700000000.000100',
      channel_id: channelId,
      is_ephemeral: true,
    },
    channel: { id: channelId, name: channelId.toLowerCase() },
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: `bench_${value}`,
        text: { type: 'plain_text', text: actionId, emoji: true },
        value,
        action_ts: `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Headers for a signed form post of `body`, signed now. */
export function signedHeaders(secret: string, body: string): Record<string, string> {
  return { 'content-type': FORM, ...signSlackRequest(secret, body) };
}

/** POSTs a signed form body and returns the status (for setting up, not for timing). */
export async function postSigned(url: string, secret: string, body: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: signedHeaders(secret, body), body });
  await response.arrayBuffer();
  return response.status;
}
