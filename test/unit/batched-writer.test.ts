import { expect } from 'chai';
import { batchedWriter, keyedBatchedWriter, takeBatch, type BatchedWriterOptions } from '../../src/storage/batched-writer.ts';
import { testClock } from '../helpers/clock.ts';

/** A buffer and a store whose writes the test answers: each batch waits until released. */
function heldStore() {
  const buffer = new Map<string, number>();
  const writes: Array<{ batch: Array<[string, number]>; release: (ok: boolean) => void }> = [];
  const waiters: Array<() => void> = [];
  async function writeBatch(max: number): Promise<void> {
    const batch = takeBatch(buffer, max);
    const ok = await new Promise<boolean>((release) => {
      writes.push({ batch, release });
      for (const wake of waiters.splice(0)) wake();
    });
    if (!ok) {
      for (const [key, value] of batch) if (!buffer.has(key)) buffer.set(key, value);
      throw new Error('store away');
    }
  }
  /** Resolves once `count` writes have started. */
  async function started(count: number): Promise<void> {
    while (writes.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
  }
  return { buffer, writes, writeBatch, started };
}

// Timers an hour long: only the test's clock moves them, never the time the test takes.
const INTERVAL = 3_600_000;

/** A writer over the held store on the test's clock; `options` override the defaults. */
function writerOf(store: ReturnType<typeof heldStore>, clock: ReturnType<typeof testClock>, options: Partial<BatchedWriterOptions> = {}) {
  return batchedWriter({ pending: () => store.buffer.size, writeBatch: store.writeBatch, maxBatch: 10, flushIntervalMs: INTERVAL, clock, ...options });
}

describe('batched writer (clock seam, no sleeps)', () => {
  it('writes a note once the flush interval has passed on the clock, not before', async () => {
    const clock = testClock({ frozen: true });
    const store = heldStore();
    const writer = writerOf(store, clock);
    store.buffer.set('a', 1);
    writer.noted();
    await clock.advance(INTERVAL - 1);
    expect(store.writes, 'nothing before the interval').to.have.length(0);
    await clock.advance(1);
    expect(store.writes).to.have.length(1);
    expect(store.writes[0]!.batch).to.deep.equal([['a', 1]]);
    store.writes[0]!.release(true);
    await writer.flush();
    expect(writer.writing).to.equal(false);
    await clock.advance(INTERVAL);
    expect(store.writes, 'no timer left once the buffer is empty').to.have.length(1);
  });

  it('writes a full batch at once, one write at a time; notes made meanwhile go with the same flush', async () => {
    const clock = testClock({ frozen: true });
    const store = heldStore();
    const writer = writerOf(store, clock, { maxBatch: 2 });
    store.buffer.set('a', 1);
    writer.noted();
    expect(store.writes).to.have.length(0);
    store.buffer.set('b', 2);
    writer.noted();
    expect(store.writes, 'a full batch does not wait for the timer').to.have.length(1);
    for (const key of ['c', 'd', 'e']) {
      store.buffer.set(key, 0);
      writer.noted();
    }
    expect(store.writes, 'one write at a time').to.have.length(1);
    const flushed = writer.flush();
    store.writes[0]!.release(true);
    await store.started(2);
    expect(store.writes.map((write) => write.batch.map(([key]) => key))).to.deep.equal([['a', 'b'], ['c', 'd']]);
    store.writes[1]!.release(true);
    await store.started(3);
    store.writes[2]!.release(true);
    await flushed;
    expect(store.writes.map((write) => write.batch.map(([key]) => key))).to.deep.equal([['a', 'b'], ['c', 'd'], ['e']]);
    expect(store.buffer.size).to.equal(0);
  });

  it('under steady notes every write is a full batch: what a write leaves that does not fill one waits for the timer', async () => {
    const clock = testClock({ frozen: true });
    const store = heldStore();
    const writer = writerOf(store, clock, { maxBatch: 2 });
    const note = (key: string) => {
      store.buffer.set(key, 0);
      writer.noted();
    };
    const idle = async () => {
      while (writer.writing) await new Promise((resolve) => setImmediate(resolve));
    };
    note('a');
    note('b');
    for (const key of ['c', 'd', 'e']) note(key);
    store.writes[0]!.release(true);
    await store.started(2);
    expect(store.writes[1]!.batch.map(([key]) => key), 'a full batch noted during a write goes next').to.deep.equal(['c', 'd']);
    store.writes[1]!.release(true);
    await idle();
    expect(store.writes, 'one left over: not written at once').to.have.length(2);
    note('f');
    expect(store.writes, 'a full batch again: at once').to.have.length(3);
    expect(store.writes[2]!.batch.map(([key]) => key)).to.deep.equal(['e', 'f']);
    note('g');
    store.writes[2]!.release(true);
    await idle();
    expect(store.writes).to.have.length(3);
    await clock.advance(INTERVAL);
    expect(store.writes.map((write) => write.batch.map(([key]) => key)), 'the rest when the interval has passed').to.deep.equal([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g']]);
    note('h');
    store.writes[3]!.release(true);
    await idle();
    expect(store.writes, 'the timer wrote what was due, and does not chase a note made during its write').to.have.length(4);
    const closed = writer.close();
    await store.started(5);
    expect(store.writes[4]!.batch.map(([key]) => key)).to.deep.equal(['h']);
    store.writes[4]!.release(true);
    await closed;
  });

  it('keeps a failed batch for a retry after retryAfterMs on the clock; says so once, and again when writes go through', async () => {
    const clock = testClock({ frozen: true });
    const store = heldStore();
    const said: string[] = [];
    const writer = writerOf(store, clock, {
      retryAfterMs: 2 * INTERVAL,
      onFailure: (_error, first) => said.push(first ? 'failing' : 'still failing'),
      onRecovery: () => said.push('recovered'),
    });
    store.buffer.set('a', 1);
    const first = writer.flush();
    store.writes[0]!.release(false);
    await first;
    expect([...store.buffer.keys()], 'the batch waits for a retry').to.deep.equal(['a']);
    await clock.advance(2 * INTERVAL - 1);
    expect(store.writes).to.have.length(1);
    await clock.advance(1);
    expect(store.writes, 'retried once the retry delay passed').to.have.length(2);
    const second = writer.flush();
    store.writes[1]!.release(false);
    await second;
    await clock.advance(2 * INTERVAL);
    const third = writer.flush();
    store.writes[2]!.release(true);
    await third;
    expect(store.buffer.size).to.equal(0);
    expect(said).to.deep.equal(['failing', 'still failing', 'recovered']);
  });

  it('close writes what waits and arms no timer afterwards', async () => {
    const clock = testClock({ frozen: true });
    const store = heldStore();
    const writer = writerOf(store, clock);
    store.buffer.set('a', 1);
    writer.noted();
    const closed = writer.close();
    await store.started(1);
    store.writes[0]!.release(true);
    await closed;
    expect(store.writes).to.have.length(1);
    store.buffer.set('b', 2);
    writer.noted();
    await clock.advance(INTERVAL);
    expect(store.writes, 'no timer after close').to.have.length(1);
    expect(store.buffer.size, 'a later note waits for an explicit flush').to.equal(1);
  });

  it('keyed: a failed batch goes back in front for the retry, except a key noted again meanwhile (the newer note wins)', async () => {
    const clock = testClock({ frozen: true });
    const buffer = new Map<string, number>([['a', 1], ['b', 1]]);
    const written: Array<Array<[string, number]>> = [];
    let fail = true;
    const writer = keyedBatchedWriter(buffer, {
      maxBatch: 10,
      flushIntervalMs: INTERVAL,
      clock,
      async write(batch) {
        written.push(batch);
        if (!fail) return;
        buffer.set('b', 2); // noted again while the failing write runs
        buffer.set('c', 2);
        throw new Error('store away');
      },
    });
    await writer.flush();
    expect([...buffer], 'the batch back in front, the newer note of b kept').to.deep.equal([['a', 1], ['b', 2], ['c', 2]]);
    fail = false;
    await writer.flush();
    expect(written[1]).to.deep.equal([['a', 1], ['b', 2], ['c', 2]]);
  });

  it('takeBatch takes the first entries off a keyed buffer', () => {
    const buffer = new Map([['a', 1], ['b', 2], ['c', 3]]);
    expect(takeBatch(buffer, 2)).to.deep.equal([['a', 1], ['b', 2]]);
    expect([...buffer.keys()]).to.deep.equal(['c']);
  });

  it('arms a real timer on a running clock and none on a frozen one (its timers fire only when it is moved)', async () => {
    /** How many real timers `run` arms (it runs synchronously). */
    function timersArmedBy(run: () => void): number {
      const systemSetTimeout = globalThis.setTimeout;
      let armed = 0;
      globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
        armed += 1;
        return systemSetTimeout(...args);
      }) as typeof setTimeout;
      try {
        run();
      } finally {
        globalThis.setTimeout = systemSetTimeout;
      }
      return armed;
    }
    for (const [frozen, armed] of [[false, 1], [true, 0]] as const) {
      const clock = testClock({ frozen });
      const store = heldStore();
      const writer = writerOf(store, clock);
      store.buffer.set('a', 1);
      expect(timersArmedBy(() => writer.noted()), frozen ? 'frozen' : 'running').to.equal(armed);
      await clock.advance(INTERVAL);
      store.writes[0]!.release(true);
      await writer.close();
    }
  });
});
