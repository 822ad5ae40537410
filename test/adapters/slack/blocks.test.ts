import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderAppHome } from '../../../src/adapters/slack/blocks/app-home.js';
import {
  renderApprovalRequest,
  renderDecidedMessage,
} from '../../../src/adapters/slack/blocks/approval-message.js';
import { renderAuditLine } from '../../../src/adapters/slack/blocks/audit-line.js';
import { renderDeniedDm, renderExpiringDm } from '../../../src/adapters/slack/blocks/direct-messages.js';
import { renderHelp } from '../../../src/adapters/slack/blocks/help.js';
import { renderCreateModal, renderDenyModal } from '../../../src/adapters/slack/blocks/modals.js';
import { renderSandboxList, renderSandboxStatus } from '../../../src/adapters/slack/blocks/sandbox-list.js';
import { renderTestResult } from '../../../src/adapters/slack/blocks/test-result.js';
import { renderFailedThread } from '../../../src/adapters/slack/blocks/thread-messages.js';
import { CommandSyntaxError, parseCommand, tokenize } from '../../../src/adapters/slack/parse-command.js';
import type { Sandbox } from '../../../src/core/sandbox.js';
import { checkMessageContent, checkView } from '../../fakes/slack/block-kit-rules.js';
import { testOptions } from '../../helpers/core-fixture.js';

const NOW = Date.UTC(2026, 10, 24, 9, 0, 0);
const LOAD = { ownerLive: 0, maxPerUser: 3, queued: 0, creating: 0, live: 1, maxTotal: 20 };

function sandbox(overrides: Partial<Sandbox> = {}): Sandbox {
  return {
    id: 'sb-0001',
    approvalId: 'ap-0001',
    name: 'demo',
    clusterName: 'sbx-demo',
    owner: 'U0ALICE',
    requestedBy: 'U0ALICE',
    requestedVia: 'slack',
    servers: 1,
    agents: 2,
    ttlMs: 4 * 3_600_000,
    reason: null,
    status: 'ACTIVE',
    requestedAt: NOW - 600_000,
    decidedAt: NOW - 500_000,
    decidedBy: 'U0BOB',
    decisionNote: null,
    creatingAt: NOW - 400_000,
    readyAt: NOW - 300_000,
    expiresAt: NOW + 3_600_000,
    destroyedAt: null,
    warnedForExpiresAt: null,
    failureReason: null,
    destroyReason: null,
    createAttempts: 1,
    apiPort: 6550,
    approvalMessage: { channel: 'C0APPROVALS', ts: '1.000001' },
    ...overrides,
  };
}

const many = (n: number, status: Sandbox['status'] = 'ACTIVE') =>
  Array.from({ length: n }, (_, i) =>
    sandbox({ id: `sb-${i}`, name: `box-${i}`, status, reason: 'x'.repeat(500) }),
  );

const acceptedAsMessage = (message: { text: string; blocks: unknown[] }) =>
  assert.equal(
    checkMessageContent(message.text, message.blocks),
    undefined,
    JSON.stringify(message).slice(0, 500),
  );

describe('Slack renderers stay within Block Kit limits', () => {
  it('when k3d fails with a huge stderr, then the thread message keeps its tail in a code block that fits', () => {
    const detail = `${'noise line\n'.repeat(5000)}ERRO Failed to create cluster: port is already allocated`;
    const message = renderFailedThread(
      sandbox({ status: 'FAILED', failureReason: 'k3d failed: '.repeat(200) }),
      detail,
    );
    acceptedAsMessage(message);
    assert.match(JSON.stringify(message.blocks), /```\\n….*port is already allocated\\n```/);
  });

  it('when a suite has hundreds of failing steps with long output, then one message still fits', () => {
    const steps = Array.from({ length: 300 }, (_, i) => ({
      name: `step ${i} ${'n'.repeat(200)}`,
      passed: false,
      durationMs: i * 10,
      detail: '```evil``` '.repeat(1000),
    }));
    const message = renderTestResult(sandbox(), {
      suite: 'smoke',
      passed: false,
      steps,
      startedAt: NOW,
      finishedAt: NOW + 1,
    });
    acceptedAsMessage(message);
    assert.match(JSON.stringify(message.blocks), /…and \d+ more steps/);
    assert.ok(JSON.stringify(message.blocks).length < 12_000);
  });

  it('when someone has hundreds of sandboxes, all held up by an outage, then App Home, the list and the status fit, every listed line whole', () => {
    const problem = {
      summary: 'The Docker daemon does not answer, so it waits in the queue until it does',
      since: NOW,
    };
    const home = renderAppHome({
      userId: 'U0ALICE',
      mine: many(200),
      pending: many(200, 'PENDING_APPROVAL'),
      mayApprove: () => true,
      extensionMs: () => 3_600_000,
      problemOf: () => problem,
      now: NOW,
    });
    assert.equal(checkView(home, 'home'), undefined);
    assert.match(JSON.stringify(home.blocks), /…and 180 more/);
    const list = renderSandboxList(many(500), NOW, true, () => problem);
    acceptedAsMessage(list);
    const text = JSON.stringify(list.blocks);
    assert.equal(text.match(/waits in the queue until it does/g)?.length, 40, 'no line cut short');
    assert.doesNotMatch(text, /…"/);
    acceptedAsMessage(
      renderSandboxStatus(
        sandbox({ failureReason: 'f'.repeat(5000), decisionNote: 'n'.repeat(5000) }),
        undefined,
        NOW,
        problem,
      ),
    );
  });

  it('when a reason tries to notify a channel, then it is shown, escaped, and the messages are valid', () => {
    const s = sandbox({
      status: 'PENDING_APPROVAL',
      reason: '<!channel> please & thanks '.repeat(30).slice(0, 500),
    });
    const request = renderApprovalRequest(s, LOAD);
    acceptedAsMessage(request);
    assert.doesNotMatch(JSON.stringify(request.blocks), /<!channel>/);
    assert.match(JSON.stringify(request.blocks), /&lt;!channel&gt; please &amp; thanks/);
    acceptedAsMessage(
      renderDecidedMessage({ ...s, status: 'DENIED', decisionNote: '<!here>'.repeat(100) }, 'denied', NOW),
    );
    acceptedAsMessage(renderExpiringDm(s, 3_600_000, NOW));
    acceptedAsMessage(renderHelp({ ...testOptions }));
    assert.doesNotMatch(renderAuditLine({ type: 'requested', sandbox: s }), /\n|<!channel>/);
  });

  it('when a reason or a deny note runs over several lines, then every line stays in the quote, so none reads as the bot’s', () => {
    const note = 'too big\n*Approved by <@U0BOB>*\nfor real';
    const denied = renderDeniedDm(sandbox({ status: 'DENIED', decidedBy: 'U0BOB', decisionNote: note }));
    assert.match(denied.text ?? '', /denied/);
    assert.match(JSON.stringify(denied.blocks), /\\n>too big\\n>\*Approved by &lt;@U0BOB&gt;\*\\n>for real/);
    const home = renderAppHome({
      userId: 'U0CAROL',
      mine: [],
      pending: [sandbox({ status: 'PENDING_APPROVAL', reason: note })],
      mayApprove: () => true,
      extensionMs: () => 3_600_000,
      problemOf: () => undefined,
      now: NOW,
    });
    assert.match(JSON.stringify(home.blocks), /\\n>too big\\n>\*Approved by &lt;@U0BOB&gt;\*\\n>for real/);
  });

  it('when counts and durations are one, then the wording is singular, and the audit channel and the thread give the same ready time', () => {
    const s = sandbox({});
    assert.equal(renderSandboxList([s], NOW, false, () => undefined).text, '1 sandbox');
    assert.equal(renderSandboxList(many(3), NOW, false, () => undefined).text, '3 sandboxes');
    assert.match(
      renderAuditLine({ type: 'ready', sandbox: s, durationMs: 400 }),
      /is ready after 1 second ·/,
    );
    assert.match(
      renderAuditLine({ type: 'ready', sandbox: s, durationMs: 95_000 }),
      /is ready after 95 seconds ·/,
    );
  });

  it('when a sandbox has reached its lifetime cap, then its expiry warning offers Destroy but no Extend, and says why', () => {
    const s = sandbox({ expiresAt: NOW + 10 * 60_000 });
    const atCap = renderExpiringDm(s, 0, NOW);
    acceptedAsMessage(atCap);
    const blocks = JSON.stringify(atCap.blocks);
    assert.match(blocks, /expires in 10m .*reached its maximum lifetime and cannot be extended/);
    assert.doesNotMatch(blocks, /extend_sandbox/);
    assert.match(blocks, /destroy_sandbox/);
    assert.match(JSON.stringify(renderExpiringDm(s, 50 * 60_000, NOW).blocks), /"text":"Extend by 50m"/);
  });

  it('when an agent asked for someone else, then the approval message says who asked, for whom and through which door', () => {
    const s = sandbox({ status: 'PENDING_APPROVAL', requestedBy: 'api:ci-bot', requestedVia: 'api' });
    assert.match(
      JSON.stringify(renderApprovalRequest(s, LOAD).blocks),
      /`api:ci-bot` for <@U0ALICE> \(via the REST API\) asks/,
    );
    const mcp = sandbox({
      status: 'PENDING_APPROVAL',
      owner: 'mcp:claude',
      requestedBy: 'mcp:claude',
      requestedVia: 'mcp',
    });
    assert.match(
      JSON.stringify(renderApprovalRequest(mcp, LOAD).blocks),
      /`mcp:claude` \(an AI agent, via MCP\) asks/,
    );
  });

  it('when the modals are rendered, then Slack accepts them', () => {
    assert.equal(checkView(renderCreateModal({ ...testOptions, maxAgents: 20 }), 'modal'), undefined);
    assert.equal(checkView(renderDenyModal(sandbox(), { sandboxId: 'sb-0001' }), 'modal'), undefined);
  });
});

describe('parsing /sandbox text', () => {
  it('when words are quoted, curly-quoted or HTML-escaped by Slack, then they come back as typed', () => {
    assert.deepEqual(tokenize('create demo --reason "a b" ttl=\'4h\''), [
      'create',
      'demo',
      '--reason',
      'a b',
      'ttl=4h',
    ]);
    assert.deepEqual(tokenize('create “x y” „z w”'), ['create', 'x y', 'z w']);
    assert.deepEqual(tokenize('create a reason=&lt;b&gt; &amp; c'), ['create', 'a', 'reason=<b>', '&', 'c']);
    assert.deepEqual(tokenize('  create   ""  '), ['create', '']);
    assert.throws(() => tokenize('create "open'), CommandSyntaxError);
  });

  it('when a reason has apostrophes, straight or curly, then it is taken as typed without quotes', () => {
    assert.deepEqual(parseCommand("create demo --reason can't repro locally"), {
      sub: 'create',
      input: { name: 'demo', reason: "can't repro locally" },
    });
    assert.deepEqual(parseCommand('create demo --reason customer’s bug --ttl 2h'), {
      sub: 'create',
      input: { name: 'demo', reason: 'customer’s bug', ttl: '2h' },
    });
    assert.deepEqual(parseCommand('create demo --reason ‘quoted’ on a Mac --ttl ‘4h’'), {
      sub: 'create',
      input: { name: 'demo', reason: 'quoted on a Mac', ttl: '4h' },
    });
    assert.deepEqual(parseCommand('create demo --reason "prod bug", urgent'), {
      sub: 'create',
      input: { name: 'demo', reason: 'prod bug, urgent' },
    });
    assert.deepEqual(parseCommand('create demo --reason "prod bug".'), {
      sub: 'create',
      input: { name: 'demo', reason: 'prod bug.' },
    });
    assert.deepEqual(parseCommand('create demo --reason "it\'s fine" --servers 2'), {
      sub: 'create',
      input: { name: 'demo', reason: "it's fine", servers: '2' },
    });
    assert.deepEqual(parseCommand("create demo reason='it's the demo's'"), {
      sub: 'create',
      input: { name: 'demo', reason: "it's the demo's" },
    });
    assert.throws(() => tokenize("create demo --reason 'can't"), CommandSyntaxError);
  });

  it('when create has flags in either form, then they are collected and the reason runs to the next option', () => {
    assert.deepEqual(parseCommand('create demo --servers 2 agents=1 --ttl=90m --reason fix the login bug'), {
      sub: 'create',
      input: { name: 'demo', servers: '2', agents: '1', ttl: '90m', reason: 'fix the login bug' },
    });
    assert.deepEqual(parseCommand('CREATE --reason why not --name demo'), {
      sub: 'create',
      input: { reason: 'why not', name: 'demo' },
    });
    assert.deepEqual(parseCommand('create'), { sub: 'create', input: undefined });
    assert.deepEqual(parseCommand('list --all'), { sub: 'list', all: true });
    assert.deepEqual(parseCommand('extend demo 2h'), { sub: 'extend', name: 'demo', duration: '2h' });
    assert.deepEqual(parseCommand('test demo'), { sub: 'test', name: 'demo', suite: undefined });
    assert.deepEqual(parseCommand('nonsense'), { sub: 'help', unknown: 'nonsense' });
  });
});
