'use strict';
// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed".
const fs = require('node:fs');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0 } = runner.stats ?? {};
      const line = `${passes} passed, ${failures} failed`;
      process.stdout.write(`\n${line}\n`);
      // .ci/run repeats this as its very last line, after npm's own closing output.
      try {
        fs.mkdirSync('.data', { recursive: true });
        fs.writeFileSync('.data/test-summary.txt', `${line}\n`);
      } catch {
        // The summary on stdout is what matters; the file is a convenience for CI.
      }
    });
  }
}

module.exports = SummaryReporter;
