import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';
import { PASSWORD } from '../helpers/e2e.ts';

/** Chromium from Debian (.ci/run installs it); playwright-core never downloads a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let shared: Promise<Browser> | undefined;

/**
 * A handle on the one Chromium the e2e files share (its launch and shutdown are seconds on a busy
 * machine). Use it as a browser: newContext() as usual; close() closes the contexts this handle
 * opened, not the browser, so each file still starts from no pages and no cookies. A browser that
 * went away is launched again.
 */
export async function launchChromium(): Promise<Browser> {
  let browser = await (shared ??= chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true }));
  if (!browser.isConnected()) browser = await (shared = chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true }));
  const opened = new Set<BrowserContext>();
  return new Proxy(browser, {
    get(target, key) {
      if (key === 'newContext') {
        return async (options?: BrowserContextOptions) => {
          const context = await target.newContext(options);
          opened.add(context);
          context.once('close', () => opened.delete(context));
          return context;
        };
      }
      if (key === 'close') return async () => void (await Promise.all([...opened].map((context) => context.close())));
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Closes the shared browser: at the end of a mocha run (the hook below), or by a script that used it (scripts/screenshots.ts). */
export async function closeSharedBrowser(): Promise<void> {
  const browser = await shared?.catch(() => undefined);
  shared = undefined;
  await browser?.close();
}

// Under mocha the shared browser ends with the run (a root-level hook); a plain script has no `after` and closes it itself.
if (typeof after === 'function') after(closeSharedBrowser);

export const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const axeSource: string = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/**
 * Runs axe-core in the page. Evaluated through the DevTools protocol, so the page's CSP (which
 * forbids inline and injected scripts) stays in force while the audit runs.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Once per document: a single-page app keeps it across its routes.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
}

/**
 * Sets the viewport and resolves once the page has drawn two frames at the new size: what its
 * ResizeObservers make of the change (the console's scrolling tables become focusable regions)
 * is in the DOM before anything checks it. It waits for frames, not for a length of time.
 */
export async function resizeViewport(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}

/** Serious and critical violations only (the bar for every hosted page). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  return (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Renders the page to a screenshot and expects no serious or critical axe violation on it. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const violations = await seriousViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations)}`).to.deep.equal([]);
}

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** What the browser console reported as blocked by a Content-Security-Policy; expect it empty after each test. */
  readonly cspViolations: string[];
}

/** A new context and page (1024×900 unless told) whose console is watched for CSP violations. */
export async function watchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, ...options });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, cspViolations };
}

export interface VirtualAuthenticator {
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
  /** The authenticator answers by itself (a person touching it) only while presence is on. */
  presence(enabled: boolean): Promise<void>;
}

/**
 * A virtual passkey authenticator in the page (Chrome DevTools Protocol WebAuthn domain):
 * platform (internal), resident keys, user verification, answering by itself at first.
 */
export async function virtualAuthenticator(context: BrowserContext, page: Page): Promise<VirtualAuthenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return {
    cdp,
    authenticatorId,
    presence: async (enabled) => void (await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled })),
  };
}

/**
 * The console operators of the settings tests: each call is a fresh browser context signed in to
 * the console as `operator` (test/helpers/two-instances.ts creates it), on the dashboard. The
 * last page opened is screenshotted when a test fails.
 */
export function consoleOperator(browser: () => Browser, screenshotPrefix: string) {
  let current: Page | undefined;
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && current !== undefined && !current.isClosed()) {
      await screenshot(current, `${screenshotPrefix}-failed-${this.currentTest.title.slice(0, 20).replace(/\W+/g, '-')}`);
    }
  });
  return async function operatorPage(issuer: string, options: { width?: number; locale?: string } = {}): Promise<Page> {
    const context = await browser().newContext({ viewport: { width: options.width ?? 1280, height: 844 } });
    const page = await context.newPage();
    current = page;
    if (options.locale !== undefined) await page.addInitScript((locale) => localStorage.setItem('gatehouse.console.locale', locale), options.locale);
    await page.goto(`${issuer}/console/`);
    await page.locator('main button').click();
    await page.fill('input[name="login"]', 'operator');
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.locator('[data-testid="count-users"]').waitFor();
    return page;
  };
}
