import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

interface MochaJson {
  readonly passes: ReadonlyArray<{ readonly title: string }>;
  readonly failures: ReadonlyArray<{ readonly title: string; readonly err: { readonly message?: string } }>;
}

/**
 * A test that times out leaves sideBySide()'s other locales running, their contexts open, loading
 * the browser for the tests after it. test/e2e/browser.ts closes, after each test that did not
 * pass, every context it opened. Shown in a mocha of its own (test/fixtures/browser-left-open.ts),
 * since its first test must time out.
 */
describe('e2e browser: what a timed-out test left open is closed', () => {
  it('one locale hangs, the test times out, and the next test finds all four pages closed', async function () {
    // A second mocha with its own Chromium; on a loaded machine that alone takes a while.
    this.timeout(240_000);
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-left-open-'));
    try {
      const output = join(dir, 'report.json');
      const args = ['node_modules/mocha/bin/mocha.js', '--no-config', '--timeout', '180000', '--exit', '--reporter', 'json', '--reporter-option', `output=${output}`, 'test/fixtures/browser-left-open.ts'];
      // Exits 1: one test failed (the one that times out on purpose).
      await new Promise<void>((resolve) => execFile(process.execPath, args, { env: process.env }, () => resolve()));
      const report = JSON.parse(await readFile(output, 'utf8')) as MochaJson;
      expect(report.failures.map(({ title, err }) => [title, /Timeout of 1ms exceeded/.test(err.message ?? '')])).to.deep.equal([['times out: ko hangs, the other locales wait', true]]);
      expect(report.passes.map(({ title }) => title)).to.deep.equal(['finds every page of the timed-out test closed']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
