/// <reference lib="dom" />
import { signInCard } from '../../browser-app/web/sign-in-card.ts';
import type { ProfileResponse as Profile } from '../responses.ts';
import { accountApi, ApiError } from './api.ts';
import { beginSignIn, completeSignIn, forget, settingsFrom, signOut, silentAttempted, stored, type AccountSettings } from './auth.ts';
import { problem, type Section } from './common.ts';
import { profilePage } from './profile.ts';
import { referrerFrom, restoreQuery, type Referrer } from './referrer.ts';
import { securityPage } from './security.ts';
import { appsPage, sessionsPage } from './sessions.ts';
import { h, loadStrings, locale, LOCALES, pickLocale, render, t, type Locale } from './ui.ts';

const LANGUAGE = 'gatehouse.account.language';
const SECTIONS = ['profile', 'security', 'sessions', 'apps'] as const;
type SectionName = (typeof SECTIONS)[number];

/** The application that sent the user here, if any (referrer.ts): read once as the page loads. */
let referrer: Referrer | undefined;

const sectionOf = (): SectionName => {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] as SectionName;
  return SECTIONS.includes(name) ? name : 'profile';
};

function languagePicker(settings: AccountSettings): HTMLElement {
  const select = h('select', { id: 'language', name: 'language' }, ...LOCALES.map((code) => h('option', { value: code, selected: code === locale() }, t(`language.${code}`)))) as HTMLSelectElement;
  select.addEventListener('change', () => {
    sessionStorage.setItem(LANGUAGE, select.value);
    void start(settings);
  });
  return h('span', { class: 'language' }, h('label', { for: 'language', class: 'inline-label' }, t('language.label')), select);
}

function shell(settings: AccountSettings, who: string | undefined): HTMLElement {
  const app = document.getElementById('app')!;
  const main = h('main', { id: 'main' });
  const current = sectionOf();
  const header = h(
    'header',
    { class: 'bar' },
    referrer === undefined
      ? h('span', { class: 'brand' }, t('title'))
      : h('span', { class: 'place' }, h('span', { class: 'brand' }, t('title')), h('a', { class: 'back', href: referrer.uri, 'data-testid': 'referrer' }, t('referrer.back', { app: referrer.name }))),
    who === undefined
      ? null
      : h(
          'nav',
          { 'aria-label': t('nav.label') },
          h('ul', {}, ...SECTIONS.map((name) => h('li', {}, h('a', { href: `#/${name}`, 'aria-current': name === current ? 'page' : undefined }, t(`nav.${name}`))))),
        ),
    h(
      'span',
      { class: 'who' },
      languagePicker(settings),
      who === undefined ? null : h('span', { class: 'user', title: who }, who),
      who === undefined ? null : h('button', { type: 'button', class: 'secondary', onclick: () => signOut(settings) }, t('signOut.button')),
    ),
  );
  app.replaceChildren(header, main);
  return main;
}

function signInPage(settings: AccountSettings, failure?: string): void {
  document.title = `${t('title')} · ${settings.brand}`;
  signInCard(shell(settings, undefined), {
    product: settings.brand,
    heading: t('signIn.heading'),
    failure: failure === undefined ? undefined : t('signIn.failed', { error: failure }),
    text: t('signIn.text'),
    button: t('signIn.button'),
    onSignIn: () => void beginSignIn(settings, { locale: locale() }),
  });
}

async function route(settings: AccountSettings, profile: Profile): Promise<void> {
  const main = shell(settings, profile.name ?? profile.username);
  const section: Section = { root: main, api: accountApi(settings), settings, restart: () => {
    // The profile's language now wins over a choice made in the header.
    sessionStorage.removeItem(LANGUAGE);
    void start(settings);
  } };
  const pages: Record<SectionName, (section: Section) => Promise<void>> = { profile: profilePage, security: securityPage, sessions: sessionsPage, apps: appsPage };
  document.title = `${t(`nav.${sectionOf()}`)} · ${t('title')} · ${settings.brand}`;
  // Until the section's API calls answer: say so rather than show nothing (not a heading: a page is drawn once its h1 is there).
  render(main, h('p', { class: 'loading', role: 'status', 'data-testid': 'loading' }, t('loading')));
  try {
    await pages[sectionOf()](section);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && !error.needsSignInAgain) {
      forget();
      return signInPage(settings);
    }
    render(main, h('h1', {}, t('title')), problem(section, error));
  }
}

/**
 * Shows the user's account, or the sign-in page. `silently`: without tokens of its own, the page
 * first asks the provider without showing a page (prompt=none) — a live session signs it in with
 * no click; only a new visit does (never the load that comes back from a sign-in, so no loop).
 */
async function start(settings: AccountSettings, silently = false): Promise<void> {
  let profile: Profile | undefined;
  if (stored() !== undefined) profile = await accountApi(settings).get<Profile>('/profile').catch(() => undefined);
  const chosen = sessionStorage.getItem(LANGUAGE);
  const language: Locale = pickLocale([chosen, profile?.locale, ...navigator.languages]);
  await loadStrings(settings.assets, language);
  if (profile === undefined) {
    forget();
    if (silently) {
      render(shell(settings, undefined), h('p', { class: 'loading', role: 'status', 'data-testid': 'loading' }, t('loading')));
      return beginSignIn(settings, { silent: true, locale: locale() });
    }
    return signInPage(settings);
  }
  window.onhashchange = () => void route(settings, profile);
  await route(settings, profile);
}

async function boot(): Promise<void> {
  const settings = settingsFrom(document.body);
  referrer = referrerFrom(document.body);
  const silent = silentAttempted();
  let returned: boolean;
  try {
    returned = (await completeSignIn(settings)) !== undefined;
  } catch (error) {
    await loadStrings(settings.assets, pickLocale([sessionStorage.getItem(LANGUAGE), ...navigator.languages]));
    // A silent try that found no session (login_required, …) is no failure: the sign-in page, as for any visitor.
    return signInPage(settings, silent ? undefined : error instanceof Error ? error.message : String(error));
  } finally {
    restoreQuery(referrer);
  }
  await start(settings, !returned && !silent);
}

void boot();
