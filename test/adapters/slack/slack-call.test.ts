import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slackErrorCode } from '../../../src/adapters/slack/slack-call.js';

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
          original: new Error('A rate limit was exceeded (url: chat.postMessage, retry-after: 1)'),
        },
        'ratelimited',
      ],
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
