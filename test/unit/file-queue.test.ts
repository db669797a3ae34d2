import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

interface FakeSuite {
  readonly file: string;
  readonly tests: number;
}
interface FakeRunner {
  suite: { suites: FakeSuite[]; tests: unknown[] };
  grepTotal(suite: FakeSuite): number;
}
const { takeFilesFromQueue, queueOrder } = createRequire(import.meta.url)('../helpers/file-queue.cjs') as {
  takeFilesFromQueue(runner: FakeRunner, dir: string): void;
  queueOrder(files: Iterable<string>): string[];
};

/** A runner whose root suite holds one suite per file (two for `twice`), as mocha's after loading the files. */
function runnerOf(files: string[], twice: string[] = []): FakeRunner {
  const suites = files.flatMap((file) => (twice.includes(file) ? [{ file, tests: 1 }, { file, tests: 2 }] : [{ file, tests: 1 }]));
  return { suite: { suites, tests: [] }, grepTotal: (suite) => suite.tests };
}

/** What mocha's Runner#runSuite does with the root suite's list: reads `suites[i++]` until there is none. */
function* walk(runner: FakeRunner): Generator<FakeSuite> {
  for (let index = 0; ; index += 1) {
    const suite = runner.suite.suites[index];
    if (suite === undefined) return;
    yield suite;
  }
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

  it('a process that finds the queue taken runs nothing', () => {
    const first = runnerOf(files);
    takeFilesFromQueue(first, queue);
    expect([...walk(first)]).to.have.length(files.length);
    const late = runnerOf(files);
    takeFilesFromQueue(late, queue);
    expect([...walk(late)]).to.deep.equal([]);
  });

  it('starts with a file that has tests to run (mocha runs nothing of a root suite that holds none when it starts)', () => {
    const runner = { ...runnerOf(files), grepTotal: (suite: FakeSuite) => (suite.file === files[3] ? 1 : 0) };
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
      writeFileSync('.data/test-timings.txt', '  140.0 s  test/e2e/y.test.ts\n   12.5 s  test/unit/a.test.ts\n    3.0 s  test/integration/d.test.ts\n');
      expect(queueOrder(mixed)).to.deep.equal([...e2e, 'test/unit/a.test.ts', 'test/integration/d.test.ts', 'test/integration/c.test.ts', 'test/contracts/b.test.ts']);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
