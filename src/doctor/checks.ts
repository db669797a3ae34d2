import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { shortened } from '../accounts/shortened.ts';

/** One line of the report: what was checked, whether it passed, and what to do when it did not. */
export interface Check {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skipped';
  readonly detail: string;
}

/** A client that exists only for the check: credentials for a client_credentials JWT for `api`. */
export interface TemporaryClient {
  readonly clientId: string;
  readonly secret: string;
  readonly api: string;
  readonly scope: string;
}

export interface DoctorOptions {
  readonly issuer: string;
  readonly fetch: typeof fetch;
  /** Where readiness is served (the routes table's readyz at the public URL); undefined: `<issuer>/readyz`. */
  readonly readinessUrl?: string | undefined;
  /**
   * Makes the temporary client and removes it again (with its API and tokens). Undefined when
   * the deployment's settings are not at hand: the flow is then reported as skipped, with `why`.
   */
  readonly temporaryClient?: { create(): Promise<TemporaryClient>; remove(): Promise<void> } | { readonly unavailable: string } | undefined;
  readonly timeoutMs?: number;
}

interface Discovery {
  readonly issuer?: unknown;
  readonly jwks_uri?: unknown;
  readonly token_endpoint?: unknown;
  readonly introspection_endpoint?: unknown;
  readonly revocation_endpoint?: unknown;
  readonly [name: string]: unknown;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a request did not get an answer, in words an operator can act on. */
function unreachable(url: string, error: unknown): string {
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return `no answer from ${url} (${cause}): is Gatehouse running there, and is the URL the one clients use?`;
}

function stringField(document: Discovery, name: string): string | undefined {
  const value = document[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Checks a running deployment from the outside, the way an application sees it: discovery, the
 * published keys, readiness, and — with a temporary client — a token, its signature, introspection
 * and revocation. Never throws: every problem is a failed check that says what to do.
 */
export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, status: Check['status'], detail: string) => checks.push({ name, status, detail });
  const timeout = options.timeoutMs ?? 10_000;
  const get = (url: string, init: RequestInit = {}) => options.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeout) });
  const issuer = options.issuer.replace(/\/+$/, '');

  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
    if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') throw new TypeError('not http(s)');
  } catch {
    add('issuer', 'fail', `${options.issuer} is not an http(s) URL: give the issuer URL, e.g. https://sso.example.com`);
    return checks;
  }
  if (issuerUrl.protocol === 'http:' && !LOOPBACK.has(issuerUrl.hostname)) {
    add('issuer', 'warn', `${issuer} is plain HTTP: browsers drop the session cookies' SameSite=None over HTTP and tokens travel unencrypted; serve it over HTTPS (a TLS proxy in front, GATEHOUSE_ISSUER=https://…)`);
  }

  // 1. Discovery: answers JSON, names this very issuer (exact match, as every client library checks).
  const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  let discovery: Discovery;
  try {
    const response = await get(discoveryUrl, { headers: { accept: 'application/json' } });
    if (response.status !== 200) {
      const hint = response.status === 404 ? ': wrong path? With GATEHOUSE_KEYCLOAK_REALM the issuer is <url>/realms/<name>' : response.status >= 300 && response.status < 400 ? `: it redirects to ${response.headers.get('location') ?? '?'} (a proxy rewriting the URL?)` : '';
      add('discovery', 'fail', `${discoveryUrl} answered ${response.status}${hint}`);
      return checks;
    }
    discovery = (await response.json()) as Discovery;
  } catch (error) {
    add('discovery', 'fail', error instanceof SyntaxError ? `${discoveryUrl} did not answer JSON: is something else serving that URL?` : unreachable(discoveryUrl, error));
    return checks;
  }
  if (discovery.issuer !== issuer) {
    add('discovery', 'fail', `discovery names the issuer ${JSON.stringify(discovery.issuer)}, not ${issuer}: clients refuse a mismatch. Set GATEHOUSE_ISSUER to the public URL clients use (behind a TLS proxy: its https:// URL), or point clients at ${String(discovery.issuer)}`);
    return checks;
  }
  add('discovery', 'ok', `${discoveryUrl}: issuer matches`);

  // 2. Keys: public only, at least one, every one with a kid.
  const jwksUri = stringField(discovery, 'jwks_uri');
  let jwks: JSONWebKeySet | undefined;
  if (jwksUri === undefined) add('keys', 'fail', 'discovery has no jwks_uri: APIs cannot verify tokens');
  else {
    try {
      const response = await get(jwksUri, { headers: { accept: 'application/json' } });
      const body = (await response.json()) as { keys?: Array<Record<string, unknown>> };
      const keys = Array.isArray(body.keys) ? body.keys : [];
      if (response.status !== 200 || keys.length === 0) add('keys', 'fail', `${jwksUri} answered ${response.status} with ${keys.length} keys: no key to verify tokens with`);
      else if (keys.some((key) => 'd' in key || 'k' in key)) add('keys', 'fail', `${jwksUri} publishes private or symmetric key material: take it offline and rotate the keys (gatehouse keys rotate)`);
      else if (keys.some((key) => typeof key.kid !== 'string')) add('keys', 'fail', `${jwksUri} has a key without kid: APIs cannot pick the right key`);
      else {
        jwks = body as JSONWebKeySet;
        const algs = [...new Set(keys.map((key) => String(key.alg ?? key.kty)))].join(', ');
        add('keys', 'ok', `${keys.length} public keys at ${jwksUri} (${algs})`);
      }
    } catch (error) {
      add('keys', 'fail', error instanceof SyntaxError ? `${jwksUri} did not answer JSON` : unreachable(jwksUri, error));
    }
  }

  // 3. Readiness: the stores answer.
  const readinessUrl = options.readinessUrl ?? `${issuer}/readyz`;
  try {
    const response = await get(readinessUrl);
    const text = await response.text();
    if (response.status === 200) add('readiness', 'ok', `${readinessUrl}: ${shortened(text, 200)}`);
    else if (response.status === 404) add('readiness', 'warn', `${readinessUrl} answered 404 (probes live at the public URL's path, not under /realms/<name>)`);
    else add('readiness', 'fail', `${readinessUrl} answered ${response.status}: ${shortened(text, 200)} (a store is down: check MONGODB_URI / REDIS_URL from the server)`);
  } catch (error) {
    add('readiness', 'fail', unreachable(readinessUrl, error));
  }

  // 4. A whole token life with a temporary client: issue, verify, introspect, revoke.
  const source = options.temporaryClient;
  if (source === undefined || 'unavailable' in source) {
    add('token flow', 'skipped', source === undefined ? 'no temporary client' : source.unavailable);
    return checks;
  }
  const tokenEndpoint = stringField(discovery, 'token_endpoint');
  const introspection = stringField(discovery, 'introspection_endpoint');
  const revocation = stringField(discovery, 'revocation_endpoint');
  if (tokenEndpoint === undefined) {
    add('token flow', 'fail', 'discovery has no token_endpoint');
    return checks;
  }
  let client: TemporaryClient;
  try {
    client = await source.create();
  } catch (error) {
    add('token flow', 'fail', `could not create the temporary client: ${error instanceof Error ? error.message : String(error)}`);
    return checks;
  }
  try {
    await tokenLife(client, { tokenEndpoint, introspection, revocation, issuer, jwks, post: (url, form) => post(get, client, url, form) }, add);
  } finally {
    try {
      await source.remove();
    } catch (error) {
      add('cleanup', 'warn', `the temporary client ${client.clientId} could not be removed (${error instanceof Error ? error.message : String(error)}): gatehouse clients delete ${client.clientId}`);
    }
  }
  return checks;
}

type Post = (url: string, form: Record<string, string>) => Promise<{ status: number; body: Record<string, unknown> }>;

async function post(get: (url: string, init?: RequestInit) => Promise<Response>, client: TemporaryClient, url: string, form: Record<string, string>) {
  const response = await get(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { error: 'not_json', error_description: shortened(text, 200) };
  }
  return { status: response.status, body };
}

interface Endpoints {
  readonly tokenEndpoint: string;
  readonly introspection: string | undefined;
  readonly revocation: string | undefined;
  readonly issuer: string;
  readonly jwks: JSONWebKeySet | undefined;
  readonly post: Post;
}

async function tokenLife(client: TemporaryClient, at: Endpoints, add: (name: string, status: Check['status'], detail: string) => void): Promise<void> {
  let issued: { status: number; body: Record<string, unknown> };
  try {
    issued = await at.post(at.tokenEndpoint, { grant_type: 'client_credentials', resource: client.api, scope: client.scope });
  } catch (error) {
    add('token', 'fail', unreachable(at.tokenEndpoint, error));
    return;
  }
  const token = issued.body.access_token;
  if (issued.status !== 200 || typeof token !== 'string') {
    const why =
      issued.body.error === 'invalid_client'
        ? ': the server does not know the temporary client this command created — the CLI and the server use different databases (MONGODB_URI) or a different GATEHOUSE_SECRET'
        : '';
    add('token', 'fail', `${at.tokenEndpoint} answered ${issued.status} ${shortened(JSON.stringify(issued.body), 200)}${why}`);
    return;
  }
  add('token', 'ok', `client_credentials token from ${at.tokenEndpoint} (temporary client, removed afterwards)`);

  if (at.jwks !== undefined) {
    try {
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(at.jwks), { issuer: at.issuer, audience: client.api, typ: 'at+jwt' });
      add('signature', 'ok', `the access token verifies with the published keys (kid ${protectedHeader.kid ?? '?'}, ${protectedHeader.alg})`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = code === 'ERR_JWKS_NO_MATCHING_KEY' ? ': it was signed with a key that is not published — instances with different keys, or a proxy caching an old /jwks' : '';
      add('signature', 'fail', `the access token does not verify (${error instanceof Error ? error.message : String(error)})${why}`);
    }
  }

  if (at.introspection === undefined) add('introspection', 'fail', 'discovery has no introspection_endpoint');
  else {
    const active = await at.post(at.introspection, { token }).catch(() => undefined);
    if (active?.status === 200 && active.body.active === true) add('introspection', 'ok', `${at.introspection}: active`);
    else add('introspection', 'fail', `${at.introspection} answered ${active?.status ?? 'nothing'} ${shortened(JSON.stringify(active?.body ?? {}), 200)} for a fresh token`);
  }

  if (at.revocation === undefined) add('revocation', 'fail', 'discovery has no revocation_endpoint');
  else {
    const revoked = await at.post(at.revocation, { token }).catch(() => undefined);
    const after = revoked?.status === 200 && at.introspection !== undefined ? await at.post(at.introspection, { token }).catch(() => undefined) : undefined;
    if (revoked?.status !== 200) add('revocation', 'fail', `${at.revocation} answered ${revoked?.status ?? 'nothing'} ${shortened(JSON.stringify(revoked?.body ?? {}), 200)}`);
    else if (after !== undefined && after.body.active !== false) add('revocation', 'fail', 'the revoked token still introspects as active');
    else add('revocation', 'ok', `${at.revocation}: revoked, then inactive at introspection`);
  }
}

/** Fails when any check failed (warnings and skipped checks do not). */
export function healthy(checks: readonly Check[]): boolean {
  return checks.every((check) => check.status !== 'fail');
}
