import { createRequire } from 'node:module';
import { expect } from 'chai';

// Loaded by .mocharc before any test file, not here: a require() here would install it itself.
const require = createRequire(import.meta.url);
const plugin = require.cache[require.resolve('../helpers/hook-limits.cjs')]?.exports as { SETUP_LIMIT_MS: number } | undefined;
const SETUP_LIMIT_MS = plugin?.SETUP_LIMIT_MS ?? 0;

// .mocharc's `require` (test/helpers/hook-limits.cjs): a file's before and after hooks get the
// set-up limit, tests and the hooks around each test keep mocha's default, an author's own stays.
describe('hook limits: before and after hooks get the set-up limit (test/helpers/hook-limits.cjs)', () => {
  const seen: Record<string, number> = {};
  before(function () {
    seen.before = this.timeout();
  });
  beforeEach(function () {
    seen.beforeEach = this.timeout();
  });
  after(function () {
    // Checked here: an after hook's own limit is only known once it runs.
    expect(this.timeout(), 'after').to.equal(SETUP_LIMIT_MS);
  });

  it('is loaded by .mocharc before the test files', () => {
    expect(plugin, "test/helpers/hook-limits.cjs in .mocharc.json's require").to.not.equal(undefined);
  });

  it('a before hook without a limit of its own gets the set-up limit; beforeEach and the test keep the default', function () {
    expect(SETUP_LIMIT_MS).to.be.greaterThan(30_000);
    expect(seen.before).to.equal(SETUP_LIMIT_MS);
    expect(seen.beforeEach).to.equal(30_000);
    expect(this.timeout()).to.equal(30_000);
  });

  describe('a describe block with a longer limit of its own', function () {
    this.timeout(SETUP_LIMIT_MS * 2);
    let own = 0;
    before(function () {
      own = this.timeout();
    });
    it('keeps it for its hooks', () => {
      expect(own).to.equal(SETUP_LIMIT_MS * 2);
    });
  });
});
