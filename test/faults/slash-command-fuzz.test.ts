// Whatever is typed after /sandbox (random bytes, 4,000 characters, RTL marks, emoji, NUL, shell
// metacharacters, unbalanced quotes, `--flag=` forms), the bot acknowledges with HTTP 200 and answers with an
// ephemeral message Slack accepts (or opens the create modal for a bare `create`), logs no unexpected error,
// and never asks k3d to create anything. The inputs come from a seeded PRNG, so a failure replays exactly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../src/core/ports.js';
import { ALICE, type SlackHarness, startSlackHarness } from '../adapters/slack/slack-harness.js';
import { waitUntil } from '../fakes/slack/fake-slack.js';

const SEED = 0x5eed_2026;
const INPUTS = 160;
const PARALLEL = 8;

/** mulberry32: a tiny seeded PRNG, enough to make inputs reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBCOMMANDS = [
  '',
  'create ',
  'create demo ',
  'status ',
  'kubeconfig ',
  'extend demo ',
  'extend ',
  'destroy ',
  'cancel ',
  'test demo ',
  'list ',
  'help ',
  'CREATE ',
  'Create ',
  '  create\t',
];
const SHELL = [
  ';',
  '|',
  '&',
  '&&',
  '||',
  '$(',
  ')',
  '`',
  '<',
  '>',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, typed literally on purpose
  '${IFS}',
  'rm -rf /',
  '\\',
  '*',
  '?',
  '~',
  '!',
  '#',
  '\n',
  '$(reboot)',
  '`id`',
  '&lt;',
  '&gt;',
  '&amp;',
];
const QUOTES = ['"', "'", '“', '”', '‘', '’', '«', '»', '„', '"\'', '""', "''"];
const FLAGS = [
  '--flag=',
  '--servers=',
  '--agents=-1',
  '--ttl=',
  '--ttl=999999d',
  '--ttl=0s',
  '--name=',
  '--=',
  '--',
  '---x',
  '--servers 99999999999999999999',
  '--agents 1e3',
  '--servers=NaN',
  '--reason=',
  'name=',
  'ttl=4h',
  '--TTL 4h',
  '--servers',
  '--reason',
  '-s 1',
  '--agents=0x10',
  '--ttl=-5m',
];
const UNICODE = [
  '\u202e',
  '\u200f',
  '\u200b',
  '\ufeff',
  '\u0000',
  'שלום',
  'مرحبا',
  '😀',
  '👩‍💻',
  '🏳️‍🌈',
  'e\u0301',
  'Z̷̛͉a̶l̸g̵o',
  '\ud800',
  '\u2028',
  'ｃｒｅａｔｅ',
  'İ',
  'ß',
  '\u00a0',
];

function fuzzInputs(count: number): string[] {
  const random = prng(SEED);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const pieces = (from: readonly string[], n: number) =>
    Array.from({ length: n }, () => pick(from)).join(pick(['', ' ', '  ']));
  const makers: (() => string)[] = [
    () => Array.from({ length: 1 + int(200) }, () => String.fromCharCode(int(256))).join(''),
    () => Array.from({ length: 1 + int(60) }, () => String.fromCodePoint(int(0x2ffff))).join(''),
    () => pick(SUBCOMMANDS) + pieces(UNICODE, 1 + int(8)),
    () => pick(SUBCOMMANDS) + pieces(SHELL, 1 + int(8)),
    () => pick(SUBCOMMANDS) + pieces(QUOTES, 1 + int(4)) + pieces(['demo', 'x', ' '], int(3)),
    () => pick(SUBCOMMANDS) + pieces(FLAGS, 1 + int(5)),
    () => pick(SUBCOMMANDS) + pick(['a', 'é', '😀', ';', '"', '-']).repeat(3990 + int(10)),
    () => `create demo --reason "${'x'.repeat(3900)}"`,
    () =>
      pick(SUBCOMMANDS) +
      pieces([...UNICODE, ...SHELL, ...QUOTES, ...FLAGS, 'demo', 'sbx-demo', 'a'.repeat(40)], 2 + int(10)),
  ];
  const fixed = [
    '',
    ' ',
    'create',
    '\u0000',
    'create \u0000',
    '"',
    "create 'unclosed",
    'create --',
    'help me',
  ];
  return [...fixed, ...Array.from({ length: count - fixed.length }, () => pick(makers)())];
}

describe('fuzzed /sandbox text', () => {
  let h: SlackHarness;
  const unexpected: string[] = [];
  const capture: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (o, m) => unexpected.push(`${m} ${JSON.stringify(o)}`),
  };
  before(async () => {
    h = await startSlackHarness({
      logger: capture,
      env: { SANDBOX_MAX_PER_USER: '50', SANDBOX_MAX_TOTAL: '100' },
    });
  });
  after(async () => {
    await h.stop();
  });

  it(`when ${INPUTS} fuzzed texts are typed (seed ${SEED}), then each gets a 200 and an ephemeral answer, and k3d is never asked to create`, async () => {
    const inputs = fuzzInputs(INPUTS);
    const problems: string[] = [];
    let ephemerals = 0;
    let modals = 0;
    let next = 0;
    const client = async () => {
      for (let i = next++; i < inputs.length; i = next++) {
        const text = inputs[i] as string;
        const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…(${text.length})` : text);
        const result = await h.driver.command(ALICE, text);
        if (result.status !== 200) {
          problems.push(`#${i} ${shown}: HTTP ${result.status} ${result.text.slice(0, 200)}`);
          continue;
        }
        const answer = await waitUntil(
          () =>
            h.fake.responses.find((r) => r.url === result.responseUrl) ??
            h.fake.callsTo('views.open').find((c) => c.args.trigger_id === result.triggerId),
          5000,
          () => `an answer to #${i} ${shown}`,
        ).catch((error: Error) => error);
        if (answer instanceof Error) {
          problems.push(`#${i} ${shown}: no answer`);
        } else if ('method' in answer) {
          modals++;
          if (!/^\s*create\s*$/i.test(text) || answer.response?.ok !== true) {
            problems.push(`#${i} ${shown}: opened a modal (${JSON.stringify(answer.response)})`);
          }
        } else if (typeof answer.body === 'string' || answer.body.response_type !== 'ephemeral') {
          problems.push(
            `#${i} ${shown}: answer is not ephemeral: ${JSON.stringify(answer.body).slice(0, 200)}`,
          );
        } else if (answer.status === 200) {
          ephemerals++;
        } else {
          problems.push(
            `#${i} ${shown}: Slack refused the answer (${answer.status}): ${JSON.stringify(answer.body).slice(0, 300)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, client));
    await h.app.events.idle();

    assert.deepEqual(problems, []);
    assert.equal(ephemerals + modals, inputs.length);
    assert.ok(modals >= 1 && modals <= 3, `the bare creates opened the modal (${modals})`);
    assert.deepEqual(unexpected, [], 'no unexpected error was logged');
    assert.deepEqual(
      h.k3d.calls().filter((c) => c.command === 'cluster create'),
      [],
      'k3d was never asked to create',
    );
    // Still serving: health, and a plain command.
    assert.equal((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status, 200);
    const list = await h.driver.command(ALICE, 'list');
    assert.equal(list.status, 200);
  });
});
