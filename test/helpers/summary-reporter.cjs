'use strict';
// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed". It also writes
// how long each test file took (its suites, hooks included), slowest first, to
// .data/test-timings.txt and prints the ten slowest: where the suite's minutes go. Next to each
// file's seconds, its CPU seconds (test/helpers/cpu-meter.cjs: the mocha process, the processes
// under it such as Chromium, and its services): what the file costs however busy the machine was.
//
// The whole suite runs as two mocha processes side by side (scripts/test): each is one part,
// named by GATEHOUSE_TEST_PART. A part ends with "<part>: N passed, N failed" and writes what
// it found to GATEHOUSE_TEST_PART_FILE (JSON) instead of the closing lines; scripts/test then
// runs this file as a script (`node summary-reporter.cjs --merge PART_FILE...`), which prints
// the failed tests of every part, the slowest files of all and the one closing line, and
// writes .data/test-summary.txt and .data/test-timings.txt as a single run does.
//
// Passing tests that took more than half their time limit (mocha's timeout) are listed in
// .data/test-close-calls.txt, closest first, and counted in a line before the slowest files: on a
// busier machine they are the ones that would fail (a flake in the making), before any does.
const fs = require('node:fs');
const path = require('node:path');

/** "N passed, N failed". */
function summaryLine(passes, failures) {
  return `${passes} passed, ${failures} failed`;
}

/**
 * Per-file seconds, slowest first, as lines of .data/test-timings.txt: "  84.2 s   33.1 CPU-s  FILE"
 * (file-queue.cjs reads them back), without the CPU column where it was not measured.
 */
function timingLines(perFile, perFileCpu = new Map()) {
  return [...perFile]
    .sort((a, b) => b[1] - a[1])
    .map(([file, seconds]) => {
      const cpu = perFileCpu.get(file);
      return `${seconds.toFixed(1).padStart(7)} s  ${cpu === undefined ? '' : `${cpu.toFixed(1).padStart(6)} CPU-s  `}${file}`;
    });
}

/** A passing test that used more than this share of its time limit is a close call. */
const CLOSE_SHARE = 0.5;

/** Whether a passing test that took `ms` of its `limitMs` (0: none) is a close call. */
function isCloseCall(ms, limitMs) {
  return limitMs > 0 && ms > limitMs * CLOSE_SHARE;
}

/**
 * Close calls ({ ms, limitMs, title, file }), closest to their limit first, as lines of
 * .data/test-close-calls.txt: "  41.2 s of  60 s (69 %)  FILE  TITLE".
 */
function closeCallLines(closeCalls) {
  return [...closeCalls]
    .sort((a, b) => b.ms / b.limitMs - a.ms / a.limitMs)
    .map(({ ms, limitMs, title, file }) => {
      const share = Math.round((100 * ms) / limitMs);
      return `${(ms / 1000).toFixed(1).padStart(7)} s of ${String(Math.round(limitMs / 1000)).padStart(3)} s (${share} %)  ${file ?? '?'}  ${title}`;
    });
}

/** The CPU seconds of all files, as the closing lines say it ("" when not measured). */
function cpuTotal(perFileCpu) {
  if (perFileCpu.size === 0) return '';
  return `, ${[...perFileCpu.values()].reduce((sum, cpu) => sum + cpu, 0).toFixed(0)} CPU-s in all`;
}

/** The closing lines of a run (the slowest files, then the summary line) and the two files under .data. */
function finish({ passes, failures, perFile, perFileCpu = new Map(), closeCalls = [] }) {
  const line = summaryLine(passes, failures);
  const timings = timingLines(perFile, perFileCpu);
  const close = closeCallLines(closeCalls);
  if (close.length > 0) process.stdout.write(`\ntests that passed using over half their time limit: ${close.length} (in .data/test-close-calls.txt)\n`);
  // One file (`npm test -- FILE`) gets its line too: how long that file takes is often the question.
  if (timings.length === 1) process.stdout.write(`\ntest file time (in .data/test-timings.txt):\n${timings[0]}\n`);
  if (timings.length > 1) process.stdout.write(`\nslowest test files (all in .data/test-timings.txt${cpuTotal(perFileCpu)}):\n${timings.slice(0, 10).join('\n')}\n`);
  process.stdout.write(`\n${line}\n`);
  // .ci/run repeats this as its very last line, after npm's own closing output.
  try {
    fs.mkdirSync('.data', { recursive: true });
    fs.writeFileSync('.data/test-summary.txt', `${line}\n`);
    fs.writeFileSync('.data/test-timings.txt', `${timings.join('\n')}\n`);
    fs.writeFileSync('.data/test-close-calls.txt', close.map((text) => `${text}\n`).join(''));
  } catch {
    // The summary on stdout is what matters; the files are a convenience for CI.
  }
}

/**
 * Merges the parts' files: failed tests of every part (full title and first line of the error;
 * each part's own output above has the whole report), then the closing lines of one run. A part
 * without its file (its mocha died before the end) counts as one failure. Returns the exit code.
 */
function merge(files) {
  let passes = 0;
  let failures = 0;
  const perFile = new Map();
  const perFileCpu = new Map();
  const failed = [];
  const closeCalls = [];
  for (const file of files) {
    let part;
    try {
      part = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      failures += 1;
      failed.push(`${path.basename(file, '.json')}: the mocha process ended without its summary (see its output above)`);
      continue;
    }
    passes += part.passes;
    failures += part.failures;
    for (const [name, seconds] of part.perFile) perFile.set(name, (perFile.get(name) ?? 0) + seconds);
    for (const [name, cpu] of part.perFileCpu ?? []) perFileCpu.set(name, (perFileCpu.get(name) ?? 0) + cpu);
    closeCalls.push(...(part.closeCalls ?? []));
    for (const test of part.failed) failed.push(`${part.name}: ${test.title}${test.file ? `  (${test.file})` : ''}\n     ${test.error}`);
  }
  if (failed.length > 0) process.stdout.write(`\nfailed tests (their reports are in the output above):\n${failed.map((text, index) => `  ${index + 1}) ${text}`).join('\n')}\n`);
  finish({ passes, failures, perFile, perFileCpu, closeCalls });
  return failures > 0 ? 1 : 0;
}

if (require.main === module) {
  const [flag, ...files] = process.argv.slice(2);
  if (flag !== '--merge' || files.length === 0) {
    process.stderr.write('usage: node test/helpers/summary-reporter.cjs --merge PART_FILE...\n');
    process.exit(2);
  }
  process.exit(merge(files));
}

const Mocha = require('mocha');
const { takeFilesFromQueue } = require('./file-queue.cjs');
const { cpuMeter } = require('./cpu-meter.cjs');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_FAIL, EVENT_TEST_PASS } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    // Files shared with other mocha processes (scripts/test): this one runs those it takes.
    const queue = process.env.GATEHOUSE_TEST_QUEUE;
    let queued;
    if (queue) runner.once(EVENT_RUN_BEGIN, () => (queued = takeFilesFromQueue(runner, queue)));
    const perFile = new Map();
    const perFileCpu = new Map();
    const started = new Map();
    const failed = [];
    const meter = cpuMeter();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && suite.parent?.root) started.set(suite, { at: process.hrtime.bigint(), cpu: meter.read() });
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const start = started.get(suite);
      if (start === undefined) return;
      started.delete(suite);
      const file = path.relative(process.cwd(), suite.file);
      perFile.set(file, (perFile.get(file) ?? 0) + Number(process.hrtime.bigint() - start.at) / 1e9);
      const cpu = meter.read();
      if (cpu !== undefined && start.cpu !== undefined) perFileCpu.set(file, (perFileCpu.get(file) ?? 0) + cpu - start.cpu);
    });
    const closeCalls = [];
    runner.on(EVENT_TEST_PASS, (test) => {
      const limitMs = typeof test.timeout === 'function' ? test.timeout() : 0;
      if (typeof test.duration !== 'number' || !isCloseCall(test.duration, limitMs)) return;
      const file = test.file ?? test.parent?.file;
      closeCalls.push({ ms: test.duration, limitMs, title: test.fullTitle(), file: file ? path.relative(process.cwd(), file) : undefined });
    });
    runner.on(EVENT_TEST_FAIL, (test, error) => {
      const file = test.file ?? test.parent?.file;
      const message = String(error?.message ?? error).split('\n')[0];
      failed.push({ title: test.fullTitle(), file: file ? path.relative(process.cwd(), file) : undefined, error: message });
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0 } = runner.stats ?? {};
      let { failures = 0 } = runner.stats ?? {};
      // Files the queue handed out that no process ran: a failure, said where it shows.
      const problem = queued?.problem();
      if (problem !== undefined) {
        process.stderr.write(`\n${problem}\n`);
        failed.push({ title: 'the shared file queue (test/helpers/file-queue.cjs)', error: problem.split('\n')[0] });
        failures += 1;
      }
      const part = process.env.GATEHOUSE_TEST_PART;
      const partFile = process.env.GATEHOUSE_TEST_PART_FILE;
      if (part === undefined || partFile === undefined) {
        finish({ passes, failures, perFile, perFileCpu, closeCalls });
        return;
      }
      process.stdout.write(`\n${part}: ${summaryLine(passes, failures)}\n`);
      fs.mkdirSync(path.dirname(partFile), { recursive: true });
      fs.writeFileSync(partFile, JSON.stringify({ name: part, passes, failures, failed, perFile: [...perFile], perFileCpu: [...perFileCpu], closeCalls }));
    });
  }
}

module.exports = SummaryReporter;
module.exports.isCloseCall = isCloseCall;
module.exports.closeCallLines = closeCallLines;
