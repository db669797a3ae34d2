/// <reference lib="dom" />
/**
 * "Back to <app>": an application sends the user here with `?referrer=<client id>&referrer_uri=<URI>`
 * (keycloak-js's `createAccountUrl()`); the server checks both (src/account/referrer.ts) and puts
 * the application's name and URI in the shell. The page's sections are hash routes of one page,
 * so the link stays while the user moves between them; across a sign-in (the hosted pages come
 * back to the page's bare URL with a code) or a "Connect" at an upstream provider it is kept in
 * this tab's sessionStorage, and the URL gets its query back.
 */

const KEY = 'gatehouse.account.referrer';

export interface Referrer {
  readonly name: string;
  readonly uri: string;
  /** The query that named it (`?referrer=…&referrer_uri=…`), put back after a round trip. */
  readonly search: string;
}

/** Whether a URI may be a link on the page: http(s) only (the server checks it too). */
export function isWebUri(value: unknown): value is string {
  try {
    return typeof value === 'string' && ['https:', 'http:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Whether this load is the page coming back from the hosted pages or an upstream provider (not a new visit). */
function returning(): boolean {
  const query = new URLSearchParams(location.search);
  return query.has('code') || query.has('error') || /[?&]upstream=/.test(location.hash);
}

function kept(): Referrer | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Partial<Referrer> | null;
    return typeof value?.name === 'string' && isWebUri(value.uri) && typeof value.search === 'string' ? { name: value.name, uri: value.uri, search: value.search } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The application to go back to: the shell's (this visit's query, checked by the server), kept
 * for the round trips of this visit; else the one kept, when this load comes back from one; else none.
 */
export function referrerFrom(body: HTMLElement): Referrer | undefined {
  const { referrerName: name, referrerUri: uri } = body.dataset;
  if (name !== undefined && isWebUri(uri)) {
    const query = new URLSearchParams(location.search);
    const search = `?${new URLSearchParams([...query].filter(([key]) => key === 'referrer' || key === 'referrer_uri')).toString()}`;
    const referrer = { name, uri, search };
    sessionStorage.setItem(KEY, JSON.stringify(referrer));
    return referrer;
  }
  if (returning()) return kept();
  sessionStorage.removeItem(KEY);
  return undefined;
}

/** After a round trip: the URL shows the query that named the application again (a reload keeps the link). */
export function restoreQuery(referrer: Referrer | undefined): void {
  if (referrer !== undefined && location.search === '') history.replaceState(null, '', `${location.pathname}${referrer.search}${location.hash}`);
}
