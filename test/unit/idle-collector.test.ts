import { expect } from 'chai';
import { getHeapStatistics } from 'node:v8';
import { quietAfterActivity, startIdleCollector, v8Collector, type ActivitySample, type Collect, type ActivitySampler, type QuietRule, type TimedSample } from '../../src/observability/idle-collector.ts';
import { testClock } from '../helpers/clock.ts';

/** Samples with the event loop's share as busy as the CPU's, as on a machine with cores to spare. */
const alike = (...shares: number[]): ActivitySample[] => shares.map((share) => ({ loop: share, cpu: share }));

/** The samples as consecutive intervals of `everyMs` (clock ms), from `startMs`. */
const timed = (samples: ActivitySample[], everyMs = 5_000, startMs = 0): TimedSample[] => samples.map((sample, index) => ({ ...sample, from: startMs + index * everyMs, to: startMs + (index + 1) * everyMs }));

/** The rule as the collector uses it before the quiet spell's length counts: the first quiet interval after activity. */
const atOnce: QuietRule = { busy: 0.05, idle: 0.02, quietMs: 0 };
const sustained: QuietRule = { busy: 0.05, idle: 0.02, quietMs: 20_000 };

describe('idle collector (memory given back after a burst)', () => {
  it('collects once per quiet spell that follows activity, never on an idle server', () => {
    const quiet = quietAfterActivity(atOnce);
    expect(timed(alike(0, 0.001, 0.03)).map(quiet), 'idle from the start, then a little').to.deep.equal([false, false, false]);
    expect(timed(alike(0.5, 0.03, 0.01)).map(quiet), 'busy, winding down, quiet').to.deep.equal([false, false, true]);
    expect(timed(alike(0.001, 0)).map(quiet), 'still quiet: already collected').to.deep.equal([false, false]);
    expect(timed(alike(0.3, 0.004)).map(quiet), 'the next burst').to.deep.equal([false, true]);
  });

  it('takes a quiet server on a busy machine for quiet: its event loop waits for a core, its CPU stays at the idle floor', () => {
    // Read from a Gatehouse idling after load beside processes that kept both cores busy: its
    // loop's utilisation stayed at 1.5–5 % with no request, its CPU at ≈ 1 % of a core.
    const quiet = quietAfterActivity(atOnce);
    expect(timed([{ loop: 0.6, cpu: 0.2 }, { loop: 0.047, cpu: 0.0138 }]).map(quiet), 'the load, then idle with the loop starved of cores').to.deep.equal([false, true]);
  });

  it('does not take a starved idle loop for activity', () => {
    const quiet = quietAfterActivity(atOnce);
    expect(timed([{ loop: 0.08, cpu: 0.01 }, { loop: 0.005, cpu: 0.005 }]).map(quiet)).to.deep.equal([false, false]);
  });

  it('does not collect on the dips of steady light traffic, only once it has stopped for the whole quiet spell', () => {
    // ≈ 5 % of a core on average: intervals just busy, then a dip to the idle floor's neighbourhood.
    const traffic = alike(0.06, 0.015, 0.07, 0.012, 0.055, 0.018, 0.06, 0.01, 0.065, 0.015, 0.058, 0.011, 0.06);
    expect(timed(traffic).map(quietAfterActivity(atOnce)).filter(Boolean), 'the first quiet interval: a collection on each dip').to.have.lengthOf(6);
    const quiet = quietAfterActivity(sustained);
    expect(timed(traffic).map(quiet).filter(Boolean), 'a quiet spell of 20 s').to.have.lengthOf(0);
    const stopped = timed(alike(0.01, 0.008, 0.009, 0.007, 0.006, 0.005, 0.004), 5_000, traffic.length * 5_000).map(quiet);
    expect(stopped, 'the traffic stops: once, 20 s after the last busy interval').to.deep.equal([false, false, false, true, false, false, false]);
  });

  it('starts the quiet spell again after an interval that is neither busy nor quiet', () => {
    const quiet = quietAfterActivity(sustained);
    expect(timed(alike(0.2, 0.01, 0.01, 0.01, 0.03, 0.01, 0.01, 0.01, 0.01)).map(quiet)).to.deep.equal([false, false, false, false, false, false, false, false, true]);
  });

  it('samples on the clock and collects once, when the clock has moved through the quiet spell after a burst', async () => {
    const clock = testClock({ frozen: true });
    const shares = [0.4, 0.3, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.5, 0.01, 0.01, 0.01, 0.01];
    let restarts = 0;
    const sampler: ActivitySampler = {
      read: () => {
        const share = shares.shift() ?? 0.001;
        return { loop: share, cpu: share };
      },
      restart: () => {
        restarts += 1;
      },
    };
    const collections: number[] = [];
    let collects = 0;
    const collector = startIdleCollector({ clock, sampler, intervalMs: 5_000, quietMs: 20_000, collect: () => void (collects += 1), onCollect: (ms) => collections.push(ms) });
    try {
      const step = async (intervals: number) => {
        for (let index = 0; index < intervals; index += 1) await clock.advance(5_000);
      };
      await step(5);
      expect(collects, 'the burst, then 15 s quiet').to.equal(0);
      await step(1);
      expect(collects, '20 s quiet').to.equal(1);
      expect(restarts, 'sampling starts afresh after the collection').to.equal(1);
      expect(collections).to.have.lengthOf(1);
      await step(2);
      expect(collects, 'still quiet: nothing more').to.equal(1);
      await step(5);
      expect(collects, 'the next burst and its quiet spell').to.equal(2);
      collector.stop();
      shares.push(0.9, 0.9);
      await step(10);
      expect(collects, 'stopped').to.equal(2);
      expect(shares, 'no sample read once stopped').to.have.lengthOf(2);
    } finally {
      collector.stop();
    }
  });

  it("reaches V8's collector without node's --expose-gc flag, and a collection frees garbage", () => {
    const collect = v8Collector();
    expect(collect).to.be.a('function');
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, index) => ({ index }));
    const before = process.memoryUsage().heapUsed;
    garbage = undefined;
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(garbage).to.equal(undefined);
    expect(process.memoryUsage().heapUsed).to.be.below(before);
  });

  it('uses the main context\'s gc() when node was started with --expose-gc, and makes no context for one', () => {
    const calls: unknown[] = [];
    const exposed: Collect = (options) => void calls.push(options);
    let made = 0;
    const collect = v8Collector({ exposed: () => exposed, fresh: () => ((made += 1), exposed) });
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(calls).to.deep.equal([{ type: 'major', execution: 'sync', flavor: 'last-resort' }, { type: 'major', execution: 'sync', flavor: 'last-resort' }]);
    expect(made, 'contexts made').to.equal(0);
  });

  it('without --expose-gc, makes its context at the first collection, not at start, and only once', () => {
    // A context made for gc() arms V8's memory reducer for the rest of the process's life
    // (docs/PERFORMANCE.md, perf22g): a process that never idles after load never makes one.
    const calls: unknown[] = [];
    let made = 0;
    const collect = v8Collector({ exposed: () => undefined, fresh: () => ((made += 1), (options) => void calls.push(options)) });
    expect(made, 'contexts made at start').to.equal(0);
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(made, 'contexts made after two collections').to.equal(1);
    expect(calls).to.have.lengthOf(2);
  });

  it('makes no V8 context when it starts (the real sources)', () => {
    const before = getHeapStatistics().number_of_native_contexts;
    v8Collector({ exposed: () => undefined });
    // A full collection in between can only lower the count (a dead context collected).
    expect(getHeapStatistics().number_of_native_contexts).to.be.at.most(before);
  });
});
