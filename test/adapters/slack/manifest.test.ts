import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SLACK_EVENTS_PATH } from '../../../src/adapters/slack/create-slack-app.js';
import { SLASH_COMMAND } from '../../../src/adapters/slack/ids.js';
import { manifestBotScopes } from './slack-harness.js';

const manifest = readFileSync(new URL('../../../manifest.yml', import.meta.url), 'utf8');

describe('manifest.yml', () => {
  it('when Slack creates the app from it, then it has the command, App Home, interactivity, the event and Socket Mode the code expects', () => {
    assert.match(manifest, new RegExp(`^ {4}- command: ${SLASH_COMMAND}$`, 'm'));
    assert.match(manifest, /^ {6}description: .{10,}$/m);
    assert.match(manifest, /^ {6}usage_hint: ".*create <name>.*"$/m);
    assert.match(manifest, /^ {4}home_tab_enabled: true$/m);
    assert.match(manifest, /^ {4}messages_tab_enabled: true$/m);
    assert.match(manifest, /^ {4}is_enabled: true$/m);
    assert.match(manifest, /^ {6}- app_home_opened$/m);
    assert.match(manifest, /^ {2}socket_mode_enabled: true$/m);
    // The HTTP-mode URLs (commented out) point at the one endpoint Bolt serves.
    for (const url of manifest.matchAll(/(?:url|request_url): (\S+)/g)) {
      assert.ok(url[1]?.endsWith(SLACK_EVENTS_PATH), url[0]);
    }
    for (const line of manifest.split('\n')) assert.ok(!line.includes('\t'), 'YAML has no tabs');
  });

  it('when the bot scopes are read, then they are the minimal set the code calls for', () => {
    assert.deepEqual(manifestBotScopes().sort(), [
      'chat:write',
      'commands',
      'files:write',
      'im:write',
      'usergroups:read',
    ]);
  });
});
