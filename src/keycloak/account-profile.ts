import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { Accounts, User } from '../accounts/accounts.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { SCOPE_CLAIMS } from '../oidc/claims.ts';
import { clientList } from '../oidc/client-metadata.ts';
import { isPath } from '../routes/match.ts';

/** The one call of Keycloak's Account REST API that keycloak-js makes (`loadUserProfile()`): the user as Keycloak describes them. */
export interface KeycloakProfile {
  readonly id: string;
  readonly username?: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly firstName?: string;
  readonly lastName?: string;
  /** Keycloak's multi-valued attributes: the user's other OpenID standard claims, each as a one-element list. */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

export interface AccountProfileDeps {
  /** Where Keycloak has its Account REST API: the account page's path (`/realms/<name>/account`). */
  readonly path: string;
  readonly provider: () => Provider;
  /** The stored record of an access token as presented (a JWT Gatehouse signed, or an opaque token); undefined when unknown or revoked (src/oidc/jwt-records.ts resolver). */
  readonly resolveToken: (token: string) => Promise<AdapterPayload | undefined>;
  /** oidc-provider's storage: the token's grant and session. */
  readonly adapter: AdapterFactory;
  readonly accounts: Pick<Accounts, 'findById'>;
  /** Milliseconds since the epoch (the server's clock). */
  readonly now: () => number;
}

class ProfileTokenError extends GatehouseError {
  constructor(description: string) {
    super(description, { status: 401, code: 'invalid_token', expose: true, headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` } });
  }
}

/** The claims an OpenID scope string releases (src/oidc/claims.ts). */
export function releasedClaims(scope: unknown): ReadonlySet<string> {
  const scopes = typeof scope === 'string' ? scope.split(' ') : [];
  return new Set(scopes.flatMap((name) => (Object.hasOwn(SCOPE_CLAIMS, name) ? [...SCOPE_CLAIMS[name as keyof typeof SCOPE_CLAIMS]] : [])));
}

/**
 * The user as Keycloak describes them, limited to the claims the user's grant to the client
 * releases — as userinfo is: a client the user consented to for `openid` alone learns only the
 * id, not the email or names.
 */
export function keycloakProfile(user: User, released: ReadonlySet<string>): KeycloakProfile {
  const attributes: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(user.attributes)) {
    if (typeof value === 'string' && released.has(name)) attributes[name] = [value];
  }
  return {
    id: user.id,
    ...(released.has('preferred_username') ? { username: user.username } : {}),
    ...(user.email === null || !released.has('email') ? {} : { email: user.email }),
    ...(released.has('email_verified') ? { emailVerified: user.emailVerified } : {}),
    ...(user.givenName === null || !released.has('given_name') ? {} : { firstName: user.givenName }),
    ...(user.familyName === null || !released.has('family_name') ? {} : { lastName: user.familyName }),
    attributes,
  };
}

/**
 * keycloak-js's `loadUserProfile()` reads `GET /realms/<name>/account` with the access token and
 * `Accept: application/json`, from the application's origin (a CORS preflight first, for the
 * Authorization header). The same path is Gatehouse's account page for a browser that navigates
 * there; this answers only what is the API's: a preflight, and a GET that carries a token or asks
 * for JSON. The token is checked as the provider stores it — a JWT verified and its record looked
 * up, an opaque one found — and must be a user's access token, unexpired, its grant still there,
 * its session alive when it ends with it, not sender-constrained, for an enabled user; anything
 * else is `401 invalid_token` as JSON. As at userinfo, the answer may be read by the token's
 * client's web origins (its `web_origins`), a preflight is answered for any origin.
 */
export function accountProfileApi(deps: AccountProfileDeps): Middleware {
  async function caller(header: string): Promise<{ user: User; clientId: string; scope: unknown }> {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (match === null) throw new ProfileTokenError('a Bearer access token is required');
    const record = await deps.resolveToken(match[1]!);
    const nowSeconds = Math.floor(deps.now() / 1000);
    if (record === undefined || record.kind !== 'AccessToken' || typeof record.exp !== 'number' || record.exp <= nowSeconds) {
      throw new ProfileTokenError('the access token is invalid, expired or revoked');
    }
    if (record.jkt !== undefined || record['x5t#S256'] !== undefined) throw new ProfileTokenError('sender-constrained tokens are not accepted here');
    if (typeof record.accountId !== 'string' || typeof record.clientId !== 'string') throw new ProfileTokenError('the access token names no user');
    const grant = typeof record.grantId === 'string' ? await deps.adapter('Grant').find(record.grantId) : undefined;
    if (grant == null) throw new ProfileTokenError('the access token is invalid, expired or revoked');
    if (record.expiresWithSession === true && typeof record.sessionUid === 'string' && (await deps.adapter('Session').findByUid(record.sessionUid)) == null) {
      throw new ProfileTokenError('the session of this access token has ended');
    }
    const user = await deps.accounts.findById(record.accountId);
    if (user === undefined || user.disabled) throw new ProfileTokenError('the user of this token is disabled or gone');
    // What the user granted this client (the grant's OpenID scope, Keycloak's default client
    // scopes included for a Keycloak-claims client, src/oidc/grant-policy.ts): what userinfo releases.
    return { user, clientId: record.clientId, scope: (grant as { openid?: { scope?: unknown } }).openid?.scope };
  }

  return async (ctx, next) => {
    if (!isPath(ctx.path, deps.path) || ctx.path.endsWith('/')) return next();
    const origin = ctx.get('Origin');
    if (ctx.method === 'OPTIONS' && origin !== '' && ctx.get('Access-Control-Request-Method') !== '') {
      ctx.vary('Origin');
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', 'GET');
      ctx.set('Access-Control-Allow-Headers', 'Authorization, Accept');
      ctx.set('Access-Control-Max-Age', '3600');
      ctx.status = 204;
      return;
    }
    const authorization = ctx.get('Authorization');
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || (authorization === '' && ctx.accepts('html', 'json') !== 'json')) return next();
    ctx.vary('Origin');
    ctx.set('Cache-Control', 'no-store');
    const { user, clientId, scope } = await caller(authorization);
    if (origin !== '') {
      const client = await deps.provider().Client.find(clientId);
      if (clientList(client, 'web_origins').includes(origin)) ctx.set('Access-Control-Allow-Origin', origin);
    }
    ctx.body = keycloakProfile(user, releasedClaims(scope));
  };
}
