import { expect } from 'chai';
import { blankTab } from '../e2e/browser.ts';

/**
 * A tab shown a page that navigates by itself (the account page's silent sign-in) while the test
 * empties it: Playwright reports the emptying "interrupted by another navigation" (round 24's CI
 * failure, test/e2e/upstream-account-links.test.ts). blankTab tries again. A fake tab: the goto's
 * outcomes are the ones given, in order.
 */
function tab(outcomes: Array<'blank' | 'interrupted' | 'other' | Error>) {
  let url = 'http://127.0.0.1:1/account/';
  let gotos = 0;
  return {
    gotos: () => gotos,
    url: () => url,
    async goto(target: string) {
      gotos += 1;
      const outcome = outcomes.shift() ?? 'blank';
      if (outcome instanceof Error) throw outcome;
      if (outcome === 'interrupted') {
        url = 'http://127.0.0.1:1/account/?error=login_required';
        throw new Error(`page.goto: Navigation to "${target}" is interrupted by another navigation to "${url}"`);
      }
      url = outcome === 'blank' ? target : 'http://127.0.0.1:1/account/?error=login_required';
      return null;
    },
  };
}

describe('e2e browser: emptying a tab whose page navigates by itself (blankTab)', () => {
  it('tries again when its navigation was interrupted by the page’s own, and ends on about:blank', async () => {
    const page = tab(['interrupted', 'interrupted', 'blank']);
    await blankTab(page);
    expect([page.gotos(), page.url()]).to.deep.equal([3, 'about:blank']);
  });

  it('tries again when the page navigated away after the goto settled', async () => {
    const page = tab(['other', 'blank']);
    await blankTab(page);
    expect([page.gotos(), page.url()]).to.deep.equal([2, 'about:blank']);
  });

  it('gives up after its attempts, with the navigation’s error', async () => {
    const page = tab(['interrupted', 'interrupted', 'interrupted']);
    const error = await blankTab(page, 3).then(() => undefined, (caught: unknown) => caught);
    expect(String(error)).to.contain('interrupted by another navigation');
    expect(page.gotos()).to.equal(3);
  });

  it('throws any other error at once', async () => {
    const page = tab([new Error('page.goto: Target page, context or browser has been closed')]);
    const error = await blankTab(page).then(() => undefined, (caught: unknown) => caught);
    expect([String(error), page.gotos()]).to.deep.equal(['Error: page.goto: Target page, context or browser has been closed', 1]);
  });
});
