import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, withDotEnv } from '../../src/config.js';

describe('configuration', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.equal(config.sandbox.clusterPrefix, 'sbx-');
    assert.equal(config.sandbox.defaultTtlMs, 2 * 3_600_000);
    assert.equal(config.sandbox.maxLifetimeMs, 72 * 3_600_000);
    assert.equal(config.sandbox.provisionConcurrency, 2);
    assert.equal(config.sandbox.createTimeoutMs, 10 * 60_000);
    assert.equal(config.slack.apiUrl, 'https://slack.com/api/');
    assert.equal(config.slack.botToken, undefined);
    assert.equal(config.sandbox.allowSelfApproval, false);
    // The rest of README.md's configuration table, row by row.
    assert.equal(config.logLevel, 'info');
    assert.equal(config.k3dBin, 'k3d');
    assert.equal(config.kubectlBin, 'kubectl');
    assert.equal(config.dockerBin, 'docker');
    assert.equal(config.encryptionKey, undefined, 'generated into DATA_DIR at start, not configured');
    assert.equal(config.sandbox.apiHost, '127.0.0.1');
    assert.deepEqual(config.sandbox.apiPortRange, { from: 6550, to: 6999 });
    assert.equal(config.sandbox.maxServers, 3);
    assert.equal(config.sandbox.maxAgents, 3);
    assert.equal(config.sandbox.maxTtlMs, 24 * 3_600_000);
    assert.equal(config.sandbox.maxPerUser, 3);
    assert.equal(config.sandbox.maxTotal, 20);
    assert.equal(config.sandbox.maxRequestsPerHour, 9, 'three times SANDBOX_MAX_PER_USER');
    assert.equal(config.jobs.sweepSchedule, '* * * * *');
    assert.equal(config.jobs.warnBeforeMs, 15 * 60_000);
    assert.equal(config.sandbox.extendByMs, 3_600_000);
    assert.equal(config.jobs.approvalTimeoutMs, 24 * 3_600_000);
    assert.equal(config.smoke.autoRun, true);
    assert.equal(config.smoke.image, 'nginx:alpine');
    assert.equal(config.smoke.suitesDir, undefined);
    assert.equal(config.slack.signingSecret, undefined);
    assert.equal(config.slack.appToken, undefined);
    assert.equal(config.slack.approversChannel, undefined);
    assert.equal(config.slack.auditChannel, undefined);
    assert.deepEqual(config.slack.approvers, []);
    assert.equal(config.slack.approverGroup, undefined);
    assert.deepEqual(config.slack.admins, []);
    assert.deepEqual(config.api.tokens, []);
  });

  it('when several variables are wrong, then every problem is listed with its variable and what is accepted', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: 'eighty',
          SANDBOX_MAX_SERVERS: '0',
          SANDBOX_DEFAULT_TTL: 'soon',
          SLACK_BOT_TOKEN: 'not-a-token',
          SANDBOX_ENCRYPTION_KEY: 'c2hvcnQ=',
        }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        // Five bad values, and the three variables a Slack bot token needs beside it.
        assert.equal(error.problems.length, 8);
        assert.match(error.message, /PORT: must be a whole number from 0 to 65535/);
        assert.match(error.message, /SANDBOX_MAX_SERVERS: must be at least 1/);
        assert.match(error.message, /SANDBOX_DEFAULT_TTL: "soon" is not a duration/);
        assert.match(error.message, /SLACK_BOT_TOKEN: must be a bot token starting with xoxb-/);
        assert.match(error.message, /SANDBOX_ENCRYPTION_KEY: must be 32 bytes/);
        return true;
      },
    );
  });

  it('when single variables and rules across variables are both broken, then all of it is reported at once', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: 'x',
          SANDBOX_DEFAULT_TTL: '2d',
          SANDBOX_MAX_TTL: '1d',
          SLACK_BOT_TOKEN: 'xoxb-1',
        }),
      (error: ConfigError) => {
        assert.deepEqual(
          error.problems.map((p) => p.split(':')[0]),
          [
            'PORT',
            'SANDBOX_DEFAULT_TTL',
            'SLACK_SIGNING_SECRET',
            'SLACK_APPROVERS_CHANNEL',
            'SLACK_APPROVERS',
          ],
        );
        return true;
      },
    );
  });

  it('when a Slack bot token is set without its companions, then the missing ones are named', () => {
    assert.throws(
      () => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-123' }),
      (error: ConfigError) => {
        assert.deepEqual(
          error.problems.map((p) => p.split(':')[0]),
          ['SLACK_SIGNING_SECRET', 'SLACK_APPROVERS_CHANNEL', 'SLACK_APPROVERS'],
        );
        return true;
      },
    );
  });

  it('when API tokens are given, then they are parsed and a malformed entry is refused', () => {
    const config = loadConfig({
      API_TOKENS: 'ci:0123456789abcdef0123:requester, ops:fedcba9876543210fedc:admin',
    });
    assert.deepEqual(
      config.api.tokens.map((t) => `${t.name}/${t.role}`),
      ['ci/requester', 'ops/admin'],
    );
    assert.throws(() => loadConfig({ API_TOKENS: 'ci:short:requester' }), /at least 16 characters/);
    // A Bearer header cannot carry it, so every call with it would be refused as having no token.
    assert.throws(
      () => loadConfig({ API_TOKENS: 'ci:0123456789 abcdef0123:requester' }),
      /API_TOKENS: entry 1: the token must not contain spaces or tabs/,
    );
  });

  it('when an API_TOKENS entry is malformed, then it is named by position and no token is ever printed', () => {
    const pasted = 'Zq8dT3mPx7LrV2nB9kWc';
    const forgotName = 'Hs4Jk8Lm2Np6Qr0TuV3x';
    const swapped = 'Yt5Gh7Jk9Lm1Np3Qr5S';
    assert.throws(
      () =>
        loadConfig({
          API_TOKENS: `ci:0123456789abcdef0123:requester, ${pasted}, ${forgotName}:admin, ops:short:root, ${swapped}:ci:admin`,
        }),
      (error: ConfigError) => {
        assert.deepEqual(error.problems, [
          'API_TOKENS: entry 2: must be name:token:role, but has 1 part(s)',
          'API_TOKENS: entry 3: must be name:token:role, but has 2 part(s)',
          'API_TOKENS: entry 4: the token must be at least 16 characters; the role must be one of requester, approver, admin',
          'API_TOKENS: entry 5: the token must be at least 16 characters',
        ]);
        assert.ok(!error.message.includes(pasted), error.message);
        assert.ok(!error.message.includes(forgotName), error.message);
        assert.ok(!error.message.includes(swapped), error.message);
        return true;
      },
    );
  });

  it('when a TTL or the extension is not whole minutes, then the variable is named with what is accepted', () => {
    assert.throws(
      () => loadConfig({ SANDBOX_DEFAULT_TTL: '30s', SANDBOX_MAX_TTL: '90s', SANDBOX_EXTEND_BY: '1m30s' }),
      (error: ConfigError) => {
        const rule = 'must be whole minutes, at least 1m, like 90m, 4h or 1d (seconds are not accepted)';
        assert.deepEqual(error.problems, [
          `SANDBOX_DEFAULT_TTL: ${rule}`,
          `SANDBOX_MAX_TTL: ${rule}`,
          `SANDBOX_EXTEND_BY: ${rule}`,
        ]);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ SANDBOX_MAX_TTL: '2h', SANDBOX_DEFAULT_TTL: '1h', SANDBOX_EXTEND_BY: '3h' }),
      /SANDBOX_EXTEND_BY: must not be longer than SANDBOX_MAX_TTL/,
    );
    const config = loadConfig({
      SANDBOX_DEFAULT_TTL: '120s',
      SANDBOX_MAX_TTL: '1h30m',
      SANDBOX_EXTEND_BY: '1m',
    });
    assert.equal(config.sandbox.defaultTtlMs, 2 * 60_000);
    assert.equal(config.sandbox.maxTtlMs, 90 * 60_000);
    assert.equal(config.sandbox.extendByMs, 60_000);
    // Left unset, the extension (1h) shrinks to a shorter SANDBOX_MAX_TTL instead of refusing to start.
    const short = loadConfig({ SANDBOX_MAX_TTL: '30m', SANDBOX_DEFAULT_TTL: '15m' });
    assert.equal(short.sandbox.extendByMs, 30 * 60_000);
  });

  it('when a .env file exists, then its values apply under the real environment, and empty values mean unset', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-env-'));
    const file = path.join(dir, '.env');
    writeFileSync(file, 'PORT=4000\nHOST=0.0.0.0\nSLACK_BOT_TOKEN=\n');
    const config = loadConfig(withDotEnv({ HOST: '127.0.0.2' }, file));
    assert.equal(config.port, 4000);
    assert.equal(config.host, '127.0.0.2');
    assert.equal(config.slack.botToken, undefined);
  });
});
