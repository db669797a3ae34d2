import { formsOf, type PageForm } from '../../test/helpers/browserless.ts';
import { basicAuth, REDIRECT_URI, SIGN_IN_SCOPE, type BenchClient, type BenchUser } from './fixture.ts';
import { BenchAgent, send, type PageAgent } from './http-agent.ts';

export interface TokenResponse {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
}

export function authorizationUrl(base: string, client: BenchClient): string {
  const query = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    scope: SIGN_IN_SCOPE,
    redirect_uri: REDIRECT_URI,
    state: Math.random().toString(36).slice(2),
  });
  return `${base}/auth?${query}`;
}

export async function postToken(base: string, client: BenchClient, form: Record<string, string>): Promise<TokenResponse> {
  const response = await send(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client) },
    body: new URLSearchParams(form).toString(),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`POST ${base}/token (${form.grant_type}) → ${response.status} ${body}`);
  return JSON.parse(body) as TokenResponse;
}

function codeOf(callback: URL): string {
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code in the callback: ${callback.search}`);
  return code;
}

/**
 * One complete sign-in: /auth → sign-in page → POST → (consent skipped: first-party) → code →
 * token; the requests test/helpers/browserless.ts's signIn() makes, on the bench's node:http
 * agent. A server that shows no page (the reference finishes its interactions at once) goes
 * straight to the code.
 */
export async function completeSignIn(base: string, client: BenchClient, user: BenchUser, agent: PageAgent = new BenchAgent()): Promise<TokenResponse> {
  let url = authorizationUrl(base, client);
  let submitted = false;
  for (let step = 0; step < 12; step += 1) {
    if (url.startsWith(REDIRECT_URI)) return postToken(base, client, { grant_type: 'authorization_code', code: codeOf(new URL(url)), redirect_uri: REDIRECT_URI });
    const response = await agent.request(url);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).toString();
      continue;
    }
    const html = await response.text();
    const form = response.status === 200 && !submitted ? formsOf(html).find((candidate) => candidate.action.endsWith('/login')) : undefined;
    if (form === undefined) throw new Error(`no sign-in form at ${url}: ${response.status} ${html.replace(/\s+/g, ' ').slice(0, 300)}`);
    submitted = true;
    const posted = await agent.postForm(new URL(form.action, url).toString(), { ...form.fields, login: user.username, password: user.password, remember: 'yes' });
    // Anything but a redirect is the form again with its error (400), or an error page.
    if (posted.status < 300 || posted.status >= 400) throw new Error(`the sign-in form did not advance: ${posted.status}`);
    url = new URL(posted.headers.get('location')!, url).toString();
  }
  throw new Error('too many redirects');
}

/**
 * Refresh tokens for the rotation scenario, each from its own code exchange. A few agents sign
 * in once; afterwards their session answers /auth with a code at once (no password hash).
 */
export async function mintRefreshTokens(base: string, client: BenchClient, user: BenchUser, count: number, concurrency = 8): Promise<string[]> {
  const tokens: string[] = [];
  const worker = async () => {
    const agent = new BenchAgent();
    await completeSignIn(base, client, user, agent);
    while (tokens.length < count) {
      const response = await agent.request(authorizationUrl(base, client));
      const location = response.headers.get('location');
      if (location === null || !location.startsWith(REDIRECT_URI)) throw new Error(`/auth with a session did not answer with a code: ${response.status} ${location}`);
      const issued = await postToken(base, client, { grant_type: 'authorization_code', code: codeOf(new URL(location)), redirect_uri: REDIRECT_URI });
      if (issued.refresh_token === undefined) throw new Error('no refresh token in the code exchange');
      tokens.push(issued.refresh_token);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tokens.slice(0, count);
}

/** /auth → the sign-in page: what a person sees before typing (not part of "a sign-in" in the command mix). */
export async function openSignInForm(base: string, client: BenchClient, agent: PageAgent): Promise<{ form: PageForm; url: string }> {
  let url = authorizationUrl(base, client);
  let response = await agent.request(url);
  while (response.status >= 300 && response.status < 400) {
    url = new URL(response.headers.get('location')!, url).toString();
    response = await agent.request(url);
  }
  const form = formsOf(await response.text()).find((candidate) => candidate.action.endsWith('/login'));
  if (form === undefined) throw new Error(`no sign-in form at ${url}`);
  return { form, url };
}

/** The sign-in proper: the form POST, the redirects back to the client (consent skipped, first-party) and the code exchange. */
export async function submitSignInForm(base: string, client: BenchClient, user: BenchUser, agent: PageAgent, opened: { form: PageForm; url: string }): Promise<TokenResponse> {
  let at = opened.url;
  let response = await agent.postForm(new URL(opened.form.action, at).toString(), { ...opened.form.fields, login: user.username, password: user.password, remember: 'yes' });
  while (response.status >= 300 && response.status < 400) {
    at = new URL(response.headers.get('location')!, at).toString();
    if (at.startsWith(REDIRECT_URI)) break;
    response = await agent.request(at);
  }
  if (!at.startsWith(REDIRECT_URI)) throw new Error(`the sign-in did not come back to the client: ${response.status} at ${at}`);
  return postToken(base, client, { grant_type: 'authorization_code', code: codeOf(new URL(at)), redirect_uri: REDIRECT_URI });
}
