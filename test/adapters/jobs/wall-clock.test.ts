import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerJobs } from '../../../src/adapters/jobs/register-jobs.js';
import { silentLogger, waitFor } from '../../helpers/core-fixture.js';

// The server's zone, as a host set up in local time has it, for every test here (each test file is a process of
// its own). Set before node-cron reads the time, so its formatters are made in this zone.
process.env.TZ = 'Europe/Berlin';

/**
 * Sets the wall clock (Date, which node-cron reads) to `iso` and lets it run on from there, as a server's clock
 * does; timers keep real time. `step` moves it as an NTP step would; `restore` gives the real clock back.
 */
function wallClockAt(iso: string) {
  const RealDate = Date;
  let offset = RealDate.parse(iso) - RealDate.now();
  class WallDate extends RealDate {
    constructor(...args: [] | [string | number | Date]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(args[0]);
    }
    static override now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = WallDate as DateConstructor;
  return {
    step(ms: number) {
      offset += ms;
    },
    restore() {
      globalThis.Date = RealDate;
    },
  };
}

describe('Scheduled jobs on a server’s wall clock', () => {
  it('when the server’s time zone leaves summer time, then the jobs keep running through the hour it repeats', async () => {
    // 02:30 CEST on 2026-10-25: Europe/Berlin goes through 02:00-03:00 twice that night.
    const clock = wallClockAt('2026-10-25T00:30:00Z');
    let runs = 0;
    const stop = registerJobs('* * * * * *', [{ name: 'reap-expired', run: () => ++runs }], silentLogger);
    try {
      await waitFor(() => runs > 0, 'a run within the repeated hour', 5000);
    } finally {
      await stop();
      clock.restore();
    }
  });

  it('when the wall clock steps back (an NTP correction), then the jobs go on running without waiting for it to catch up', async () => {
    const clock = wallClockAt('2026-06-01T12:00:00Z');
    let runs = 0;
    const stop = registerJobs('* * * * * *', [{ name: 'reap-expired', run: () => ++runs }], silentLogger);
    try {
      await waitFor(() => runs > 0, 'a first run');
      clock.step(-10 * 60_000);
      const before = runs;
      await waitFor(() => runs > before, 'a run after the clock stepped back ten minutes', 5000);
    } finally {
      await stop();
      clock.restore();
    }
  });

  it('when the wall clock jumps ahead (the VM was suspended for an hour), then the jobs run at the next tick and nothing is printed outside the JSON log', async () => {
    const clock = wallClockAt('2026-06-01T12:00:00Z');
    const printed: unknown[][] = [];
    const consoleWas = { ...console };
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      console[level] = (...args: unknown[]) => printed.push(args);
    }
    let runs = 0;
    const stop = registerJobs('* * * * * *', [{ name: 'reap-expired', run: () => ++runs }], silentLogger);
    try {
      await waitFor(() => runs > 0, 'a first run');
      clock.step(60 * 60_000);
      const before = runs;
      await waitFor(() => runs > before, 'a run after the jump', 5000);
    } finally {
      await stop();
      Object.assign(console, consoleWas);
      clock.restore();
    }
    assert.deepEqual(printed.slice(0, 2), [], `${printed.length} lines printed`);
  });
});
