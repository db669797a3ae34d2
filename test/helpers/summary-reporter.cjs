'use strict';
// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed". It also writes
// how long each test file took (its suites, hooks included), slowest first, to
// .data/test-timings.txt and prints the ten slowest: where the suite's minutes go.
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const perFile = new Map();
    const started = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && suite.parent?.root) started.set(suite, process.hrtime.bigint());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const start = started.get(suite);
      if (start === undefined) return;
      started.delete(suite);
      const file = path.relative(process.cwd(), suite.file);
      perFile.set(file, (perFile.get(file) ?? 0) + Number(process.hrtime.bigint() - start) / 1e9);
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0 } = runner.stats ?? {};
      const line = `${passes} passed, ${failures} failed`;
      const slowest = [...perFile].sort((a, b) => b[1] - a[1]);
      const timings = slowest.map(([file, seconds]) => `${seconds.toFixed(1).padStart(7)} s  ${file}`);
      // One file (`npm test -- FILE`) gets its line too: how long that file takes is often the question.
      if (slowest.length === 1) process.stdout.write(`\ntest file time (in .data/test-timings.txt):\n${timings[0]}\n`);
      if (slowest.length > 1) process.stdout.write(`\nslowest test files (all in .data/test-timings.txt):\n${timings.slice(0, 10).join('\n')}\n`);
      process.stdout.write(`\n${line}\n`);
      // .ci/run repeats this as its very last line, after npm's own closing output.
      try {
        fs.mkdirSync('.data', { recursive: true });
        fs.writeFileSync('.data/test-summary.txt', `${line}\n`);
        fs.writeFileSync('.data/test-timings.txt', `${timings.join('\n')}\n`);
      } catch {
        // The summary on stdout is what matters; the files are a convenience for CI.
      }
    });
  }
}

module.exports = SummaryReporter;
