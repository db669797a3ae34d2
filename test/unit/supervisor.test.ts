import { expect } from 'chai';
import { clockTimer } from '../../src/clock.ts';
import { CRASH_WINDOW_MS, createSupervisor, EXIT_CONFIG, RESTART_DELAYS_MS, STOP_MARGIN_MS, type Supervisor, type WorkerReady } from '../../src/cluster/supervisor.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';

const READY: WorkerReady = { issuer: 'https://sso.example.com', listening: 'http://127.0.0.1:3000', env: 'production', metrics: 'not served' };
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface FakeWorker {
  readonly id: number;
  readonly signals: NodeJS.Signals[];
}

/** A supervisor on a fake cluster and a frozen clock: timers fire only when the test moves it. */
function harness(workers: number) {
  const clock: TestClock = testClock({ frozen: true });
  const forked: FakeWorker[] = [];
  const exits: number[] = [];
  const announced: Array<WorkerReady & { workers: number }> = [];
  const lines: string[] = [];
  const log = (_fields: object, message: string) => void lines.push(message);
  const supervisor: Supervisor = createSupervisor({
    workers,
    spawner: {
      fork() {
        const worker: FakeWorker = { id: forked.length + 1, signals: [] };
        forked.push(worker);
        return { id: worker.id, signal: (signal) => void worker.signals.push(signal) };
      },
    },
    clock,
    schedule: (ms, run) => clockTimer(clock, ms, run),
    logger: { info: log, warn: log, error: log },
    onReady: (ready) => void announced.push(ready),
    exit: (code) => void exits.push(code),
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
  });
  const worker = (id: number) => ({ id, signal: () => {} });
  return {
    clock,
    forked,
    exits,
    announced,
    lines,
    supervisor,
    ready: (id: number) => supervisor.ready(worker(id), READY),
    exit: (id: number, code: number | null, signal: string | null = null) => supervisor.exited(worker(id), code, signal),
    /** Starts and makes every worker ready: worker 1 first, then the rest. */
    started() {
      supervisor.start();
      for (let id = 1; id <= workers; id++) supervisor.ready(worker(id), READY);
      return this;
    },
  };
}

describe('GATEHOUSE_WORKERS supervisor (fake cluster, frozen clock)', () => {
  it('starts worker 1 alone and the others only once it is ready; announces readiness once, when all are', () => {
    const h = harness(3);
    h.supervisor.start();
    expect(h.forked.map((w) => w.id)).to.deep.equal([1]);
    h.ready(1);
    expect(h.forked.map((w) => w.id)).to.deep.equal([1, 2, 3]);
    expect(h.announced).to.deep.equal([]);
    h.ready(3);
    expect(h.announced).to.deep.equal([]);
    h.ready(2);
    expect(h.announced).to.deep.equal([{ ...READY, workers: 3 }]);
    h.ready(2);
    expect(h.announced).to.have.length(1);
    expect(h.supervisor.readyWorkers().map((w) => w.id)).to.deep.equal([1, 2, 3]);
  });

  it('a worker that fails to start stops everything with its exit code, without retrying', () => {
    const h = harness(2);
    h.supervisor.start();
    h.ready(1);
    h.exit(2, 1);
    expect(h.forked).to.have.length(2);
    expect(h.forked[0]!.signals).to.deep.equal(['SIGTERM']);
    expect(h.exits).to.deep.equal([]);
    h.exit(1, 0);
    expect(h.exits).to.deep.equal([1]);
  });

  it('a worker exiting with EX_CONFIG (78) stops everything with 78, also after the start', () => {
    const h = harness(2).started();
    h.exit(2, EXIT_CONFIG);
    expect(h.forked[0]!.signals).to.deep.equal(['SIGTERM']);
    h.exit(1, 0);
    expect(h.exits).to.deep.equal([EXIT_CONFIG]);
    expect(h.forked).to.have.length(2);
  });

  it('replaces a worker that dies: the first at once, then after growing delays on the clock', async () => {
    const h = harness(2).started();
    h.exit(1, null, 'SIGKILL');
    expect(h.forked.map((w) => w.id)).to.deep.equal([1, 2, 3]);
    h.ready(3);
    expect(h.supervisor.readyWorkers().map((w) => w.id)).to.deep.equal([2, 3]);
    h.exit(3, 1);
    expect(h.forked).to.have.length(3);
    await h.clock.advance(RESTART_DELAYS_MS[1] - 1);
    expect(h.forked).to.have.length(3);
    await h.clock.advance(1);
    expect(h.forked).to.have.length(4);
    h.exit(4, 1);
    await h.clock.advance(RESTART_DELAYS_MS[2] - 1);
    expect(h.forked).to.have.length(4);
    await h.clock.advance(1);
    expect(h.forked).to.have.length(5);
    expect(h.exits).to.deep.equal([]);
    expect(h.announced).to.have.length(1);
  });

  it('crashes older than the window no longer count: a worker dying now and then is replaced at once', async () => {
    const h = harness(2).started();
    for (let n = 0; n < 10; n++) {
      const id = h.forked.at(-1)!.id;
      h.exit(id, 1);
      expect(h.forked.at(-1)!.id, `crash ${n + 1}`).to.equal(id + 1);
      h.ready(id + 1);
      await h.clock.advance(CRASH_WINDOW_MS);
    }
    expect(h.exits).to.deep.equal([]);
  });

  it('gives up with exit 1 when workers keep dying (more than 2 per worker within the window)', async () => {
    const h = harness(2).started();
    for (let crash = 1; crash <= 4; crash++) {
      h.exit(h.forked.at(-1)!.id, 1);
      await h.clock.advance(RESTART_DELAYS_MS[crash - 1]!);
    }
    expect(h.forked).to.have.length(6);
    expect(h.exits).to.deep.equal([]);
    h.exit(6, 1);
    expect(h.lines).to.include('workers keep dying; giving up');
    expect(h.forked).to.have.length(6);
    // The one still running (worker 1, which never crashed) is asked to drain.
    expect(h.forked[0]!.signals).to.deep.equal(['SIGTERM']);
    h.exit(1, 0);
    expect(h.exits).to.deep.equal([1]);
  });

  it('SIGTERM: forwarded to every worker, no replacement, exit 0 once all have exited', async () => {
    const h = harness(2).started();
    h.exit(1, 1);
    h.exit(3, 1);
    h.supervisor.stop('SIGTERM');
    expect(h.forked.map((w) => w.signals)).to.deep.equal([[], ['SIGTERM'], []]);
    await h.clock.advance(RESTART_DELAYS_MS[1]);
    expect(h.forked).to.have.length(3, 'a pending replacement is cancelled');
    h.supervisor.stop('SIGINT');
    expect(h.forked[1]!.signals).to.deep.equal(['SIGTERM'], 'a repeated signal does not cut the drain short');
    h.exit(2, 0);
    expect(h.exits).to.deep.equal([0]);
  });

  it('SIGINT during the start: the starting worker is signalled and its exit ends the supervisor with 0', () => {
    const h = harness(2);
    h.supervisor.start();
    h.supervisor.stop('SIGINT');
    expect(h.forked[0]!.signals).to.deep.equal(['SIGINT']);
    h.exit(1, null, 'SIGINT');
    expect(h.exits).to.deep.equal([0]);
    h.ready(1);
    expect(h.forked).to.have.length(1);
    expect(h.announced).to.deep.equal([]);
  });

  it('a worker that fails its own drain makes the stop exit 1', () => {
    const h = harness(2).started();
    h.supervisor.stop('SIGTERM');
    h.exit(1, 0);
    h.exit(2, 1);
    expect(h.exits).to.deep.equal([1]);
  });

  it('the stop is bounded: workers still running after the shutdown timeout and a margin are killed, exit 1', async () => {
    const h = harness(2).started();
    h.supervisor.stop('SIGTERM');
    h.exit(1, 0);
    await h.clock.advance(SHUTDOWN_TIMEOUT_MS + STOP_MARGIN_MS - 1);
    expect(h.exits).to.deep.equal([]);
    await h.clock.advance(1);
    expect(h.forked[1]!.signals).to.deep.equal(['SIGTERM', 'SIGKILL']);
    expect(h.exits).to.deep.equal([1]);
    h.exit(2, null, 'SIGKILL');
    expect(h.exits).to.deep.equal([1], 'exits once');
  });
});
