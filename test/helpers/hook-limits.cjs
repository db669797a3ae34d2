'use strict';
// A file's set-up and tear-down (its before and after hooks: a Gatehouse started on fresh stores
// and seeded, Chromium launched, a second instance, a build) get SETUP_LIMIT_MS unless they give
// themselves more (this.timeout() in the hook or its describe block). Mocha's default (.mocharc:
// 30 s, what a test gets) is not a limit for that: a Gatehouse start and seed is ≈ 2 CPU-s, which
// took over 30 s at load 45–50 on the shared 2 cores (offline-access's and the console's before
// hooks, qa26/qa27); a hook that hangs still fails, later. Tests, beforeEach and afterEach keep
// the default: a test that starts a server or a browser itself says so with its own this.timeout().
// Loaded by .mocharc's `require`, before any test file: every hook is made through
// Suite#beforeAll / Suite#afterAll (mocha 12), which this wraps.
const { Suite } = require('mocha');

/** ≈ 4× a file's set-up at load 45–50: 2–7 s at load 6–12 (a Gatehouse, seeded; two; Chromium), past 30 s at load 45–50. */
const SETUP_LIMIT_MS = 180_000;

for (const method of ['beforeAll', 'afterAll']) {
  const original = Suite.prototype[method];
  if (original.hookLimits === true) continue;
  const wrapped = function (...args) {
    const hook = original.apply(this, args);
    const limit = hook.timeout();
    // 0: no limit at all (--timeout 0, e.g. under a debugger); more than ours: the author's own.
    if (limit !== 0 && limit < SETUP_LIMIT_MS) hook.timeout(SETUP_LIMIT_MS);
    return hook;
  };
  wrapped.hookLimits = true;
  Suite.prototype[method] = wrapped;
}

module.exports = { SETUP_LIMIT_MS };
