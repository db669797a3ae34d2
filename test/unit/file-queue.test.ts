import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import Mocha from 'mocha';

interface FakeSuite {
  readonly file: string;
  readonly tests: number;
  parent?: unknown;
}
/** What the queue uses of mocha's Runner: its root suite, grepTotal, its events, failures and abort. */
interface FakeRunner extends EventEmitter {
  suite: { suites: FakeSuite[]; tests: unknown[]; bail(): boolean };
  grepTotal(suite: FakeSuite): number;
  failures: number;
  _abort: boolean;
}
const { takeFilesFromQueue, queueOrder } = createRequire(import.meta.url)('../helpers/file-queue.cjs') as {
  takeFilesFromQueue(runner: FakeRunner | Mocha.Runner, dir: string): { problem(): string | undefined };
  queueOrder(files: Iterable<string>): string[];
};

/** A runner whose root suite holds one suite per file (two for `twice`), as mocha's after loading the files. */
function runnerOf(files: string[], twice: string[] = []): FakeRunner {
  const suites: FakeSuite[] = files.flatMap((file) => (twice.includes(file) ? [{ file, tests: 1 }, { file, tests: 2 }] : [{ file, tests: 1 }]));
  const root = { suites, tests: [], bail: () => false };
  for (const suite of suites) suite.parent = root;
  return Object.assign(new EventEmitter(), { suite: root, grepTotal: (suite: FakeSuite) => suite.tests, failures: 0, _abort: false });
}

/**
 * What mocha's Runner#runSuite does with the root suite's list: reads `suites[i++]` until there
 * is none, each suite beginning (its event, as mocha emits it) as it is read.
 */
function* walk(runner: FakeRunner): Generator<FakeSuite> {
  for (let index = 0; ; index += 1) {
    const suite = runner.suite.suites[index];
    if (suite === undefined) return;
    runner.emit(Mocha.Runner.constants.EVENT_SUITE_BEGIN, suite);
    yield suite;
  }
}

/** A root suite as mocha builds it from test files: per file a block with one test that notes its run in `ran`. */
function mochaRootOf(files: string[], ran: string[]): Mocha.Suite {
  // A root suite (mocha's third argument, which its types leave out).
  const root = new (Mocha.Suite as unknown as new (title: string, context: Mocha.Context, isRoot: boolean) => Mocha.Suite)('', new Mocha.Context(), true);
  for (const file of files) {
    const block = Mocha.Suite.create(root, `block of ${file}`);
    block.file = resolve(file);
    block.addTest(
      new Mocha.Test(`a test of ${file}`, async () => {
        // A turn of the event loop, as a real test's I/O: two runners on one queue interleave.
        await new Promise((done) => setImmediate(done));
        ran.push(file);
      }),
    );
  }
  return root;
}

/** Runs a real mocha Runner to its end. */
function runToEnd(runner: Mocha.Runner): Promise<number> {
  return new Promise((done) => runner.run(done));
}

describe('test files as a queue shared by mocha processes (test/helpers/file-queue.cjs)', () => {
  const files = Array.from({ length: 9 }, (_, n) => `test/integration/f${n}.test.ts`);
  let queue: string;
  beforeEach(() => {
    queue = mkdtempSync(join(tmpdir(), 'gatehouse-file-queue-'));
  });
  afterEach(() => {
    rmSync(queue, { recursive: true, force: true });
  });

  it('runs every file exactly once across the processes, however their runs interleave; a file with two blocks stays in one process', () => {
    const one = runnerOf(files, [files[4]!]);
    const two = runnerOf(files, [files[4]!]);
    takeFilesFromQueue(one, queue);
    takeFilesFromQueue(two, queue);
    // The first process is slow: it finishes one suite while the second finishes three.
    const walks = [walk(one), walk(two)];
    const ran: Array<Array<[string, number]>> = [[], []];
    let done = [false, false];
    for (let step = 0; !done.every(Boolean); step += 1) {
      for (const [process, count] of [
        [0, 1],
        [1, 3],
      ] as const) {
        for (let n = 0; n < count && !done[process]; n += 1) {
          const next = walks[process]!.next();
          if (next.done === true) done = done.map((value, index) => value || index === process);
          else ran[process]!.push([next.value.file, next.value.tests]);
        }
      }
      expect(step).to.be.lessThan(100);
    }
    const all = [...ran[0]!, ...ran[1]!].map(([file]) => file);
    expect([...new Set(all)].sort()).to.deep.equal([...files].sort());
    expect(all).to.have.length(files.length + 1);
    const withBoth = ran.find((suites) => suites.some(([file]) => file === files[4]));
    expect(withBoth!.filter(([file]) => file === files[4]).map(([, tests]) => tests)).to.deep.equal([1, 2]);
    expect(ran[1]!.length, 'the faster process ran more').to.be.greaterThan(ran[0]!.length);
  });

  it("runs with the installed mocha's own Runner: two runners on one queue run every test once, and report no problem", async () => {
    const ran: string[][] = [[], []];
    const runners = ran.map((list) => new Mocha.Runner(mochaRootOf(files, list), {}));
    const queues = runners.map((runner) => takeFilesFromQueue(runner, queue));
    const failures = await Promise.all(runners.map(runToEnd));
    expect(failures).to.deep.equal([0, 0]);
    expect([...ran[0]!, ...ran[1]!].sort(), 'each file once across both').to.deep.equal([...files].sort());
    expect(ran.every((list) => list.length > 0), `both runners ran files (${ran.map((list) => list.length).join(' + ')})`).to.equal(true);
    expect(queues.map((one) => one.problem())).to.deep.equal([undefined, undefined]);
  });

  it('says loudly when mocha stops reading the list as it goes (e.g. iterates a copy of it): files would run nowhere', () => {
    const runner = runnerOf(files);
    const taken = takeFilesFromQueue(runner, queue);
    // A mocha that copied the list before running it: only the first file taken, nothing more.
    const copy = [...runner.suite.suites];
    for (const suite of copy) runner.emit(Mocha.Runner.constants.EVENT_SUITE_BEGIN, suite);
    expect(copy).to.have.length(1);
    const problem = taken.problem();
    expect(problem).to.be.a('string').and.include('stopped reading the list after 1 of').and.include(`mocha ${createRequire(import.meta.url)('mocha/package.json').version}`);
  });

  it('says loudly when a file taken from the queue never ran (and not after --bail stopped the run on purpose)', () => {
    const runner = runnerOf(files);
    const taken = takeFilesFromQueue(runner, queue);
    // Read to the end as mocha does, but the second file's block never begins.
    for (let index = 0; runner.suite.suites[index] !== undefined; index += 1) {
      if (index !== 1) runner.emit(Mocha.Runner.constants.EVENT_SUITE_BEGIN, runner.suite.suites[index]);
    }
    expect(taken.problem()).to.be.a('string').and.include(`without running them: ${files[1]}`);
    runner.failures = 1;
    runner.suite.bail = () => true;
    expect(taken.problem(), 'after a failure under --bail').to.equal(undefined);
  });

  it('a process that finds the queue taken runs nothing', () => {
    const first = runnerOf(files);
    const one = takeFilesFromQueue(first, queue);
    expect([...walk(first)]).to.have.length(files.length);
    const late = runnerOf(files);
    const other = takeFilesFromQueue(late, queue);
    expect([...walk(late)]).to.deep.equal([]);
    expect([one.problem(), other.problem()]).to.deep.equal([undefined, undefined]);
  });

  it('starts with a file that has tests to run (mocha runs nothing of a root suite that holds none when it starts)', () => {
    const runner = Object.assign(runnerOf(files), { grepTotal: (suite: FakeSuite) => (suite.file === files[3] ? 1 : 0) });
    takeFilesFromQueue(runner, queue);
    expect(runner.suite.suites.map((suite) => suite.file)).to.deep.equal(files.slice(0, 4));
  });

  it('takes the e2e files first as loaded, then the slowest files of the last run, otherwise integration, contract, then unit files', () => {
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-file-queue-cwd-'));
    try {
      process.chdir(dir);
      const mixed = ['test/e2e/z.test.ts', 'test/unit/a.test.ts', 'test/contracts/b.test.ts', 'test/e2e/y.test.ts', 'test/integration/d.test.ts', 'test/integration/c.test.ts'];
      const e2e = ['test/e2e/z.test.ts', 'test/e2e/y.test.ts'];
      expect(queueOrder(new Set(mixed).values())).to.deep.equal([...e2e, 'test/integration/c.test.ts', 'test/integration/d.test.ts', 'test/contracts/b.test.ts', 'test/unit/a.test.ts']);
      mkdirSync('.data');
      // Lines with and without the CPU seconds (summary-reporter.cjs writes them where it measured them).
      writeFileSync('.data/test-timings.txt', '  140.0 s  test/e2e/y.test.ts\n   12.5 s    10.1 CPU-s  test/unit/a.test.ts\n    3.0 s  test/integration/d.test.ts\n');
      expect(queueOrder(mixed)).to.deep.equal([...e2e, 'test/unit/a.test.ts', 'test/integration/d.test.ts', 'test/integration/c.test.ts', 'test/contracts/b.test.ts']);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
