import { expect } from 'chai';
import { startSweeper } from '../../src/storage/expiry.ts';

/**
 * The periodic expiry sweeper (src/storage/expiry.ts) at shutdown: a sweep under way when the
 * server stops must be waited for before the stores close, and its failure then (the store
 * closed under it) is no outage to warn about. The conformance run's log ended with "expiry
 * sweeper failed; will retry" (MongoClientClosedError) on a clean SIGTERM.
 * The sweep is started through the clock-jump hook, so no timer is waited for.
 */
describe('the expiry sweeper at shutdown', () => {
  function sweeperWithHeldSweep() {
    const warnings: string[] = [];
    let jump: (() => Promise<void>) | undefined;
    let release!: (outcome: Error | number) => void;
    let started!: () => void;
    const sweepStarted = new Promise<void>((resolve) => (started = resolve));
    const sweeper = startSweeper({
      targets: [
        {
          collectionName: 'held',
          sweep: () => {
            started();
            return new Promise<number>((resolve, reject) => {
              release = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
            });
          },
        },
      ],
      intervalMs: 3_600_000,
      logger: { warn: (_fields, message) => void warnings.push(message) },
      onClockJump: (listener) => {
        jump = listener;
        return () => (jump = undefined);
      },
    });
    const jumped = jump!();
    return { sweeper, warnings, sweepStarted, release: (outcome: Error | number) => release(outcome), jumped };
  }

  it('stop() resolves only once the sweep under way has ended', async () => {
    const { sweeper, sweepStarted, release, jumped } = sweeperWithHeldSweep();
    await sweepStarted;
    let stopped = false;
    const stopping = Promise.resolve(sweeper.stop()).then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped, 'stopped while a sweep was still running').to.equal(false);
    release(3);
    await stopping;
    await jumped;
    expect(stopped).to.equal(true);
  });

  it('a sweep failing after stop() (the store closed under it) is not logged as an outage', async () => {
    const { sweeper, warnings, sweepStarted, release, jumped } = sweeperWithHeldSweep();
    await sweepStarted;
    const stopping = sweeper.stop();
    release(Object.assign(new Error('Operation interrupted because client was closed'), { name: 'MongoClientClosedError' }));
    await stopping;
    await jumped;
    expect(warnings).to.deep.equal([]);
  });

  it('a sweep failing while running is still logged', async () => {
    const { sweeper, warnings, sweepStarted, release, jumped } = sweeperWithHeldSweep();
    await sweepStarted;
    release(new Error('connection refused'));
    await jumped;
    expect(warnings).to.deep.equal(['expiry sweeper failed; will retry']);
    await sweeper.stop();
  });
});
