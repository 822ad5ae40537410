import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeIssues, formatDuration, parseDuration, sandboxSpecSchema } from '../../src/core/sandbox.js';
import { testOptions } from '../helpers/core-fixture.js';

const schema = sandboxSpecSchema(testOptions);
const problems = (input: unknown) => {
  const result = schema.safeParse(input);
  assert.equal(result.success, false, `expected ${JSON.stringify(input)} to be refused`);
  return describeIssues(result.error!);
};

describe('sandbox spec', () => {
  it('when only a name is given, then one server, no agents and the default TTL are used', () => {
    assert.deepEqual(schema.parse({ name: 'demo' }), {
      name: 'demo',
      servers: 1,
      agents: 0,
      ttl: 2 * 3_600_000,
    });
  });

  for (const name of ['My_Cluster', 'a;rm -rf /', '-x', 'demo-', 'Demo', 'a.b', 'ünïcode']) {
    it(`when the name is ${JSON.stringify(name)}, then it is refused naming the RFC 1123 rule`, () => {
      assert.match(problems({ name }), /^name: must be a lowercase RFC 1123 label/);
    });
  }

  it('when the name is empty, then it is refused as required', () => {
    assert.match(problems({ name: '' }), /^name: is required/);
  });

  it('when prefix plus name is longer than 32 characters, then the limit is explained', () => {
    assert.match(
      problems({ name: 'a'.repeat(29) }),
      /name: must be at most 28 characters \(the cluster name "sbx-<name>"/,
    );
    assert.equal(schema.parse({ name: 'a'.repeat(28) }).name.length, 28);
  });

  it('when servers, agents and ttl break the limits, then every problem is listed at once', () => {
    const text = problems({ name: 'ok', servers: 9, agents: -1, ttl: '48h' });
    assert.match(text, /servers: must be at most 3/);
    assert.match(text, /agents: must not be negative/);
    assert.match(text, /ttl: must be at most 24h/);
  });

  it('when servers is not a number, then the accepted range is named', () => {
    assert.match(problems({ name: 'ok', servers: 'two' }), /servers: must be a whole number from 1 to 3/);
  });

  it('when ttl is not a duration, then the accepted forms are named', () => {
    assert.match(
      problems({ name: 'ok', ttl: 'soon' }),
      /ttl: "soon" is not a duration; use a number with s, m, h or d/,
    );
  });

  it('when an unknown field is sent, then it is named', () => {
    assert.match(problems({ name: 'ok', size: 'xl' }), /unknown field\(s\): size/);
  });

  it('when the reason is longer than 500 characters, then it is refused', () => {
    assert.match(problems({ name: 'ok', reason: 'x'.repeat(501) }), /reason: must be at most 500 characters/);
  });
});

describe('durations', () => {
  it('when people write 90m, 4h, 1d or 1h30m, then they are understood', () => {
    assert.equal(parseDuration('90m'), 90 * 60_000);
    assert.equal(parseDuration('4h'), 4 * 3_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 90 * 60_000);
    assert.equal(parseDuration('4 hours'), undefined);
    assert.equal(parseDuration('0m'), undefined);
  });

  it('when a duration is shown, then it reads the way it is typed', () => {
    assert.equal(formatDuration(90 * 60_000), '1h30m');
    assert.equal(formatDuration(26 * 3_600_000), '26h');
    assert.equal(formatDuration(74 * 3_600_000), '3d2h');
    assert.equal(formatDuration(45_000), '45s');
  });
});
