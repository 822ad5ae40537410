import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_APP_TOKEN, startFakeSlack, waitUntil } from '../fakes/slack/fake-slack.js';
import { startBotProcess } from '../helpers/bot-process.js';

describe('A failure nothing could handle', () => {
  it('when Slack refuses the app-level token at a Socket Mode reconnect (it was revoked), then the bot logs it as JSON and stops cleanly with exit code 1, for its supervisor to restart it', async () => {
    const fake = await startFakeSlack();
    fake.addChannel({ id: 'C0APPROVALS', name: 'sandbox-approvals', members: ['U0BOT'] });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-bot-fatal-'));
    const bot = await startBotProcess({
      DATA_DIR: dataDir,
      K3D_BIN: path.join(dataDir, 'no-k3d'),
      KUBECTL_BIN: path.join(dataDir, 'no-kubectl'),
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_APP_TOKEN: DEFAULT_APP_TOKEN,
      SLACK_API_URL: fake.apiUrl,
      SLACK_APPROVERS_CHANNEL: 'C0APPROVALS',
      SLACK_APPROVERS: 'U0BOB',
    });
    try {
      await waitUntil(() => fake.socketModeConnections() === 1 || undefined, 10_000, bot.output);
      fake.failNext('apps.connections.open', { ok: false, error: 'invalid_auth' });
      fake.dropSocketModeConnections();
      const code = await new Promise((resolve) => bot.child.once('exit', resolve));
      assert.equal(code, 1, bot.output());
      const lines = bot
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; err?: { message?: string } });
      const fatal = lines.find((l) => /an unexpected failure nothing handled/.test(l.msg));
      assert.match(fatal?.err?.message ?? '', /invalid_auth/, bot.output());
      assert.ok(
        lines.some((l) => l.msg === 'shutting down'),
        'stopped as on SIGTERM',
      );
      assert.doesNotMatch(bot.output(), /^\s+at /m, 'no bare stack trace');
    } finally {
      await bot.stop();
      await fake.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
