/**
 * A minimal cookie-keeping HTTP user agent for driving the hosted pages without a browser:
 * follows the authorization redirect chain by hand and submits the sign-in and consent forms
 * the way a browser would (the browser tests in test/e2e use real Chromium).
 */
export class UserAgent {
  readonly cookies = new Map<string, string>();

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', this.cookieHeader());
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
}

export interface PageForm {
  readonly action: string;
  readonly fields: Record<string, string>;
}

/** The forms of a page, with their hidden fields. */
export function formsOf(html: string): PageForm[] {
  const forms: PageForm[] = [];
  for (const match of html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const fields: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
      fields[input[1]!] = input[2]!;
    }
    forms.push({ action: match[1]!.replace(/&amp;/g, '&'), fields });
  }
  return forms;
}

/** A page a UserAgent came to: where, its status and its HTML. */
export interface AgentPage {
  readonly url: string;
  readonly status: number;
  readonly html: string;
}

/** Follows 302/303 redirects until a page (any other status) or the app's `callback`, returned as the URL it was reached with. */
export async function followTo(agent: UserAgent, url: string, callback: string): Promise<AgentPage | URL> {
  for (let hop = 0; hop < 20; hop += 1) {
    if (url.startsWith(callback)) return new URL(url);
    const response = await agent.request(url);
    if (response.status === 302 || response.status === 303) {
      url = new URL(response.headers.get('location')!, url).toString();
      continue;
    }
    return { url, status: response.status, html: await response.text() };
  }
  throw new Error('too many redirects');
}

/** Submits the page's form whose action ends with `/action` (its hidden fields and `fields`), then follows what comes (followTo). */
export async function submitForm(agent: UserAgent, page: AgentPage, action: string, fields: Record<string, string>, callback: string): Promise<AgentPage | URL> {
  const form = formsOf(page.html).find((f) => f.action.endsWith(`/${action}`));
  if (form === undefined) throw new Error(`no ${action} form at ${page.url}: ${page.html.replace(/<style[\s\S]*?<\/style>/, '').replace(/\s+/g, ' ').slice(0, 600)}`);
  const response = await agent.postForm(new URL(form.action, page.url).toString(), { ...form.fields, ...fields });
  if (response.status === 303 || response.status === 302) return followTo(agent, new URL(response.headers.get('location')!, page.url).toString(), callback);
  return { url: page.url, status: response.status, html: await response.text() };
}

/** The page followTo() or submitForm() came to; a failure naming the callback when it was the app's callback instead. */
export function asPage(value: AgentPage | URL): AgentPage {
  if (value instanceof URL) throw new Error(`expected a page, got the callback ${value.toString()}`);
  return value;
}

export interface SignInOptions {
  readonly username?: string;
  readonly password?: string;
  /** Approve the consent page when it appears (default true). */
  readonly consent?: boolean;
}

export interface SignInOutcome {
  /** The final redirect back to the client (with code, or with error). */
  readonly callback: URL;
  readonly sawLogin: boolean;
  readonly sawConsent: boolean;
}

/**
 * Starts at an authorization URL and walks the redirects, signing in and consenting as
 * needed, until the provider redirects to the client's redirect_uri.
 */
export async function signIn(agent: UserAgent, authorizationUrl: string, redirectUri: string, options: SignInOptions = {}): Promise<SignInOutcome> {
  let url = authorizationUrl;
  let sawLogin = false;
  let sawConsent = false;
  for (let step = 0; step < 12; step += 1) {
    if (url.startsWith(redirectUri)) return { callback: new URL(url), sawLogin, sawConsent };
    const response = await agent.request(url);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).toString();
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`unexpected ${response.status} at ${url}: ${html.replace(/<style[\s\S]*?<\/style>/, "").replace(/\s+/g, " ").slice(0, 800)}`);
    const forms = formsOf(html);
    const login = forms.find((form) => form.action.endsWith('/login'));
    const confirm = forms.find((form) => form.action.endsWith('/confirm'));
    let submitted: Response;
    if (login !== undefined) {
      if (options.username === undefined) throw new Error('the sign-in page appeared but no credentials were given');
      sawLogin = true;
      submitted = await agent.postForm(new URL(login.action, url).toString(), {
        ...login.fields,
        // The fields as the page (and Keycloak's) names them; browse() below posts the earlier names.
        username: options.username,
        password: options.password ?? '',
        rememberMe: 'on',
      });
    } else if (confirm !== undefined) {
      sawConsent = true;
      const chosen = options.consent === false ? forms.find((form) => form.action.endsWith('/abort'))! : confirm;
      submitted = await agent.postForm(new URL(chosen.action, url).toString(), chosen.fields);
    } else {
      throw new Error(`no sign-in or consent form at ${url}: ${html.slice(0, 300)}`);
    }
    // Anything but a redirect is the form again with its error (400), or an error page.
    if (submitted.status < 300 || submitted.status >= 400) {
      const body = await submitted.text();
      throw new Error(`form submission did not advance: ${body.match(/role="alert"[^>]*>([^<]*)/)?.[1] ?? body.slice(0, 200)}`);
    }
    url = new URL(submitted.headers.get('location')!, url).toString();
  }
  throw new Error('too many redirects');
}

export interface BrowseOptions extends SignInOptions {
  /** Typed into a visible user_code field (device flow). */
  readonly userCode?: string;
}

/**
 * Like signIn, for any hosted flow: follows redirects and submits whatever form the page
 * offers (device code entry and confirmation, sign-in, consent, sign-out confirmation) until
 * the provider redirects to `stopAt` or shows a page without a form (a final page).
 */
export async function browse(agent: UserAgent, startUrl: string, stopAt: string, options: BrowseOptions = {}): Promise<{ url: string; html: string }> {
  let url = startUrl;
  let pending: Response | undefined;
  for (let step = 0; step < 16; step += 1) {
    if (url.startsWith(stopAt)) return { url, html: '' };
    const response = pending ?? (await agent.request(url));
    pending = undefined;
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).toString();
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`unexpected ${response.status} at ${url}: ${html.replace(/<style[\s\S]*?<\/style>/, '').replace(/\s+/g, ' ').slice(0, 600)}`);
    const forms = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    if (forms.length === 0) return { url, html };
    const pick = (test: (body: string, action: string) => boolean) => forms.find((form) => test(form[2]!, form[1]!));
    const chosen =
      pick((body) => /name="user_code"/.test(body) && !/type="hidden"[^>]*name="user_code"/.test(body)) ??
      pick((_body, action) => action.endsWith('/login')) ??
      pick((_body, action) => action.endsWith('/confirm') && options.consent !== false) ??
      pick((body) => /name="(confirm|logout)"/.test(body)) ??
      forms[0]!;
    const fields: Record<string, string> = {};
    let clicked = false;
    for (const input of chosen[2]!.matchAll(/<(?:input|button)[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input[0])?.[1];
      const value = (/value="([^"]*)"/.exec(input[0])?.[1] ?? '').replace(/&amp;/g, '&');
      if (name === undefined) continue;
      if (/type="hidden"/.test(input[0])) fields[name] ??= value;
      // A browser sends only the button that was clicked: the first one, the primary action.
      else if ((/type="submit"/.test(input[0]) || input[0].startsWith('<button')) && !clicked) {
        fields[name] = value;
        clicked = true;
      }
    }
    const action = chosen[1]!.replace(/&amp;/g, '&');
    // Sign-out pages may put their "yes" button outside the form (form="..." attribute).
    if (action.includes('/session/end/confirm') && /name="logout"[^>]*value="yes"|value="yes"[^>]*name="logout"/.test(html)) {
      fields.logout ??= 'yes';
    }
    // The field names of Gatehouse's earlier pages (login, remember), still read for scripted sign-ins; signIn() above posts today's.
    if (action.endsWith('/login')) Object.assign(fields, { login: options.username ?? '', password: options.password ?? '', remember: 'yes' });
    if (/name="user_code"/.test(chosen[2]!) && options.userCode !== undefined && fields.user_code === undefined) fields.user_code = options.userCode;
    const target = new URL(action, url).toString();
    pending = await agent.postForm(target, fields);
    if (pending.status >= 300 && pending.status < 400) {
      url = new URL(pending.headers.get('location')!, target).toString();
      pending = undefined;
    } else {
      url = target;
    }
  }
  throw new Error('too many steps');
}
