import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { themeStylesheet } from '../../src/interactions/theme.ts';
import { COLOUR_RULES, darkSchemeViolations, launchChromium, seriousViolations } from './browser.ts';

/** Every file under `dir` (recursively) whose name passes `wanted`. */
function files(dir: string, wanted: (name: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => wanted(path));
}

/** The property names declared inside each `@media (prefers-color-scheme: dark) { … }` of `css`. */
function darkSchemeProperties(css: string): string[] {
  const properties: string[] = [];
  for (const match of css.matchAll(/@media\s*\(\s*prefers-color-scheme:\s*dark\s*\)\s*\{/g)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (depth > 0 && end < css.length) {
      if (css[end] === '{') depth += 1;
      if (css[end] === '}') depth -= 1;
      end += 1;
    }
    const block = css.slice(match.index + match[0].length, end - 1).replace(/\/\*[\s\S]*?\*\//g, '');
    for (const rule of block.matchAll(/\{([^{}]*)\}/g)) {
      for (const declaration of rule[1]!.split(';')) {
        const name = declaration.split(':')[0]!.trim();
        if (name !== '') properties.push(name);
      }
    }
  }
  return properties;
}

/**
 * The audits in the dark scheme run only the rules that read colours (browser.ts COLOUR_RULES),
 * on pages audited in full in the light scheme. That holds while the dark scheme changes colours
 * and nothing else: checked here on every stylesheet and page script, and the reduced audit
 * still finds a colour fault that only the dark scheme has.
 */
describe('axe audits in the dark scheme', () => {
  it('the dark scheme sets colours only (and a 1 px line), and no page script reads the scheme', () => {
    const sheets = [...files('src', (name) => name.endsWith('.css')), ...files('views', (name) => name.endsWith('.css'))];
    expect(sheets.length, 'stylesheets found').to.be.at.least(4);
    const colours = /^(--[\w-]+|color|background(-color)?|border(-(top|right|bottom|left))?(-color)?|outline-color|box-shadow)$/;
    const css = [...sheets.map((sheet) => [sheet, readFileSync(sheet, 'utf8')] as const), ['themeStylesheet()', themeStylesheet('#1f5fbf')] as const];
    const others = css.flatMap(([sheet, text]) => darkSchemeProperties(text).filter((name) => !colours.test(name)).map((name) => `${sheet}: ${name}`));
    expect(others).to.deep.equal([]);
    expect(css.flatMap(([, text]) => darkSchemeProperties(text)), 'the dark blocks were read').to.include('--bg');
    // The apps' and hosted pages' scripts, and the templates (an inline <style> would be forbidden by the CSP anyway).
    const scripts = [...files('src', (name) => /\/web\/.*\.ts$/.test(name)), ...files('views', (name) => /\.(ejs|js|html)$/.test(name))];
    expect(scripts.length, 'page scripts and templates found').to.be.at.least(10);
    const readers = scripts.filter((path) => /prefers-color-scheme|matchMedia|colorScheme/.test(readFileSync(path, 'utf8')));
    expect(readers).to.deep.equal([]);
  });

  describe('on a page whose dark scheme fails contrast', () => {
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    before(async () => {
      browser = await launchChromium();
    });
    beforeEach(async () => {
      context = await browser.newContext({ viewport: { width: 640, height: 480 } });
      page = await context.newPage();
      // Light: dark grey on white. Dark: dark grey on near-black (about 1.3:1).
      await page.setContent(
        '<html lang="en"><head><title>Seeded</title><style>:root { --fg: #333; --bg: #fff } @media (prefers-color-scheme: dark) { :root { --bg: #111 } } body { color: var(--fg); background: var(--bg) }</style></head><body><main><h1>Seeded</h1><p>Text that reads in light only.</p><button></button></main></body></html>',
      );
    });
    afterEach(async () => {
      await context.close();
    });
    after(async () => {
      await browser?.close();
    });

    it('the dark audit finds the contrast fault, and only colour rules run in it (the nameless button is the light audit’s)', async () => {
      expect((await seriousViolations(page)).map((violation) => violation.id)).to.deep.equal(['button-name']);
      await page.emulateMedia({ colorScheme: 'dark' });
      const dark = await darkSchemeViolations(page);
      expect(dark.map((violation) => violation.id)).to.deep.equal(['color-contrast']);
      expect(dark.every((violation) => (COLOUR_RULES as readonly string[]).includes(violation.id))).to.equal(true);
      expect((await seriousViolations(page)).map((violation) => violation.id).sort()).to.deep.equal(['button-name', 'color-contrast']);
    });
  });
});
