import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPORTER = fileURLToPath(new URL('../helpers/summary-reporter.cjs', import.meta.url));

interface CloseCall {
  ms: number;
  limitMs: number;
  title: string;
  file?: string;
}
const { isCloseCall, closeCallLines } = createRequire(import.meta.url)(REPORTER) as {
  isCloseCall(ms: number, limitMs: number): boolean;
  closeCallLines(closeCalls: CloseCall[]): string[];
};

describe("the suite's closing lines: tests that passed close to their time limit (test/helpers/summary-reporter.cjs)", () => {
  it('a passing test over half its time limit is a close call; one without a limit never is', () => {
    expect(isCloseCall(30_001, 60_000)).to.equal(true);
    expect(isCloseCall(30_000, 60_000)).to.equal(false);
    expect(isCloseCall(600_000, 0), 'no time limit (timeout 0)').to.equal(false);
  });

  it('lists them closest to their limit first, with the time taken, the limit, the share, the file and the title', () => {
    const lines = closeCallLines([
      { ms: 20_000, limitMs: 30_000, title: 'a signs in', file: 'test/e2e/a.test.ts' },
      { ms: 90_000, limitMs: 120_000, title: 'b every page', file: 'test/e2e/b.test.ts' },
    ]);
    expect(lines).to.deep.equal(['   90.0 s of 120 s (75 %)  test/e2e/b.test.ts  b every page', '   20.0 s of  30 s (67 %)  test/e2e/a.test.ts  a signs in']);
  });

  it("merged from the parts of a side-by-side run (a part file without them too), the closing line stays the last and the same", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-summary-'));
    try {
      const part = (name: string, extra: Record<string, unknown>) => {
        const file = join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify({ name, passes: 3, failures: 0, failed: [], perFile: [[`test/${name}.test.ts`, 2]], perFileCpu: [], ...extra }));
        return file;
      };
      const withOne = part('e2e', { closeCalls: [{ ms: 50_000, limitMs: 60_000, title: 'console every page', file: 'test/e2e/console.test.ts' }] });
      const older = part('beside', {});
      const merged = spawnSync(process.execPath, [REPORTER, '--merge', withOne, older], { cwd: dir, encoding: 'utf8' });
      expect(merged.status, merged.stderr).to.equal(0);
      const lines = merged.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).to.equal('6 passed, 0 failed');
      expect(lines).to.include('tests that passed using over half their time limit: 1 (in .data/test-close-calls.txt)');
      expect(readFileSync(join(dir, '.data', 'test-close-calls.txt'), 'utf8')).to.equal('   50.0 s of  60 s (83 %)  test/e2e/console.test.ts  console every page\n');
      expect(readFileSync(join(dir, '.data', 'test-summary.txt'), 'utf8')).to.equal('6 passed, 0 failed\n');

      // None: no such line, and the list of an earlier run is emptied.
      const none = spawnSync(process.execPath, [REPORTER, '--merge', older], { cwd: dir, encoding: 'utf8' });
      expect(none.status, none.stderr).to.equal(0);
      expect(none.stdout).to.not.include('time limit');
      expect(none.stdout.trimEnd().split('\n').at(-1)).to.equal('3 passed, 0 failed');
      expect(readFileSync(join(dir, '.data', 'test-close-calls.txt'), 'utf8')).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
