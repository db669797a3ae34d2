import { errors, type Account, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditSink } from '../../observability/audit-trail.ts';
import { DependedOnGrantGoneError } from '../../storage/oidc/dependent-grants.ts';
import { invalidGrant } from './invalid-grant.ts';
import { findAccount, type AccountDirectory } from '../accounts.ts';
import { ADMIN_SCOPE, hasAdminRole } from '../admin-scope.ts';
import { TOKEN_EXCHANGE_GRANT, tokenExchangePolicy } from '../client-metadata.ts';
import type { resourceIndicators } from '../resource-servers.ts';
import { assertPossession, bindToProof, requestProof } from './dpop-binding.ts';
import { NO_CLAIM_SCOPES, type ClaimMapping } from '../../claims/mapped-claims.ts';
import { exchangeClaimScopes, exchangeScopes, scopesOf } from './exchange-scopes.ts';
import { exchangeGrantId, originalGrantId } from './exchanged-grant-ids.ts';

export { deepestFirst, exchangedGrantsPrefix, exchangeGrantId, exchangeOrigins, originalClientId, originalGrantId, parentOf, parentsAmong, type ExchangeOrigin } from './exchanged-grant-ids.ts';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** Finds the stored record of a presented access token, JWT or opaque (jwt-records.ts resolver). */
export type ResolveToken = (token: string) => Promise<AdapterPayload | undefined>;

export interface TokenExchangeDeps {
  readonly resolveToken: ResolveToken;
  readonly accounts: AccountDirectory;
  /** Who may get a token for which API and scope: the same rules as every grant (resource-servers.ts). */
  readonly resources: ReturnType<typeof resourceIndicators>;
  /** The admin API's identifier: its scope is for users with the admin role (admin-scope.ts). */
  readonly adminAudience: string;
  readonly audit?: AuditSink | undefined;
  /** The server clock in milliseconds (StartOptions.clock.now): subject and actor expiry is judged by it. */
  readonly now?: (() => number) | undefined;
  /** The claim scopes (src/claims/): an exchange may ask for them beside the API's scopes (exchangeClaimScopes). */
  readonly mapping?: ClaimMapping | undefined;
}

export const parameters = new Set([
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'resource',
  'audience',
  'scope',
  'requested_token_type',
]);

function param(ctx: KoaContextWithOIDC, name: string): string | undefined {
  const value = ctx.oidc.params?.[name];
  if (Array.isArray(value)) throw new errors.InvalidRequest(`only one ${name} is allowed`);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function tokenType(ctx: KoaContextWithOIDC, name: 'subject_token_type' | 'actor_token_type'): void {
  const type = param(ctx, name);
  if (type === undefined) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  // ID tokens say who signed in to an app, not what an API may do; refresh tokens are the
  // client's own credential and must not travel: neither is accepted as a subject or actor.
  if (type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`${name} must be ${ACCESS_TOKEN_TYPE} (ID tokens and refresh tokens cannot be exchanged)`);
}

/** Whether a token's audience is exactly this API (tokens Gatehouse issues have one). */
function isFor(token: AdapterPayload, identifier: string): boolean {
  const { aud } = token as { aud?: unknown };
  return aud === identifier || (Array.isArray(aud) && aud.length === 1 && aud[0] === identifier);
}

/**
 * Token exchange (RFC 8693) for clients with a `token_exchange` policy: a user's access token
 * issued to a trusted client becomes an access token for one of the APIs the policy names and
 * the client may use (the admin API for admin clients only, as at every grant), with scopes of
 * that API (exchange-scopes.ts). `actor_token` (the caller's own access token) makes it
 * delegation: the `act` claim. A DPoP-bound subject or actor needs a proof with its key; a
 * request with a proof gets a DPoP-bound token.
 */
export function tokenExchangeGrant({ resolveToken, accounts, resources, adminAudience, audit, now: clock = Date.now, mapping = NO_CLAIM_SCOPES }: TokenExchangeDeps) {
  const account = findAccount(accounts);
  const now = () => Math.floor(clock() / 1000);

  async function active(token: string, label: string): Promise<AdapterPayload> {
    const record = await resolveToken(token);
    if (record === undefined || typeof record.exp !== 'number' || record.exp <= now() || !['AccessToken', 'ClientCredentials'].includes(String(record.kind))) {
      throw invalidGrant(`${label} is not an active access token`);
    }
    return record;
  }

  /** The OpenID scopes the user allowed in a grant (standing() has checked it is there). */
  async function grantedOpenIdScopes(ctx: KoaContextWithOIDC, grantId: string): Promise<string[]> {
    const grant = await ctx.oidc.provider.Grant.find(grantId);
    return scopesOf(grant?.getOIDCScope());
  }

  /** The grants a user token stands on: its own and, for an exchanged token, the one it came from. */
  const grantsOf = (grantId: string) => [grantId, originalGrantId(grantId)].filter((id) => id !== undefined);

  /** Whether every grant the token stands on is there, unexpired and the user's; the earliest end (epoch seconds). */
  async function grantsInForce(ctx: KoaContextWithOIDC, grantId: string, accountId: string): Promise<number | undefined> {
    let until = Infinity;
    for (const id of grantsOf(grantId)) {
      const grant = await ctx.oidc.provider.Grant.find(id);
      if (grant === undefined || grant.isExpired || grant.accountId !== accountId) return undefined;
      if (typeof grant.exp === 'number') until = Math.min(until, grant.exp);
    }
    return until;
  }

  /**
   * A user token's standing beyond its record: its grants (grantsInForce), its session when it ends
   * with one, and its user, active. Returns the user and when the first of its grants ends.
   */
  async function standing(ctx: KoaContextWithOIDC, token: AdapterPayload & { accountId: string }, label: 'subject_token' | 'actor_token'): Promise<{ found: Account; until: number }> {
    const { provider } = ctx.oidc;
    const gone = () => invalidGrant(`${label} is not an active access token`);
    const grantId = typeof token.grantId === 'string' ? token.grantId : undefined;
    if (grantId === undefined) throw gone();
    const until = await grantsInForce(ctx, grantId, token.accountId);
    if (until === undefined) throw gone();
    if (token.expiresWithSession === true && typeof token.sessionUid === 'string' && (await provider.Session.findByUid(token.sessionUid)) === undefined) throw gone();
    const found = await account(ctx, token.accountId);
    if (found === undefined) throw gone();
    return { found, until };
  }

  return async function tokenExchangeHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const { provider } = ctx.oidc;
    const client = ctx.oidc.client!;
    const policy = tokenExchangePolicy(client);
    if (policy === undefined) throw new errors.UnauthorizedClient('token exchange is not enabled for this client');

    const subjectToken = param(ctx, 'subject_token');
    if (subjectToken === undefined) throw new errors.InvalidRequest("missing required parameter 'subject_token'");
    tokenType(ctx, 'subject_token_type');
    const requestedType = param(ctx, 'requested_token_type');
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE && requestedType !== JWT_TYPE) {
      throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE} or ${JWT_TYPE}`);
    }

    // The target: one API the policy names (resource and audience, if both given, must agree).
    const resource = param(ctx, 'resource');
    const audience = param(ctx, 'audience');
    if (resource !== undefined && audience !== undefined && resource !== audience) throw new errors.InvalidTarget('resource and audience name different APIs');
    const target = resource ?? audience;
    if (target === undefined) throw new errors.InvalidTarget('name the API the token is for (resource or audience)');
    const actorToken = param(ctx, 'actor_token');
    if (actorToken === undefined && param(ctx, 'actor_token_type') !== undefined) throw new errors.InvalidRequest('actor_token_type is only allowed with actor_token');
    const proof = await requestProof(ctx);

    const subject = await active(subjectToken, 'subject_token');
    const subjectClient = String(subject.clientId);
    if (subject.kind !== 'AccessToken' || typeof subject.accountId !== 'string' || typeof subject.grantId !== 'string') {
      throw invalidGrant('subject_token must be a user access token');
    }
    if (!policy.trusted_clients.includes(subjectClient)) throw invalidGrant('subject_token was issued to a client this client does not trust');
    assertPossession('subject_token', subject, proof);
    const { found, until: subjectGrantsEnd } = await standing(ctx, subject as AdapterPayload & { accountId: string }, 'subject_token');
    ctx.oidc.entity('Account', found);

    // The rules of every grant first (admin API, the client's allowed APIs and scopes; the account
    // is known by now, as at the password grant), then the policy's.
    const info = await resources.getResourceServerInfo!(ctx, target, client);
    if (!policy.apis.includes(target)) throw new errors.InvalidTarget('this client may not exchange tokens for this API');
    // The token's format is the API's: a JWT asked for where the API takes opaque tokens is refused, not answered with an opaque one.
    if (requestedType === JWT_TYPE && info.accessTokenFormat !== 'jwt') throw new errors.InvalidRequest(`requested_token_type ${JWT_TYPE}: ${target} is issued opaque access tokens`);
    // Issuance drops the admin scope for a user without the admin role (admin-scope.ts), which would
    // leave the exchange nothing to issue: refused saying why, not as a scope the client lacks.
    if (target === adminAudience && !(await hasAdminRole(accounts, subject.accountId))) {
      throw new errors.InvalidScope("the user does not have the admin role, which the admin API's scope needs", ADMIN_SCOPE);
    }
    // `scope` splits into the claim scopes and the rest, the API's (exchange-scopes.ts).
    const asked = scopesOf(ctx.oidc.params?.scope);
    const askedClaimScopes = asked.filter((scope) => mapping.isClaimScope(scope));
    const requested = exchangeScopes(asked.filter((scope) => !mapping.isClaimScope(scope)).join(' '), scopesOf(info.scope), isFor(subject, target) ? scopesOf(subject.scope) : undefined);
    const claimScopes = askedClaimScopes.length === 0 ? [] : exchangeClaimScopes(askedClaimScopes, await grantedOpenIdScopes(ctx, subject.grantId), client.scope);

    let act: Record<string, unknown> | undefined;
    if (actorToken !== undefined) {
      tokenType(ctx, 'actor_token_type');
      const actor = await active(actorToken, 'actor_token');
      // The actor is the caller: its own token, or a user token it was issued. Gatehouse's tokens
      // carry no may_act (RFC 8693 §4.4), and only its own are taken (resolveToken): who may act for
      // whom is the caller's policy, checked above.
      if (actor.clientId !== client.clientId) throw invalidGrant('actor_token must be issued to the client making the exchange');
      assertPossession('actor_token', actor, proof);
      // A user token as actor stands or falls like a subject: `act` never names a disabled user.
      if (typeof actor.accountId === 'string') await standing(ctx, actor as AdapterPayload & { accountId: string }, 'actor_token');
      act = { sub: typeof actor.accountId === 'string' ? actor.accountId : String(actor.clientId), client_id: String(actor.clientId) };
    }
    const previousAct = (subject.extra as { act?: unknown } | undefined)?.act;
    if (act !== undefined && previousAct !== undefined) act.act = previousAct;
    else if (act === undefined && previousAct !== undefined) act = previousAct as Record<string, unknown>;

    const grantId = exchangeGrantId(subject.grantId, subjectClient);
    const at = new provider.AccessToken({ accountId: subject.accountId, client, grantId, gty: TOKEN_EXCHANGE_GRANT, scope: requested.join(' ') });
    // Never outlives the token it was exchanged for. iat and exp come from one reading of the clock:
    // left to the library, exp would be its own later reading plus a lifetime worked out from this
    // one, a second past the subject's exp whenever a second boundary fell in between.
    const iat = now();
    const exp = Math.min(subject.exp!, typeof info.accessTokenTTL === 'number' ? iat + info.accessTokenTTL : Infinity);
    at.iat = iat;
    at.exp = exp;
    at.resourceServer = new provider.ResourceServer(target, { ...info, accessTokenTTL: Math.max(1, exp - iat) });
    // Before anything is saved: a replayed proof leaves no grant behind.
    await bindToProof(ctx, proof, at);

    // The grant holds this one token and nothing that could issue another: it ends with the token,
    // and never after the grants the subject stood on (the account page lists grants until they end).
    const expiresIn = Math.max(1, Math.min(exp, subjectGrantsEnd) - iat);
    const grant = new provider.Grant({ jti: grantId, accountId: subject.accountId, clientId: client.clientId, expiresIn } as ConstructorParameters<typeof provider.Grant>[0]);
    grant.addResourceScope(target, requested.join(' '));
    // What the token's claims come from (resource-servers.ts withMappedClaims reads the grant's
    // OpenID scopes the request named), and the ceiling of an exchange of this token.
    if (claimScopes.length > 0) grant.addOIDCScope(claimScopes.join(' '));
    try {
      await grant.save();
    } catch (error) {
      // The grant store reads the grants this one stands on after writing it — from the store, not
      // this instance's cache, which may still hold a grant another instance revoked — and removes
      // it again if one is gone (src/storage/oidc/dependent-grants.ts): before its token is saved.
      if (error instanceof DependedOnGrantGoneError) throw invalidGrant('subject_token is not an active access token');
      throw error;
    }
    ctx.oidc.entity('Grant', grant);
    // Read by extraTokenClaims (exchange-claims in configuration) when the token is formatted.
    if (act !== undefined) (at as unknown as { extra: Record<string, unknown> }).extra = { act };
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    audit?.record({
      type: 'token.exchanged',
      actor: { type: 'client', id: client.clientId },
      target: { type: 'user', id: subject.accountId },
      details: { grantId, subjectGrantId: subject.grantId, subjectClientId: subjectClient, api: target, scope: requested.join(' '), ...(claimScopes.length === 0 ? {} : { claimScopes }), ...(act === undefined ? {} : { act }), ...(at.jkt === undefined ? {} : { dpop: true }) },
    });

    ctx.body = {
      access_token: accessToken,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: at.tokenType,
      expires_in: at.expiration,
      scope: requested.join(' '),
    };
  };
}
