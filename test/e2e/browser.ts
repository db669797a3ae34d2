import { mkdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';
import { PASSWORD } from '../helpers/e2e.ts';
import { waitLimitFor } from '../helpers/poll.ts';

/** Chromium from Debian (.ci/run installs it); playwright-core never downloads a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The features playwright-core (1.65) turns off with its own --disable-features. Chromium reads
 * only the last --disable-features it is given, so ours repeats these
 * (test/e2e/browser-launch.test.ts fails when playwright-core's list has one ours lacks).
 */
export const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
] as const;

/**
 * Chromium 156 gives every window (one per browser context: the e2e files open hundreds) two
 * hidden WebUI documents for its address bar's suggestions (chrome://omnibox-popup.top-chrome),
 * drawn and kept in a renderer of their own although a headless window shows no address bar.
 * Turning them off cut the console's every-page test from 96 to 72 CPU-s (docs/PERFORMANCE.md).
 */
const DISABLED_FEATURES = [...PLAYWRIGHT_DISABLED_FEATURES, 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--disable-features=${DISABLED_FEATURES.join(',')}`,
  // For measuring a flag's cost (docs/PERFORMANCE.md): extra flags, space-separated.
  ...(process.env.GATEHOUSE_E2E_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean),
];

let shared: Promise<Browser> | undefined;
/** True while closeSharedBrowser() shuts the browser down: that disconnect is no crash. */
let closing = false;
/** The file and test running when the shared Chromium last went away by itself. */
let running: { file: string; test: string } | undefined;
const crashes: ChromiumCrash[] = [];
/** The contexts opened since the running test began (its beforeEach hooks included) and not closed yet. */
const openedInTest = new Set<BrowserContext>();
/** Every context opened through launchChromium() and not closed yet. */
const openContexts = new Set<BrowserContext>();

/** How long Playwright waits in the running test (waitLimitFor(): the test's own time, at least Playwright's 30 s). */
let waitLimitMs = waitLimitFor(30_000);

export interface ChromiumCrash {
  /** The test file (relative to the working directory) whose handle was the latest when Chromium went away. */
  readonly file: string;
  /** The test running then, or the hook's place when none was. */
  readonly test: string;
}

/** Every time the shared Chromium went away by itself (a crash) in this run, oldest first. */
export function chromiumCrashes(): readonly ChromiumCrash[] {
  return crashes;
}

/** The test file that called us: the first stack frame in a *.test.ts (scripts have none). */
function callerFile(): string {
  const frame = new Error().stack?.split('\n').find((line) => /\.test\.ts:\d+/.test(line));
  const path = frame === undefined ? undefined : /(?:file:\/\/)?(\/[^\s()]+\.test\.ts)/.exec(frame)?.[1];
  return path === undefined ? 'a script' : relative(process.cwd(), path);
}

function launch(): Promise<Browser> {
  const pending = chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true }).then((browser) => {
    browser.once('disconnected', () => {
      if (shared === pending) shared = undefined;
      if (closing) return;
      const crash = { file: running?.file ?? 'an e2e file', test: running?.test ?? '(outside any test)' };
      crashes.push(crash);
      process.stderr.write(`e2e: Chromium went away during ${crash.file} (${crash.test}); the next browser use starts a new one\n`);
    });
    return browser;
  });
  return pending;
}

/**
 * The shared Chromium, started (again) when there is none or the last one went away: a crash in
 * one file costs that file's open pages, not the next file's browser. A launch that failed is
 * not kept either: the next call tries again.
 */
async function sharedBrowser(): Promise<Browser> {
  for (let attempt = 1; ; attempt += 1) {
    const pending = (shared ??= launch());
    let browser: Browser;
    try {
      browser = await pending;
    } catch (error) {
      if (shared === pending) shared = undefined;
      const crash = crashes.at(-1);
      const after = crash === undefined ? '' : ` after it crashed during ${crash.file} (${crash.test})`;
      throw new Error(`Chromium (${CHROMIUM}) did not start${after}: ${(error as Error).message}`, { cause: error });
    }
    if (browser.isConnected()) return browser;
    if (shared === pending) shared = undefined;
    if (attempt === 2) throw new Error(`Chromium (${CHROMIUM}) went away right after starting, twice`);
  }
}

/**
 * A handle on the one Chromium the e2e files share (its launch and shutdown are seconds on a busy
 * machine). Use it as a browser: newContext() as usual; close() closes the contexts this handle
 * opened, not the browser, so each file still starts from no pages and no cookies. If Chromium
 * crashed (in this file or an earlier one), newContext() starts a new one: the crash fails the
 * tests whose pages it took, and names the file and test on stderr (chromiumCrashes()).
 */
export async function launchChromium(): Promise<Browser> {
  const owner = callerFile();
  // A file takes its handle in a hook, before any test of it has run.
  if (running?.file !== owner) running = { file: owner, test: '(a hook)' };
  let current = await sharedBrowser();
  const opened = new Set<BrowserContext>();
  return new Proxy(current, {
    get(_target, key) {
      if (key === 'newContext') {
        return async (options?: BrowserContextOptions) => {
          current = await sharedBrowser();
          const context = await current.newContext(options);
          context.setDefaultTimeout(waitLimitMs);
          opened.add(context);
          openedInTest.add(context);
          openContexts.add(context);
          context.once('close', () => {
            opened.delete(context);
            openedInTest.delete(context);
            openContexts.delete(context);
          });
          return context;
        };
      }
      // A context of a browser that went away is closed already (its close() would throw).
      if (key === 'close') return async () => void (await Promise.all([...opened].map((context) => context.close().catch(() => undefined))));
      const value: unknown = Reflect.get(current, key, current);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/** Events a test may listen to on its page (the listeners go with the test, as they would with a new tab). */
const TEST_EVENTS = ['request', 'response', 'requestfinished', 'requestfailed', 'console', 'dialog', 'popup', 'download', 'pageerror'] as const;

/**
 * What a test added to a tab that outlives it, taken away for the next test: its listeners (of
 * TEST_EVENTS) and its routes. Cookies and storage stay: a kept signed-in tab keeps them.
 */
export async function withoutTestHooks(page: Page): Promise<void> {
  for (const event of TEST_EVENTS) page.removeAllListeners(event);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
}

/**
 * A browser context and tab as the servers see a new browser: no cookie (no session at any
 * Gatehouse), no storage (the account page and the console keep their tokens in sessionStorage).
 * `previous` (the last one this returned) is closed first.
 *
 * Always a new context, never the previous one's tab emptied: the page it shows may be navigating
 * by itself (the signed-out account page's silent sign-in, prompt=none, starts after an await),
 * and Chromium commits that navigation after the tab was sent to about:blank (or a data: URL), or
 * instead of it: the emptying, or the next test's first page.goto, was "interrupted by another
 * navigation" (round 24's CI failure; tried again, about:blank was interrupted by the attempt
 * before it five times in a row at load 17), or a test began on the old page
 * (test/e2e/fresh-tab.test.ts). Closing a tab is no cure either: Chromium kept a page that
 * navigated as it closed open for minutes. Closing its context ends every navigation of its pages.
 * What reusing the context saved (≈ 0.2 CPU-s of Chromium per fresh browser, docs/PERFORMANCE.md)
 * is not worth a test that fails by timing.
 */
export async function freshTab(browser: Browser, previous: BrowserContext | undefined, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  await previous?.close();
  const context = await browser.newContext(options);
  return { context, page: await context.newPage() };
}

/** Shuts the shared Chromium down (the e2e run's last hook does; a script calls it when done). */
export async function closeSharedBrowser(): Promise<void> {
  const browser = await shared?.catch(() => undefined);
  shared = undefined;
  closing = true;
  try {
    await browser?.close();
  } finally {
    closing = false;
  }
}

/**
 * Closes the contexts a test that did not pass left open: opened since it began and still open at
 * its end (a test that timed out while sideBySide() still ran the other locales, a failed test's
 * pages). They would go on loading the browser and the server through the tests after it. A
 * passing test's contexts stay (a file may keep a page for its next test). Each close is bounded
 * (STEP_LIMIT_MS) and its failure ignored: this never hangs and never throws. Resolves to how
 * many were open.
 */
export async function closeWhatTheTestLeft(passed: boolean): Promise<number> {
  const left = [...openedInTest];
  openedInTest.clear();
  if (passed) return 0;
  await Promise.all(left.map((context) => settledWithin(context.close().catch(() => undefined), STEP_LIMIT_MS)));
  return left.length;
}

// Under mocha (root-level hooks: this module is loaded with the test files): which test runs, for
// the crash notice; what a failed test left open is closed after it (after the files' own
// afterEach hooks, which may screenshot it); the shared browser ends with the run. Scripts call
// closeSharedBrowser().
if (typeof after === 'function') {
  beforeEach(function () {
    openedInTest.clear();
    const test = this.currentTest;
    if (test?.file !== undefined) running = { file: relative(process.cwd(), test.file), test: test.fullTitle() };
    // The contexts a file keeps from test to test wait as long as this test may.
    waitLimitMs = waitLimitFor(test?.timeout() ?? 30_000);
    for (const context of openContexts) context.setDefaultTimeout(waitLimitMs);
  });
  afterEach(async function () {
    // Longer than one bounded close, so the hook itself never times out.
    this.timeout(STEP_LIMIT_MS + 10_000);
    await closeWhatTheTestLeft(this.currentTest?.state === 'passed');
  });
  after(closeSharedBrowser);
}

export const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

/**
 * Whether screenshot() writes its PNG: only when `GATEHOUSE_TEST_SCREENSHOTS=1` (`npm run
 * screenshots` sets it for the e2e files it runs). No test reads the pixels; drawing a full page
 * and encoding it was a fifth of Chromium's CPU in the e2e files. A failed test's page
 * (reportFailedPage) is always written.
 */
export const WRITE_SCREENSHOTS = process.env.GATEHOUSE_TEST_SCREENSHOTS === '1';

/**
 * How long one browser step (a screenshot, two frames, an axe audit) may take before it counts
 * as hung. Generous: such a step takes seconds on a machine at load 30. The limit is not a timing
 * assertion; it turns a page that stopped answering or drawing into a failure within a minute
 * that names the step, instead of a test that waits out its whole timeout in silence.
 */
export const STEP_LIMIT_MS = 60_000;

/** A browser step that did not finish within its limit (see bounded()). */
export class BrowserStepHung extends Error {
  override readonly name = 'BrowserStepHung';
}

/** `work`, or undefined once `ms` passed without it settling. */
async function settledWithin<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a page says about itself once a step on it hung: whether its main thread still runs a
 * script, whether it still draws frames, and how the browser shows it (visibility, focus). Each
 * probe is bounded in turn, so this answers even for a page that answers nothing.
 */
export async function pageCondition(page: Page, limitMs = 5_000): Promise<string> {
  if (page.isClosed()) return 'the page is closed';
  const frameMs = Math.round(limitMs / 2);
  const probe = page.evaluate(
    (ms) =>
      new Promise<{ frame: boolean; visibility: string; focused: boolean; fonts: string; ready: string }>((resolve) => {
        const state = { visibility: document.visibilityState, focused: document.hasFocus(), fonts: document.fonts.status, ready: document.readyState };
        requestAnimationFrame(() => resolve({ ...state, frame: true }));
        setTimeout(() => resolve({ ...state, frame: false }), ms);
      }),
    frameMs,
  );
  const state = await settledWithin(
    probe.catch((error: Error) => error),
    limitMs,
  );
  if (state === undefined) return `its main thread ran no script within ${limitMs / 1000} s (busy or stuck)`;
  if (state instanceof Error) return `it could not be probed: ${state.message.split('\n')[0]}`;
  const frames = state.frame ? 'it still draws frames' : `its main thread answers, but it drew no frame within ${frameMs / 1000} s`;
  return `${frames}; document ${state.visibility}, ${state.focused ? 'focused' : 'not focused'}, ${state.ready}, fonts ${state.fonts}`;
}

/**
 * `work`, one step on `page` (`step` says what it waits for, e.g. "Page.captureScreenshot for
 * console-en-390-users"); if it has not settled after `limitMs`, a BrowserStepHung naming the
 * step, the page's address and its condition (pageCondition()) instead. Without a page (a new
 * context or page on its way), the step alone. The work is not
 * cancelled (a DevTools call cannot be); the page is left to its context's close().
 */
export async function bounded<T>(page: Page | undefined, step: string, work: Promise<T>, limitMs = STEP_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const limit = `not done within ${limitMs / 1000} s`;
      if (page === undefined) return reject(new BrowserStepHung(`${step}: ${limit} (no page yet)`));
      const url = page.url();
      void pageCondition(page, Math.min(5_000, limitMs)).then((condition) => reject(new BrowserStepHung(`${step}: ${limit} on ${url}; ${condition}`)));
    }, limitMs);
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** One DevTools session per page for its screenshots and axe-core's loader (it lasts as long as the page). */
const devtoolsSessions = new WeakMap<Page, Promise<CDPSession>>();

function devtools(page: Page): Promise<CDPSession> {
  let session = devtoolsSessions.get(page);
  if (session === undefined) {
    session = page.context().newCDPSession(page);
    devtoolsSessions.set(page, session);
  }
  return session;
}

/**
 * The whole page (as `page.screenshot({ fullPage: true })` takes it) to
 * test-artifacts/screenshots/NAME.png when screenshots are asked for (WRITE_SCREENSHOTS, or
 * `always` for a failed test's page); otherwise only its web fonts are waited for, the step a
 * screenshot starts with. Taken through the DevTools protocol with Chromium's fast
 * PNG encoding (a larger file, the same pixels) and without Playwright's extra round trips: the
 * browser files take a few hundred screenshots, and the default encoding was a third of the
 * console's every-page test. Each wait is bounded (bounded()): a page that stopped drawing fails
 * with the step it hung at, never waits forever. `drawn`: the caller already waited for the frames
 * its checks need (resizeViewport()) and checks nothing after this that only a frame would bring,
 * so a screenshot not written waits for the fonts alone (the frame it would force is 10-15 ms of
 * Chromium's CPU, a hundred and seventy times in the console's every-page test).
 */
export async function screenshot(page: Page, name: string, limitMs = STEP_LIMIT_MS, { always = false, drawn = false }: { always?: boolean; drawn?: boolean } = {}): Promise<void> {
  // Web fonts drawn (as Playwright waits for them), then the page at its full size.
  await bounded(page, `document.fonts.ready for screenshot ${name}`, page.evaluate(() => document.fonts.ready.then(() => undefined)), limitMs);
  if (!WRITE_SCREENSHOTS && !always && drawn) return;
  if (!WRITE_SCREENSHOTS && !always) {
    // A frame drawn, as a capture would have waited for: what the page's ResizeObservers make of
    // it (the console's scrolling tables become focusable regions) is in the DOM for the checks
    // after. A one-pixel capture, not requestAnimationFrame: a page without JavaScript (a context
    // with javaScriptEnabled: false) runs no callback, and the wait would never end.
    try {
      const cdp = await bounded(page, `a DevTools session for screenshot ${name}`, devtools(page), limitMs);
      await bounded(page, `a drawn frame for screenshot ${name}`, cdp.send('Page.captureScreenshot', { format: 'png', optimizeForSpeed: true, clip: { x: 0, y: 0, width: 1, height: 1, scale: 1 } }), limitMs);
    } catch (error) {
      if (error instanceof BrowserStepHung) throw error;
      devtoolsSessions.delete(page);
    }
    return;
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  try {
    const cdp = await bounded(page, `a DevTools session for screenshot ${name}`, devtools(page), limitMs);
    const { cssContentSize } = await bounded(page, `Page.getLayoutMetrics for screenshot ${name}`, cdp.send('Page.getLayoutMetrics'), limitMs);
    const clip = { x: 0, y: 0, width: Math.ceil(cssContentSize.width), height: Math.ceil(cssContentSize.height), scale: 1 };
    const { data } = await bounded(
      page,
      `Page.captureScreenshot (a frame of the page) for screenshot ${name}`,
      cdp.send('Page.captureScreenshot', { format: 'png', optimizeForSpeed: true, captureBeyondViewport: true, clip }),
      limitMs,
    );
    await writeFile(path, Buffer.from(data, 'base64'));
  } catch (error) {
    if (error instanceof BrowserStepHung) throw error;
    // A session lost with its renderer (a crash, a swapped process): Playwright's own way, once.
    devtoolsSessions.delete(page);
    await page.screenshot({ path, fullPage: true, timeout: limitMs });
  }
}

/**
 * For a test's afterEach: a screenshot of the page it failed on (test-artifacts/screenshots/NAME.png)
 * and its address and text on the log. Never fails and never hangs (a page that hung the test
 * may hang these too): what it cannot get, it says it could not.
 */
export async function reportFailedPage(page: Page | undefined, name: string, chars = 800, limitMs = 10_000): Promise<void> {
  if (page === undefined || page.isClosed()) return;
  // Both at once: on a page that hangs, the report waits out one limit, not two.
  const [shot, text] = await Promise.all([
    screenshot(page, name, limitMs, { always: true }).then(
      () => undefined,
      (error: Error) => `no screenshot ${name}: ${error.message}`,
    ),
    bounded(page, 'the text of <body>', page.locator('body').innerText({ timeout: limitMs }), limitMs).catch((error: Error) => `(no text: ${error.message})`),
  ]);
  if (shot !== undefined) console.log(shot);
  console.log('failed at', page.url(), text.slice(0, chars));
}

/**
 * axe-core's minified build (axe.min.js): the same version and rules as its `source` (axe.js),
 * under half the bytes to send to the page and to parse there.
 */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * What a page is sent once (the first time it is audited): every document of it from then on
 * defines a loader for axe-core, not run until an audit calls it. The browser keeps the script
 * and compiles it once per renderer; before, each audited document was sent the whole source over
 * the DevTools protocol again, which cost the browser process and Node more CPU than the audit
 * itself on the hosted pages (one document per page). A document never audited defines a function
 * and runs nothing of it.
 */
const AXE_LOADER = `globalThis.__gatehouseAxe ??= () => {\n${axeSource}\n};`;
/** The DevTools sessions whose page's documents define the loader (a page's scripts live on its session). */
const axeLoaders = new WeakMap<CDPSession, Promise<unknown>>();

/** axe-core in the page's current document: through the loader its documents define, or sent whole. */
async function loadAxe(page: Page): Promise<void> {
  const loaded = await devtools(page)
    .then(async (cdp) => {
      let registered = axeLoaders.get(cdp);
      if (registered === undefined) {
        // The Page domain on, on this session: a disabled one runs no script in new documents.
        // runImmediately: the current document defines it too.
        registered = cdp.send('Page.enable').then(() => cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: AXE_LOADER, runImmediately: true }));
        axeLoaders.set(cdp, registered);
      }
      await registered;
      return page.evaluate(() => {
        (globalThis as { __gatehouseAxe?: () => void }).__gatehouseAxe?.();
        return 'axe' in globalThis;
      });
    })
    .catch(() => false);
  // No loader in this document (its session lost with a renderer, scripts off): the source itself.
  if (!loaded) await page.evaluate(axeSource);
}

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
export async function axeViolations(
  page: Page,
  { onlySeriousRules = false, rules, limitMs = STEP_LIMIT_MS }: { onlySeriousRules?: boolean; rules?: readonly string[]; limitMs?: number } = {},
): Promise<AxeViolation[]> {
  // Once per document: a single-page app keeps it across its routes.
  if (!(await bounded(page, 'a check for axe-core in the page', page.evaluate(() => 'axe' in globalThis), limitMs))) {
    await bounded(page, 'loading axe-core into the page', loadAxe(page), limitMs);
  }
  const audit = page.evaluate(async ({ serious, only }) => {
    const axe = (
      globalThis as unknown as {
        axe: {
          _audit?: { rules?: Array<{ id: string; impact?: string }> };
          run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }>;
        };
      }
    ).axe;
    const lesser = serious ? (axe._audit?.rules ?? []).filter((rule) => rule.impact === 'moderate' || rule.impact === 'minor') : [];
    const rules = Object.fromEntries(lesser.map((rule) => [rule.id, { enabled: false }]));
    // `only`: just those rules (runOnly runs them even where the lesser ones were turned off, so
    // the impact filter of seriousViolations() still applies to what they find).
    const selection = only === undefined ? { rules } : { runOnly: { type: 'rule', values: only } };
    // No CSS selector per node (only their count is reported): the same findings, less work.
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'], selectors: false, ...selection });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  }, { serious: onlySeriousRules, only: rules === undefined ? undefined : [...rules] });
  return bounded(page, 'the axe-core audit', audit, limitMs);
}

/**
 * Sets the viewport and resolves once the page has drawn two frames at the new size: what its
 * ResizeObservers make of the change (the console's scrolling tables become focusable regions)
 * is in the DOM before anything checks it. It waits for frames, not for a length of time (but
 * not forever: bounded()). At the size it already has, the page is only waited for (two frames).
 */
export async function resizeViewport(page: Page, size: { width: number; height: number }, limitMs = STEP_LIMIT_MS): Promise<void> {
  const at = `${size.width}×${size.height}`;
  const now = page.viewportSize();
  if (now?.width !== size.width || now.height !== size.height) await bounded(page, `setting the viewport to ${at}`, page.setViewportSize(size), limitMs);
  await bounded(page, `two animation frames at ${at}`, page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())))), limitMs);
}

/**
 * Serious and critical violations only (the bar for every hosted page). Every axe rule carries
 * its impact, and a rule's violations always have that impact (axe-core sets it on every check of
 * the rule), so the moderate and minor rules are not run at all: the same findings, about half
 * the time. A rule without an impact (none in axe-core 4.14) would run.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  return (await axeViolations(page, { onlySeriousRules: true })).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * The axe rules whose findings can differ between the light and the dark colour scheme. The dark
 * scheme is, in every stylesheet, one `@media (prefers-color-scheme: dark)` block of colours
 * (colour custom properties, and a 1 px line under the apps' header), and no script of the pages
 * reads the scheme (test/e2e/axe-audits.test.ts checks both): in the dark a page has the light
 * page's DOM, hides and shows the same elements and says the same text; only colours differ. Of
 * axe-core's rules (4.14) these two read colours (and color-contrast-enhanced, AAA, off by
 * default). A page audited in full in the light scheme needs only these in the dark one: the
 * other rules would find there exactly what they found in the light. Each is serious.
 */
export const COLOUR_RULES = ['color-contrast', 'link-in-text-block'] as const;

/**
 * The page in the dark scheme after the same page was audited in the light one: only the rules
 * that read colours (COLOUR_RULES). color-contrast is most of an audit's work; the other rules'
 * part (a third to a half) is not done twice.
 */
export async function darkSchemeViolations(page: Page): Promise<AxeViolation[]> {
  return axeViolations(page, { rules: COLOUR_RULES });
}

/**
 * For page.waitForFunction: the condition checked every 50 ms instead of on every animation frame
 * (its default), which keeps the page, the browser and the GPU process drawing at 60 Hz for as
 * long as it waits: 0.073 CPU-s per second of waiting against 0.005 (docs/PERFORMANCE.md).
 */
export const POLLING = { polling: 50 } as const;

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

/** After each test of the enclosing block: nothing was blocked by a CSP on the page `violations()` watches (watchedPage()). */
export function noCspViolationsAfterEach(violations: () => readonly string[]): void {
  afterEach(() => {
    expect(violations(), 'CSP violations in the browser console').to.deep.equal([]);
  });
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
    if (this.currentTest?.state === 'failed') await reportFailedPage(current, `${screenshotPrefix}-failed-${this.currentTest.title.slice(0, 20).replace(/\W+/g, '-')}`);
  });
  /**
   * With `sessionOf`, the new context starts with that page's cookies (its session at the
   * provider): the console's sign-in goes through without the password form, so no password
   * hash, the one costly step of a sign-in (four at once on a loaded machine kept the dashboard
   * from showing within 30 s).
   */
  return async function operatorPage(issuer: string, options: { width?: number; locale?: string; sessionOf?: Page } = {}): Promise<Page> {
    const storageState = options.sessionOf === undefined ? undefined : await options.sessionOf.context().storageState();
    const context = await browser().newContext({ viewport: { width: options.width ?? 1280, height: 844 }, ...(storageState === undefined ? {} : { storageState }) });
    const page = await context.newPage();
    current = page;
    if (options.locale !== undefined) await page.addInitScript((locale) => localStorage.setItem('gatehouse.console.locale', locale), options.locale);
    await page.goto(`${issuer}/console/`);
    await page.locator('main button').click();
    if (options.sessionOf === undefined) {
      await page.fill('input[name="username"]', 'operator');
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
    }
    // The dashboard's counts read the stores; four locales signing in at once on a loaded machine
    // (FerretDB on SQLite at load 24) took longer than Playwright's default 30 s.
    await page.locator('[data-testid="count-users"]').waitFor({ timeout: STEP_LIMIT_MS });
    return page;
  };
}

/**
 * `run` for each of `names` side by side, each telling (`track`) the page it works on. The first
 * to fail has its page reported (reportFailedPage, screenshot PREFIX-failed-NAME) and ends the
 * others: every tracked page's context closes (one tracked later, as it is tracked), so they stop at
 * their next step instead of loading the browser and the server through the tests after this one. Its error, prefixed with
 * its name, is the one thrown.
 */
export async function sideBySide(names: readonly string[], screenshotPrefix: string, run: (name: string, track: (page: Page) => Page) => Promise<void>): Promise<void> {
  const pages = new Map<string, Page>();
  let first: Error | undefined;
  const close = (page: Page) => settledWithin(page.context().close().catch(() => undefined), STEP_LIMIT_MS);
  // A page tracked after the first failure was handled is closed at once: else its next wait could
  // last forever (the failure's handling closes only the pages tracked by then).
  const track = (name: string) => (page: Page) => {
    pages.set(name, page);
    if (first !== undefined) void close(page);
    return page;
  };
  await Promise.all(
    names.map(async (name) => {
      try {
        await run(name, track(name));
      } catch (error) {
        // The others' errors are the closing of their pages.
        if (first !== undefined) return;
        first = new Error(`${name}: ${(error as Error).message}`, { cause: error });
        await reportFailedPage(pages.get(name), `${screenshotPrefix}-failed-${name}`);
        await Promise.all([...pages.values()].map(close));
      }
    }),
  );
  if (first !== undefined) throw first;
}

/**
 * The next pages `page` opens asked for in `locale` alone, as a browser set to that language asks
 * for them (its only Accept-Language), and without the cookies of the pages before (a language
 * chosen there, a form's session): for a server-drawn page, what a new context with `{ locale }`
 * gets, without the cost of one (about a CPU-second of Chromium's each). Not for the account page
 * or the console, whose scripts read navigator.languages. In a context made without `locale`
 * (Playwright's own Accept-Language for one outranks this).
 */
export async function inLanguage(page: Page, locale: string): Promise<void> {
  await page.context().clearCookies();
  await page.setExtraHTTPHeaders({ 'accept-language': locale });
}

/**
 * `locale` chosen in the console's language picker on `page`; resolves once the page shown is
 * drawn again in it (`drawn`: a selector within the new <main>). The console draws each page in
 * a new <main>, so the old one is marked first: only the new one counts.
 */
export async function chooseConsoleLocale(page: Page, locale: string, drawn: string): Promise<void> {
  await bounded(page, 'marking the page shown', page.evaluate(() => document.querySelector('main')?.setAttribute('data-left', '')));
  await page.selectOption('#console-locale', locale);
  await page.waitForFunction(
    ({ chosen, selector }) => document.documentElement.lang === chosen && document.querySelector(`main:not([data-left]) ${selector}`) !== null,
    { chosen: locale, selector: drawn },
    POLLING,
  );
}

/**
 * A console settings page (`route`, e.g. `settings/security`) in en, ru, zh-CN and ko, on one
 * signed-in operator page whose language picker chooses each locale in turn (the console draws
 * the page again in it): in its language with no string key showing (`keys`), then at 1280 and
 * 390 px (the layout follows the width through CSS alone, so one drawn page serves both) nothing
 * wider than the screen, no serious axe violation, and a screenshot NAME-LOCALE-WIDTH. `drawn` is
 * a field the page shows once it has drawn its settings (it fetches them all, then draws them at
 * once). One page rather than four signed in side by side: the same pages audited, without three
 * more browser contexts, sign-ins and dashboards.
 */
export async function settingsPageInEveryLocale(
  operatorPage: ReturnType<typeof consoleOperator>,
  issuer: string,
  { route, drawn, keys, name }: { route: string; drawn: string; keys: RegExp; name: string },
): Promise<void> {
  const page = await operatorPage(issuer, { width: 1280 });
  await page.goto(`${issuer}/console/#/${route}`);
  await page.locator(drawn).waitFor({ timeout: STEP_LIMIT_MS });
  for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
    try {
      await resizeViewport(page, { width: 1280, height: 844 });
      if (locale !== 'en') await chooseConsoleLocale(page, locale, drawn);
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      expect(await page.locator('main').innerText(), `${locale}: no string key shows`).to.not.match(keys);
      for (const width of [1280, 390]) {
        await resizeViewport(page, { width, height: 844 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${locale} at ${width} px overflows`).to.be.at.most(0);
        expect(await seriousViolations(page), `${locale} at ${width} px`).to.deep.equal([]);
        await screenshot(page, `${name}-${locale}-${width}`);
      }
    } catch (error) {
      throw new Error(`${locale}: ${(error as Error).message}`, { cause: error });
    }
  }
  await page.context().close();
}
