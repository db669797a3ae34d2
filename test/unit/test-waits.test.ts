import { expect } from 'chai';
import { eventually, testDeadline, waitLimitFor, within } from '../helpers/poll.ts';

describe('the tests\' own waits end with the test, not after it (test/helpers/poll.ts, test/e2e/browser.ts)', () => {
  it('within() gives up before the running test\'s timeout, and says so, though its own limit is longer', async function () {
    this.timeout(3_000);
    const failure = await within(60_000, async () => false).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).to.match(/^not within \d+ ms, when the test's own 3000 ms ran out \(of 60000 ms allowed for the wait\)$/);
  });

  it('within() answers as soon as its check holds, and fails at its own limit when that comes first', async () => {
    let calls = 0;
    await within(60_000, async () => (calls += 1) === 3);
    expect(calls).to.equal(3);
    expect(await within(0, async () => false).catch((error: Error) => error.message)).to.equal('not within 0 ms');
  });

  it('eventually() returns the last answer before the running test\'s timeout, for the test to judge, and the accepted one at once', async function () {
    this.timeout(3_000);
    let calls = 0;
    expect(await eventually(async () => (calls += 1), () => false)).to.equal(calls);
    // It kept asking until then (not "more than once": a machine that stalls this process for the
    // second before the first answer leaves room for one ask only).
    expect(Date.now(), 'it kept asking until the test\'s deadline').to.be.at.least(testDeadline());
    const refused = async (): Promise<unknown> => {
      throw new Error('refused');
    };
    expect(await eventually(refused, (value) => value instanceof Error)).to.be.instanceOf(Error);
  });

  it('Playwright waits as long as a test given more than 30 s may (all but its last 5 s), and its own 30 s otherwise', () => {
    expect(waitLimitFor(180_000)).to.equal(175_000);
    expect(waitLimitFor(30_000)).to.equal(30_000);
    expect(waitLimitFor(10_000)).to.equal(30_000);
    expect(waitLimitFor(0), 'no timeout: no limit').to.equal(0);
  });
});
