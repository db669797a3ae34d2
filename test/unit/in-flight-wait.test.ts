import { expect } from 'chai';
import { SignInsInFlightError } from '../../src/accounts/errors.ts';
import { inFlightWait, type Busy } from '../../src/accounts/in-flight-wait.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

/**
 * The wait for a place (src/accounts/in-flight-wait.ts) on a clock the test moves: each try of
 * the attempt is scripted, and moves the clock as a slow machine would.
 */
describe('the wait of a sign-in attempt for a place', () => {
  const busy = (oldest: string): Busy => ({ busy: true, oldest });
  const ADMITTED = { admitted: true } as const;

  /** Tries answering `answers` in turn, the clock moving `stepMs` at each. */
  function scripted(answers: ReadonlyArray<Busy | typeof ADMITTED>, stepMs: number, { stallMs = 10_000, maxMs = 60_000 } = {}) {
    let clock = 0;
    let tries = 0;
    const waited: string[] = [];
    const wait = inFlightWait({ stallMs, maxMs, now: () => clock, onWaited: (outcome) => waited.push(outcome) });
    const run = wait.run('pair', async () => {
      const answer = answers[Math.min(tries++, answers.length - 1)]!;
      clock += stepMs;
      return answer;
    });
    return { wait, run, waited, tries: () => tries };
  }

  it('waits past the bound as long as the attempts ahead keep ending: a slow machine is no reason to refuse', async () => {
    // Each try 4 s apart, 20 s in all, the oldest attempt ahead changing at every try.
    const { run, waited } = scripted([busy('a'), busy('b'), busy('c'), busy('d'), busy('e'), ADMITTED], 4_000);
    expect(await run).to.equal(ADMITTED);
    expect(waited).to.deep.equal(['admitted']);
  });

  it('refuses once the attempts ahead stopped ending for the bound (a stuck place)', async () => {
    const { run, waited, tries } = scripted([busy('a'), busy('b'), busy('b'), busy('b'), busy('b'), ADMITTED], 4_000);
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(SignInsInFlightError);
    expect(waited).to.deep.equal(['refused']);
    // 'b' first seen at the second try (8 s), unchanged at 12, 16, and 20 s: 12 s without an end.
    expect(tries()).to.equal(5);
  });

  it('refuses after the longest wait even while the attempts ahead keep ending (always someone else first)', async () => {
    const answers = Array.from({ length: 40 }, (_, index) => busy(`attempt${index}`));
    const { run } = scripted(answers, 4_000, { maxMs: 20_000 });
    expect(await run.then(() => 'admitted', (e: unknown) => (e instanceof SignInsInFlightError ? 'refused' : e))).to.equal('refused');
  });

  it('counts an attempt of this process on the pair ending as progress, and tries again at once', async () => {
    let clock = 0;
    let ends = 0;
    const wait = inFlightWait({ stallMs: 10_000, maxMs: 600_000, now: () => clock });
    const run = wait.run('pair', async () => {
      // The same oldest attempt every time (the ends are on another key of the account or IP):
      // only the local ends show progress. A place after the third, 24 s on.
      return ends === 3 ? ADMITTED : busy('a');
    });
    for (; ends < 3; ends++) {
      // The attempt's try and its turn in the queue run in one go of microtasks: it waits in
      // the queue again by the next setImmediate.
      await new Promise((resolve) => setImmediate(resolve));
      clock += 8_000;
      wait.ended('pair');
    }
    expect(await run).to.equal(ADMITTED);
  });

  it('a place at once is no wait (nothing for the metrics)', async () => {
    const { run, waited } = scripted([ADMITTED], 0);
    expect(await run).to.equal(ADMITTED);
    expect(waited).to.deep.equal([]);
  });
});

describe('gatehouse_sign_in_waits_total', () => {
  it('counts the waits for a place by outcome, for operators to see refusals that are no failure and no audit event', async () => {
    const metrics = createMetrics();
    metrics.signInWait('admitted');
    metrics.signInWait('admitted');
    metrics.signInWait('refused');
    const text = await metrics.registry.getSingleMetricAsString('gatehouse_sign_in_waits_total');
    expect(text).to.contain('gatehouse_sign_in_waits_total{outcome="admitted"} 2').and.contain('gatehouse_sign_in_waits_total{outcome="refused"} 1');
  });
});
