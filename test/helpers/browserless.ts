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
        login: options.username,
        password: options.password ?? '',
        remember: 'yes',
      });
    } else if (confirm !== undefined) {
      sawConsent = true;
      const chosen = options.consent === false ? forms.find((form) => form.action.endsWith('/abort'))! : confirm;
      submitted = await agent.postForm(new URL(chosen.action, url).toString(), chosen.fields);
    } else {
      throw new Error(`no sign-in or consent form at ${url}: ${html.slice(0, 300)}`);
    }
    if (submitted.status === 200) {
      const body = await submitted.text();
      throw new Error(`form submission did not advance: ${body.match(/role="alert">([^<]*)/)?.[1] ?? body.slice(0, 200)}`);
    }
    url = new URL(submitted.headers.get('location')!, url).toString();
  }
  throw new Error('too many redirects');
}
