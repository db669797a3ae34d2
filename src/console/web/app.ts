/// <reference lib="dom" />
import { signInCard } from '../../browser-app/web/sign-in-card.ts';
import { adminApi, ApiError, type AdminApi } from './api.ts';
import { auditPage } from './audit.ts';
import { apiListPage, apiPage } from './apis.ts';
import { beginSignIn, completeSignIn, settingsFrom, signOut, stored, whoAmI, type ConsoleSettings } from './auth.ts';
import { claimScopeListPage, claimScopePage } from './claim-scopes.ts';
import { clientListPage, clientPage } from './clients.ts';
import { dashboardPage } from './dashboard.ts';
import { watchIdle } from './idle.ts';
import { keysPage } from './keys.ts';
import { labelsPage } from './labels.ts';
import { lockoutsPage } from './lockouts.ts';
import { settingsPage } from './settings.ts';
import { securitySettingsPage } from './security-settings.ts';
import { signInSettingsPage } from './sign-in-settings.ts';
import { upstreamListPage, upstreamPage } from './upstream.ts';
import { chooseLocale, currentLocale, h, loadStrings, LOCALES, preferredLocale, render, t, wholeProblem, type Locale } from './ui.ts';
import { userListPage, userPage } from './users.ts';

type Page = (main: HTMLElement, api: AdminApi, id: string) => Promise<void>;

/** The console's pages by hash route; the first group of a pattern is the item's id. */
const PAGES: ReadonlyArray<readonly [RegExp, Page, string]> = [
  [/^\/?$/, (main, api) => dashboardPage(main, api), 'dashboard'],
  [/^\/users$/, (main, api) => userListPage(main, api), 'users'],
  [/^\/users\/(.+)$/, (main, api, id) => userPage(main, api, id), 'users'],
  [/^\/clients$/, (main, api) => clientListPage(main, api), 'clients'],
  [/^\/clients\/(.+)$/, (main, api, id) => clientPage(main, api, id), 'clients'],
  [/^\/apis$/, (main, api) => apiListPage(main, api), 'apis'],
  [/^\/apis\/(.+)$/, (main, api, id) => apiPage(main, api, id), 'apis'],
  [/^\/claim-scopes$/, (main, api) => claimScopeListPage(main, api), 'claim-scopes'],
  [/^\/claim-scopes\/(.+)$/, (main, api, id) => claimScopePage(main, api, id), 'claim-scopes'],
  [/^\/upstream$/, (main, api) => upstreamListPage(main, api), 'upstream'],
  [/^\/upstream\/(.+)$/, (main, api, id) => upstreamPage(main, api, id), 'upstream'],
  [/^\/roles$/, (main, api) => labelsPage(main, api), 'roles'],
  [/^\/lockouts$/, (main, api) => lockoutsPage(main, api), 'lockouts'],
  [/^\/keys$/, (main, api) => keysPage(main, api), 'keys'],
  [/^\/audit$/, (main, api) => auditPage(main, api), 'audit'],
  [/^\/settings$/, (main, api) => settingsPage(main, api), 'settings'],
  [/^\/settings\/sign-in$/, (main, api) => signInSettingsPage(main, api), 'settings'],
  [/^\/settings\/security$/, (main, api) => securitySettingsPage(main, api), 'settings'],
];
const SECTIONS = ['dashboard', 'users', 'clients', 'apis', 'claim-scopes', 'upstream', 'roles', 'lockouts', 'keys', 'audit', 'settings'] as const;
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский', 'zh-CN': '简体中文', ko: '한국어' };

function localePicker(settings: ConsoleSettings): HTMLElement {
  const select = h('select', { id: 'console-locale', class: 'locale' }, ...LOCALES.map((locale) => h('option', { value: locale, selected: locale === currentLocale(), lang: locale }, LANGUAGE_NAMES[locale]))) as HTMLSelectElement;
  select.addEventListener('change', () => {
    chooseLocale(select.value as Locale);
    void loadStrings(settings.assets, select.value as Locale).then(() => {
      document.title = t('title');
      return stored() === undefined ? signInPage(settings) : route(settings);
    });
  });
  return h('div', { class: 'locale-picker' }, h('label', { for: 'console-locale', class: 'visually-hidden' }, t('locale.label')), select);
}

/**
 * The sections: one row of links at desktop width; on a phone (console.css) a menu button that
 * shows and hides them as a list (eleven names wrapped to three or four rows of the header there).
 * A disclosure (aria-expanded, aria-controls): Enter or Space opens it, Escape closes it and goes
 * back to the button; choosing a section draws a new header, closed.
 */
function sections(link: (name: string) => HTMLElement): HTMLElement {
  const list = h('ul', { id: 'console-sections' }, ...SECTIONS.map(link));
  const toggle = h('button', { type: 'button', class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'console-sections' }, t('nav.menu'));
  const open = (opened: boolean) => toggle.setAttribute('aria-expanded', String(opened));
  toggle.addEventListener('click', () => open(toggle.getAttribute('aria-expanded') !== 'true'));
  // The current section chosen again changes no route: the list closes all the same.
  list.addEventListener('click', (event) => {
    if ((event.target as Element).closest('a') !== null) open(false);
  });
  const nav = h('nav', { 'aria-label': t('nav.label') }, toggle, list);
  nav.addEventListener('keydown', (event) => {
    if ((event as KeyboardEvent).key !== 'Escape' || toggle.getAttribute('aria-expanded') !== 'true') return;
    open(false);
    toggle.focus();
  });
  return nav;
}

function shell(settings: ConsoleSettings, signedIn: boolean, section?: string): HTMLElement {
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const main = h('main', { id: 'main' });
  const link = (name: string) => h('li', {}, h('a', { href: name === 'dashboard' ? '#/' : `#/${name}`, 'aria-current': name === section ? 'page' : undefined }, t(`nav.${name}`)));
  const header = h(
    'header',
    { class: 'bar' },
    // Not a #main link: the hash is the console's route.
    h('a', { href: '#main', class: 'skip', onclick: (event: Event) => {
      event.preventDefault();
      main.querySelector<HTMLElement>('h1')?.focus();
    } }, t('skip')),
    h('span', { class: 'brand' }, t('title')),
    signedIn ? sections(link) : null,
    h('div', { class: 'bar-end' }, localePicker(settings), signedIn ? h('button', { type: 'button', class: 'secondary', onclick: () => signOut(settings) }, t('signOut.button')) : null),
  );
  app.append(header, main);
  return main;
}

/** Signed out: the account page's card (browser-app/web/sign-in-card.ts); its heading names the console. */
function signInPage(settings: ConsoleSettings, problem?: string): void {
  signInCard(shell(settings, false), {
    heading: t('signIn.heading'),
    failure: problem === undefined ? undefined : problem === 'idle' ? t('signIn.idle') : t('signIn.failed', { error: problem }),
    text: t('signIn.text'),
    button: t('signIn.button'),
    onSignIn: () => void beginSignIn(settings),
  });
}

function noAccessPage(settings: ConsoleSettings): void {
  const main = shell(settings, true);
  render(main, h('h1', {}, t('noAccess.heading')), h('p', { 'data-testid': 'no-access' }, t('noAccess.text', { user: whoAmI() })));
}

async function route(settings: ConsoleSettings): Promise<void> {
  if (stored() === undefined) return signInPage(settings);
  const api = adminApi(settings);
  const [path = ''] = location.hash.replace(/^#/, '').split('?');
  const found = PAGES.map(([pattern, page, section]) => [pattern.exec(path), page, section] as const).find(([match]) => match !== null);
  const main = shell(settings, true, found?.[2]);
  // Until the page's API calls answer (seconds on a busy server): say so rather than show nothing.
  // Not a heading: a page is drawn once its own h1 is there.
  render(main, h('p', { class: 'loading', role: 'status', 'data-testid': 'loading' }, t('loading')));
  try {
    if (found === undefined) render(main, h('h1', {}, t('notFound.heading')), h('p', {}, h('a', { href: '#/' }, t('nav.dashboard'))));
    else await found[1](main, api, decodeURIComponent(found[0]![1] ?? ''));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return noAccessPage(settings);
    if (error instanceof ApiError && error.status === 401) return signInPage(settings);
    render(main, h('h1', {}, t('title')), h('div', { class: 'alert', role: 'alert' }, error instanceof ApiError && error.status === 503 && error.problem === undefined ? t('error.unavailable') : wholeProblem(error)));
  }
}

async function start(): Promise<void> {
  const settings = settingsFrom(document.body);
  await loadStrings(settings.assets, preferredLocale());
  document.title = t('title');
  try {
    await completeSignIn(settings);
  } catch (error) {
    return signInPage(settings, error instanceof Error ? error.message : String(error));
  }
  if (stored() === undefined) return signInPage(settings);
  watchIdle(settings, () => signInPage(settings, 'idle'));
  window.addEventListener('hashchange', () => void route(settings));
  await route(settings);
}

void start();
