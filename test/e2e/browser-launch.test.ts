import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';

/** The command lines of the Chromium browser processes this mocha started (Linux /proc). */
function chromiumCommandLines(): string[][] {
  const lines: string[][] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const parent = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
      if (Number(parent) !== process.pid) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.includes('--remote-debugging-pipe')) lines.push(args);
    } catch {
      // Gone while we looked.
    }
  }
  return lines;
}

/**
 * The shared Chromium's flags (test/e2e/browser.ts): Chromium reads only the last
 * --disable-features it is given, and playwright-core passes its own list before ours.
 */
describe('e2e browser: the shared Chromium as launched', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
    await (await browser.newContext()).newPage();
  });
  after(async () => {
    await browser?.close();
  });

  it('keeps every feature playwright-core turns off turned off (ours is the --disable-features Chromium reads)', () => {
    const lines = chromiumCommandLines();
    expect(lines, 'a Chromium started by this process').to.not.be.empty;
    for (const args of lines) {
      const lists = args.filter((arg) => arg.startsWith('--disable-features=')).map((arg) => arg.slice('--disable-features='.length).split(','));
      const read = new Set(lists.at(-1));
      const lost = lists.slice(0, -1).flatMap((list) => list.filter((feature) => !read.has(feature)));
      expect(lost, 'in an earlier --disable-features only (add them to PLAYWRIGHT_DISABLED_FEATURES)').to.deep.equal([]);
    }
  });

  it('opens no address-bar WebUI documents with a window (they were drawn for every context)', async () => {
    await (await browser.newContext()).newPage();
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = await cdp.send('Target.getTargets', { filter: [{}] });
    await cdp.detach();
    expect(targetInfos.filter((target) => target.type === 'page')).to.not.be.empty;
    expect(targetInfos.map((target) => target.url).filter((url) => url.startsWith('chrome://'))).to.deep.equal([]);
  });
});
