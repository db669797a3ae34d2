import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { ConsentGiven } from '../consents/records.ts';
import { clientFlag } from './client-metadata.ts';

type LoadExistingGrant = NonNullable<Configuration['loadExistingGrant']>;
type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/** The user's durable consents (src/consents/records.ts): what they agreed to give each application. */
export interface ConsentLookup {
  find(accountId: string, clientId: string): Promise<ConsentGiven | undefined>;
}

/**
 * Consent: a remembered grant is reused when it already covers the request (the library then
 * skips the consent prompt). First-party clients never see a consent page: their grant is
 * created or widened here to what they asked for, as the consent page would have granted it.
 * Other clients get what the user's consent record covers (consentedGrant below).
 */
export function grantPolicy({ consents }: { consents?: ConsentLookup | undefined } = {}): LoadExistingGrant {
  return async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const client = oidc.client;
    const session = oidc.session;
    if (client === undefined || session === undefined) return undefined;
    const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    const existing = grantId === undefined ? undefined : await oidc.provider.Grant.find(grantId);
    if (session.accountId === undefined) return existing;
    if (clientFlag(client, 'first_party')) return firstPartyGrant(ctx, client, session.accountId, existing);
    if (consents === undefined || oidc.result?.consent !== undefined) return existing;
    return consentedGrant(ctx, client.clientId, session.accountId, existing, consents);
  };
}

/**
 * A third-party client, no grant in this session covering the request: the parts of the request
 * the user's consent record covers go into the session's grant (made here when there is none),
 * so the consent page asks for the rest only — or is not shown. The record is read only then:
 * one MongoDB read for an authorization that would otherwise show the consent page; none when
 * the session's grant covers it. Not for `prompt=consent` (the page is shown whatever the record
 * says) nor native apps (asked on every sign-in: OpenID Connect Core §11 / the library's
 * `native_client_prompt`), which would show the page anyway.
 */
async function consentedGrant(ctx: KoaContextWithOIDC, clientId: string, accountId: string, existing: Grant | undefined, consents: ConsentLookup): Promise<Grant | undefined> {
  const { oidc } = ctx;
  if (oidc.client?.applicationType === 'native' || oidc.promptPending('consent')) return existing;
  const asked = missing(ctx, existing);
  if (asked.scopes.length === 0 && asked.claims.length === 0 && Object.keys(asked.resources).length === 0) return existing;
  const record = await consents.find(accountId, clientId);
  if (record === undefined) return existing;
  const scopes = asked.scopes.filter((scope) => record.scopes.includes(scope));
  const claims = asked.claims.filter((claim) => record.claims.includes(claim));
  const resources = Object.entries(asked.resources).map(([indicator, wanted]) => [indicator, wanted.filter((scope) => record.resources[indicator]?.includes(scope) === true)] as const).filter(([, granted]) => granted.length > 0);
  if (scopes.length === 0 && claims.length === 0 && resources.length === 0) return existing;
  const grant = existing ?? new oidc.provider.Grant({ clientId, accountId });
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  if (claims.length > 0) grant.addOIDCClaims(claims);
  for (const [indicator, granted] of resources) grant.addResourceScope(indicator, granted.join(' '));
  await grant.save();
  return grant;
}

/** What the request asks for that `grant` has not met yet: the library's consent checks, in its terms. */
function missing(ctx: KoaContextWithOIDC, grant: Grant | undefined): ConsentGiven {
  const { oidc } = ctx;
  const scopesMet = new Set(grant?.getOIDCScopeEncountered().split(' ') ?? []);
  const claimsMet = new Set(grant?.getOIDCClaimsEncountered() ?? []);
  const scopes = [...oidc.requestParamOIDCScopes].filter((scope) => !scopesMet.has(scope));
  const claims = [...oidc.requestParamClaims].filter((claim) => !claimsMet.has(claim) && !ALWAYS_RELEASED.has(claim));
  const resources: Record<string, string[]> = {};
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const met = new Set(grant?.getResourceScopeEncountered(indicator).split(' ') ?? []);
    const wanted = [...oidc.requestParamScopes].filter((scope) => server.scopes.has(scope) && !met.has(scope));
    if (wanted.length > 0) resources[indicator] = wanted;
  }
  return { scopes, claims, resources };
}

/** Claims the library never asks consent for (its op_claims_missing check). */
const ALWAYS_RELEASED = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

async function firstPartyGrant(ctx: KoaContextWithOIDC, client: NonNullable<KoaContextWithOIDC['oidc']['client']>, accountId: string, existing: Grant | undefined): Promise<Grant> {
  const { oidc } = ctx;
  const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId });
  const before = existing === undefined ? undefined : grantedShape(existing);
  const scope = typeof oidc.params?.scope === 'string' ? oidc.params.scope : '';
  // What the consent page would grant, no more: the OpenID scopes asked for (the library has
  // checked them against the client's registered scope; the client's default scopes are among
  // them, src/oidc/default-scopes.ts) here, an API's scopes only for that API
  // below (getResourceServerInfo narrowed them to what the client is allowed).
  const oidcScope = [...oidc.requestParamOIDCScopes].join(' ');
  if (oidcScope !== '') grant.addOIDCScope(oidcScope);
  const claims = oidc.params?.claims;
  if (typeof claims === 'string') {
    const parsed = JSON.parse(claims) as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> };
    grant.addOIDCClaims([...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})]);
  }
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const allowed = new Set(server.scopes);
    grant.addResourceScope(indicator, scope.split(' ').filter((item) => allowed.has(item)).join(' '));
  }
  // A remembered grant that already covers the request (an authorization through an existing
  // session) is not written again: nothing in it changed — its expiry is its own, kept by every
  // save — and the save would cost a MongoDB upsert and audit a consent that granted nothing.
  if (before !== undefined && grantedShape(grant) === before) return grant;
  await grant.save();
  return grant;
}

/** What a grant gives: compared before and after the request's scopes, claims and APIs are added. */
function grantedShape(grant: { openid?: unknown; resources?: unknown; rejected?: unknown; rar?: unknown }): string {
  return JSON.stringify([grant.openid ?? null, grant.resources ?? null, grant.rejected ?? null, grant.rar ?? null]);
}
