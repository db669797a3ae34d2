import { importJWK } from 'jose';
import type * as OpenidClient from 'openid-client';
import type { UpstreamCredentials, UpstreamProvider } from './directory.ts';
import { githubEmailsUrl, primaryVerifiedEmail } from './github-emails.ts';
import { claimAt, isLoopback } from './spec.ts';

/**
 * The upstream leg, as a relying party, with openid-client: discovery, PKCE, state and nonce,
 * ID-token validation (signature, issuer, audience, nonce, expiry) and the RFC 9207 `iss`
 * check of the authorization response. Nothing here logs a code, token or secret.
 */

/**
 * openid-client (with oauth4webapi) loads at the first upstream sign-in, not at the start: an
 * instance that only answers tokens never loads it (docs/PERFORMANCE.md, perf24).
 */
let library: Promise<typeof OpenidClient> | undefined;
const openidClient = (): Promise<typeof OpenidClient> => (library ??= import('openid-client'));

/** What the browser carries between the redirect and the callback (sealed in a cookie). */
export interface UpstreamTransaction {
  readonly alias: string;
  /** The Gatehouse interaction the upstream leg belongs to. */
  readonly uid: string;
  readonly state: string;
  readonly nonce: string | undefined;
  readonly verifier: string;
  /** When the leg began (ms); the callback refuses old ones. */
  readonly at: number;
  /** The account page's "Connect": link the identity to this signed-in user instead of signing in. */
  readonly link?: { readonly userId: string };
}

export interface UpstreamIdentity {
  /** The upstream's stable id for the user (the mapped subject claim, as a string). */
  readonly subject: string;
  /** ID-token claims and userinfo, merged (userinfo wins). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The upstream's `amr`, where it sent one. */
  readonly amr: readonly string[];
  /** For the upstream logout hint; never logged. */
  readonly idToken: string | undefined;
}

/** The upstream refused or failed; `reason` is for the audit trail and the page, never a secret. */
export class UpstreamError extends Error {
  readonly reason: 'denied' | 'failed' | 'unreachable';
  readonly upstreamCode: string | undefined;
  constructor(reason: UpstreamError['reason'], message: string, upstreamCode?: string) {
    super(message);
    this.name = 'UpstreamError';
    this.reason = reason;
    this.upstreamCode = upstreamCode;
  }
}

export interface UpstreamProtocolDeps {
  readonly credentials: (alias: string) => Promise<UpstreamCredentials>;
  /** How long a discovery document is reused (ms). */
  readonly discoveryTtlMs?: number;
  readonly now?: () => number;
  /** Seconds an upstream request may take. */
  readonly timeoutSeconds?: number;
}

export interface UpstreamProtocol {
  /** The authorization URL at the upstream and the transaction the callback needs. */
  begin(provider: UpstreamProvider, uid: string, redirectUri: string, extra?: Record<string, string>): Promise<{ url: URL; transaction: UpstreamTransaction }>;
  /** Redeems the callback: checks state, `iss`, PKCE and the ID token; reads userinfo. */
  finish(provider: UpstreamProvider, callbackUrl: URL, transaction: UpstreamTransaction, redirectUri: string): Promise<UpstreamIdentity>;
  /** The upstream's end-session URL (OIDC RP-initiated logout), when it has one. */
  endSessionUrl(provider: UpstreamProvider, params: Record<string, string>): Promise<URL | undefined>;
}

function defaultAlg(jwk: Record<string, unknown>): string {
  if (typeof jwk.alg === 'string') return jwk.alg;
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  return 'RS256';
}

async function clientAuth(provider: UpstreamProvider, credentials: UpstreamCredentials): Promise<OpenidClient.ClientAuth> {
  const oidc = await openidClient();
  switch (provider.token_endpoint_auth_method) {
    case 'none':
      return oidc.None();
    case 'private_key_jwt': {
      const jwk = credentials.privateKeyJwk;
      if (jwk === undefined) throw new UpstreamError('failed', `upstream ${provider.alias}: private_key_jwt without a private key`);
      const key = (await importJWK(jwk, defaultAlg(jwk))) as CryptoKey;
      return oidc.PrivateKeyJwt({ key, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}) });
    }
    case 'client_secret_post':
      return oidc.ClientSecretPost(credentials.clientSecret);
    default:
      return oidc.ClientSecretBasic(credentials.clientSecret);
  }
}

function insecureAllowed(...urls: Array<string | null>): boolean {
  return urls.some((value) => value !== null && new URL(value).protocol === 'http:' && isLoopback(new URL(value).hostname));
}

function reasonOf(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const e = error as { code?: string; error?: string; cause?: unknown; name?: string; message?: string };
  // A refused connection, a DNS failure, a timeout: the upstream is down or unreachable.
  if (e.name === 'TypeError' || e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'OAUTH_TIMEOUT') {
    return new UpstreamError('unreachable', `upstream unreachable (${e.name ?? 'error'})`);
  }
  if (typeof e.error === 'string') return new UpstreamError('failed', `upstream answered ${e.error}`, e.error);
  return new UpstreamError('failed', `upstream response rejected (${e.code ?? e.name ?? 'error'}: ${e.message ?? ''})`);
}

export function createUpstreamProtocol(deps: UpstreamProtocolDeps): UpstreamProtocol {
  const ttl = deps.discoveryTtlMs ?? 10 * 60_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { config: OpenidClient.Configuration; until: number }>();

  async function configuration(provider: UpstreamProvider): Promise<OpenidClient.Configuration> {
    const oidc = await openidClient();
    const key = `${provider.alias} ${provider.updated_at.getTime()}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.until > now()) return hit.config;
    const auth = await clientAuth(provider, await deps.credentials(provider.alias));
    const insecure = insecureAllowed(provider.issuer, provider.authorization_endpoint, provider.token_endpoint);
    const options = { timeout: deps.timeoutSeconds ?? 10, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) };
    let config: OpenidClient.Configuration;
    try {
      if (provider.kind === 'oidc') {
        config = await oidc.discovery(new URL(provider.issuer!), provider.client_id, {}, auth, options);
      } else {
        const metadata: OpenidClient.ServerMetadata = {
          // Providers without OIDC rarely name an issuer; its authorization server's origin stands in.
          issuer: provider.issuer ?? new URL(provider.authorization_endpoint!).origin,
          authorization_endpoint: provider.authorization_endpoint!,
          token_endpoint: provider.token_endpoint!,
          ...(provider.userinfo_endpoint === null ? {} : { userinfo_endpoint: provider.userinfo_endpoint }),
        };
        config = new oidc.Configuration(metadata, provider.client_id, {}, auth);
        if (insecure) oidc.allowInsecureRequests(config);
        config.timeout = options.timeout;
      }
    } catch (error) {
      throw reasonOf(error);
    }
    for (const [stale] of cache) if (stale.startsWith(`${provider.alias} `)) cache.delete(stale);
    cache.set(key, { config, until: now() + ttl });
    return config;
  }

  return {
    async begin(provider, uid, redirectUri, extra = {}) {
      const oidc = await openidClient();
      const config = await configuration(provider);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = provider.kind === 'oidc' ? oidc.randomNonce() : undefined;
      const url = oidc.buildAuthorizationUrl(config, {
        ...extra,
        redirect_uri: redirectUri,
        scope: provider.scopes.join(' '),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...(nonce === undefined ? {} : { nonce }),
      });
      return { url, transaction: { alias: provider.alias, uid, state, nonce, verifier, at: now() } };
    },

    async finish(provider, callbackUrl, transaction, redirectUri) {
      const params = callbackUrl.searchParams;
      const error = params.get('error');
      if (error !== null) throw new UpstreamError(error === 'access_denied' ? 'denied' : 'failed', `upstream returned ${error}`, error);
      const oidc = await openidClient();
      const config = await configuration(provider);
      try {
        // The callback URL as registered (the request's own URL may carry a proxy's host).
        const current = new URL(redirectUri);
        current.search = callbackUrl.search;
        const tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: transaction.verifier,
          expectedState: transaction.state,
          ...(transaction.nonce === undefined ? { idTokenExpected: false } : { expectedNonce: transaction.nonce, idTokenExpected: true }),
        });
        const idClaims = (tokens.claims() ?? {}) as Record<string, unknown>;
        let userinfo: Record<string, unknown> = {};
        const userinfoEndpoint = config.serverMetadata().userinfo_endpoint;
        if (provider.kind === 'oidc' && userinfoEndpoint !== undefined && typeof idClaims.sub === 'string') {
          userinfo = (await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)) as Record<string, unknown>;
        } else if (provider.kind === 'oauth2' && userinfoEndpoint !== undefined) {
          const response = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(userinfoEndpoint), 'GET', null, new Headers({ accept: 'application/json' }));
          if (!response.ok) throw new UpstreamError('failed', `upstream user endpoint answered ${response.status}`);
          userinfo = (await response.json()) as Record<string, unknown>;
          const emailsUrl = githubEmailsUrl(provider);
          const shown = claimAt(userinfo, provider.claims.email);
          if (emailsUrl !== undefined && (typeof shown !== 'string' || shown === '')) {
            // GitHub: a private email is not in /user; /user/emails has it (scope user:email).
            const emails = await oidc.fetchProtectedResource(config, tokens.access_token, emailsUrl, 'GET', null, new Headers({ accept: 'application/json' }));
            // Without the scope GitHub answers 403/404: the account simply has no email then.
            const email = emails.ok ? primaryVerifiedEmail(await emails.json()) : undefined;
            if (email !== undefined) userinfo = { ...userinfo, [provider.claims.email]: email, [provider.claims.email_verified]: true };
          }
        }
        const claims = { ...idClaims, ...userinfo };
        const subject = claimAt(claims, provider.claims.subject);
        if ((typeof subject !== 'string' || subject === '') && typeof subject !== 'number') throw new UpstreamError('failed', `upstream sent no ${provider.claims.subject} claim`);
        const amr = Array.isArray(idClaims.amr) ? idClaims.amr.filter((m): m is string => typeof m === 'string') : [];
        return { subject: String(subject), claims, amr, idToken: tokens.id_token };
      } catch (failure) {
        throw reasonOf(failure);
      }
    },

    async endSessionUrl(provider, params) {
      if (provider.kind !== 'oidc') return undefined;
      const oidc = await openidClient();
      const config = await configuration(provider);
      if (config.serverMetadata().end_session_endpoint === undefined) return undefined;
      return oidc.buildEndSessionUrl(config, params);
    },
  };
}
