'use strict';
// Test files as a queue shared by mocha processes (scripts/test): every process loads its files,
// then runs only those it takes from the queue, one at a time, taking the next when it reaches
// the end of what it has. A file is taken by creating its entry in the queue directory
// (GATEHOUSE_TEST_QUEUE; mkdir: exactly one process succeeds), so each file runs exactly once,
// and a process whose files are slow simply takes fewer of them: the processes end within about
// one file of each other, whatever the files cost, with no list of costs to keep up to date.
//
// The e2e files come first, in the order mocha loaded them: only the process that loads them
// (scripts/test: the one with the e2e files' services and Chromium) takes them, and it joins the
// others on the shared files once it is through them. The shared files go heaviest first when
// the last run's .data/test-timings.txt is there (the queue's end is then made of short files);
// otherwise the integration files (processes and stores), then the contract files, then the unit
// files (short).
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const { EVENT_SUITE_BEGIN } = Mocha.Runner.constants;
const MOCHA_VERSION = require('mocha/package.json').version;

/** Seconds each file took in the last run (.data/test-timings.txt), by path. */
function lastTimings() {
  const seconds = new Map();
  let text = '';
  try {
    text = fs.readFileSync('.data/test-timings.txt', 'utf8');
  } catch {
    return seconds;
  }
  for (const line of text.split('\n')) {
    // "  84.2 s  FILE", or with the CPU seconds: "  84.2 s   33.1 CPU-s  FILE" (summary-reporter.cjs).
    const match = /^\s*([0-9.]+) s {2}(?:\s*[0-9.]+ CPU-s {2})?(.+)$/.exec(line);
    if (match) seconds.set(match[2], Number(match[1]));
  }
  return seconds;
}

const KIND_ORDER = ['test/integration/', 'test/contracts/', 'test/unit/'];
const kindOf = (file) => {
  const index = KIND_ORDER.findIndex((prefix) => file.startsWith(prefix));
  return index === -1 ? KIND_ORDER.length : index;
};

const isE2e = (file) => file.startsWith('test/e2e/');

/**
 * The order files are taken in: the e2e files as given, then the others by the last run's time,
 * slowest first, then by kind, then by name.
 */
function queueOrder(files) {
  const all = [...files];
  const timings = lastTimings();
  const shared = all.filter((file) => !isE2e(file));
  shared.sort((a, b) => (timings.get(b) ?? 0) - (timings.get(a) ?? 0) || kindOf(a) - kindOf(b) || a.localeCompare(b));
  return [...all.filter(isE2e), ...shared];
}

/**
 * Makes `runner` run only the files it takes from the queue in `dir`: its root suite's list of
 * suites becomes the taken files' suites, grown by the next file taken whenever mocha reads past
 * its end (Runner#runSuite reads `suite.suites[i++]` as it goes, mocha 12). Call it before the run
 * begins. Mocha has no supported hook for this, so the run checks itself: the returned problem()
 * says, once the run is over, whether mocha stopped reading the list before the queue's end or
 * left a file it took unrun (what a mocha that iterated differently would do: the files left in
 * the queue would run in no process, silently). summary-reporter.cjs counts that as a failure.
 */
function takeFilesFromQueue(runner, dir) {
  const root = runner.suite;
  fs.mkdirSync(dir, { recursive: true });
  const byFile = new Map();
  for (const suite of root.suites) {
    const file = path.relative(process.cwd(), suite.file ?? '');
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file).push(suite);
  }
  if (root.tests.length > 0) throw new Error('file-queue: tests outside any describe block would run in every process');
  const order = queueOrder(byFile.keys());
  let next = 0;
  const takenFiles = [];
  const take = () => {
    while (next < order.length) {
      const file = order[next++];
      try {
        fs.mkdirSync(path.join(dir, file.replace(/[/\\]/g, '__')));
      } catch (error) {
        if (error.code === 'EEXIST') continue;
        throw error;
      }
      takenFiles.push(file);
      return byFile.get(file);
    }
    return undefined;
  };
  const began = new Set();
  runner.on(EVENT_SUITE_BEGIN, (suite) => {
    if (suite.parent === root) began.add(suite);
  });
  const taken = [];
  // The root suite runs only if it holds a test when it starts (runSuite's grepTotal).
  while (taken.reduce((count, suite) => count + runner.grepTotal(suite), 0) === 0) {
    const suites = take();
    if (suites === undefined) break;
    taken.push(...suites);
  }
  root.suites = new Proxy(taken, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) >= target.length) {
        const suites = take();
        if (suites !== undefined) target.push(...suites);
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return {
    /** After the run: what went wrong with the queue in this process (a message), or undefined. */
    problem() {
      // A run stopped on purpose (--bail after a failure, an abort) leaves files behind by design.
      if (runner._abort === true || (runner.failures > 0 && root.bail())) return undefined;
      const unrun = takenFiles.filter((file) => byFile.get(file).some((suite) => runner.grepTotal(suite) > 0 && !began.has(suite)));
      if (next === order.length && unrun.length === 0) return undefined;
      const lines = [
        `file-queue: mocha ${MOCHA_VERSION} did not run the shared queue as test/helpers/file-queue.cjs expects (Runner#runSuite reading the root suite's list with suite.suites[i++] as it goes, checked on mocha 12).`,
      ];
      if (next < order.length) lines.push(`  It stopped reading the list after ${next} of the queue's ${order.length} files: the other ${order.length - next} file(s) were never offered to this process (another process may have taken some; any still in the queue ran in no process).`);
      if (unrun.length > 0) lines.push(`  It took ${unrun.length} file(s) from the queue without running them: ${unrun.slice(0, 5).join(', ')}${unrun.length > 5 ? ', …' : ''}.`);
      lines.push('  Run the suite as one process (GATEHOUSE_TEST_SIDE_BY_SIDE=0 npm test) until file-queue.cjs is adapted to this mocha; test/unit/file-queue.test.ts drives a real Runner.');
      return lines.join('\n');
    },
  };
}

module.exports = { takeFilesFromQueue, queueOrder };
