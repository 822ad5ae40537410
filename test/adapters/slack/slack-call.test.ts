import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSlackCall, slackErrorCode } from '../../../src/adapters/slack/slack-call.js';
import { silentLogger } from '../../helpers/core-fixture.js';

describe('Slack error codes for the metric', () => {
  it('when Web API calls fail in each way the WebClient reports, then each gets a short stable label', () => {
    const cases: [unknown, string][] = [
      [
        { code: 'slack_webapi_platform_error', data: { ok: false, error: 'channel_not_found' } },
        'channel_not_found',
      ],
      [{ code: 'slack_webapi_http_error', statusCode: 503 }, 'http_503'],
      [{ code: 'slack_webapi_rate_limited_error', retryAfter: 3 }, 'ratelimited'],
      [
        {
          code: 'slack_webapi_request_error',
          original: new Error('The operation was aborted due to timeout'),
        },
        'timeout',
      ],
      [{ code: 'slack_webapi_request_error', original: new TypeError('fetch failed') }, 'request_failed'],
      [new Error('something else'), 'unexpected'],
    ];
    for (const [error, label] of cases) assert.equal(slackErrorCode(error), label, JSON.stringify(error));
  });
});

describe('a Slack call', () => {
  it('when Slack rate-limits a call, then it is tried again after the Retry-After, and given up when that would pass a minute of waiting', async () => {
    const counted: string[] = [];
    const call = createSlackCall({
      slackErrors: { inc: ({ method, error }) => counted.push(`${method} ${error}`) },
      logger: silentLogger,
    });
    const limited = (retryAfter: number) =>
      Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter });
    let attempts = 0;
    const answer = await call('chat.postMessage', async () => {
      attempts++;
      if (attempts === 1) throw limited(0);
      return 'posted';
    });
    assert.equal(answer, 'posted');
    assert.equal(attempts, 2);
    assert.deepEqual(counted, [], 'a call that went out in the end did not fail');

    attempts = 0;
    const given = await call('views.publish', async () => {
      attempts++;
      throw limited(61);
    });
    assert.equal(given, undefined);
    assert.equal(attempts, 1, 'not tried again');
    assert.deepEqual(counted, ['views.publish ratelimited']);
  });
});
