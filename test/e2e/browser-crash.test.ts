import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { chromiumCrashes, launchChromium } from './browser.ts';

/** Crashes the browser process itself (DevTools protocol Browser.crash), as a real crash would end it. */
async function crash(browser: Browser): Promise<void> {
  const gone = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()));
  const cdp = await browser.newBrowserCDPSession();
  // The reply never comes: the process is gone before it could answer.
  await cdp.send('Browser.crash').catch(() => undefined);
  await gone;
}

async function pageWorks(browser: Browser): Promise<void> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.setContent('<p id="p">still here</p>');
  expect(await page.textContent('#p')).to.equal('still here');
  await context.close();
}

/**
 * The e2e files share one Chromium (test/e2e/browser.ts). When it crashes in one file, that
 * file's open pages are lost, but the next file (here: the next handle, as the next file's
 * before hook takes it) gets a working browser, and the crash is reported with the file and test
 * it happened in.
 */
describe('the shared Chromium after a crash', function () {
  this.timeout(60_000);
  let crashing: Browser;
  let next: Browser;

  before(async () => {
    crashing = await launchChromium();
  });
  after(async () => {
    await crashing?.close();
    await next?.close();
  });

  it('loses the crashed pages, names the file and test, and gives the next file a working browser', async () => {
    const context = await crashing.newContext();
    const page = await context.newPage();
    await page.setContent('<p>before the crash</p>');
    const before = chromiumCrashes().length;
    await crash(crashing);

    const error = await page.evaluate(() => 1).then(
      () => undefined,
      (thrown: Error) => thrown,
    );
    expect(error?.message, 'a page of the crashed browser').to.match(/closed/);
    expect(chromiumCrashes().slice(before)).to.deep.equal([
      { file: 'test/e2e/browser-crash.test.ts', test: 'the shared Chromium after a crash loses the crashed pages, names the file and test, and gives the next file a working browser' },
    ]);

    next = await launchChromium();
    await pageWorks(next);
    // A handle taken before the crash starts the new browser as well (a later test of the same file).
    await pageWorks(crashing);
  });

  it('a handle closes cleanly after its browser crashed (a context it opened was lost with it)', async () => {
    const handle = await launchChromium();
    await handle.newContext();
    await crash(handle);
    await handle.close();
    await pageWorks(await launchChromium());
  });
});
