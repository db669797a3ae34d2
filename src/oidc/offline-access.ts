import { decodeJwt } from 'jose';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { scopeWords as words } from '../claims/mapped-claims.ts';
import { clientFlag } from './client-metadata.ts';

const OFFLINE = 'offline_access';

/**
 * The scope the client sent, before the library dropped anything from it: the pushed request's
 * (PAR), the request object's (JAR; the library has verified it by now), else the query or form.
 * An encrypted request object sent by GET reads as no scope (offline_access stays dropped).
 */
function sentScope(ctx: KoaContextWithOIDC): string[] {
  const raw = (ctx.method === 'POST' ? ctx.oidc.body : ctx.query) as Record<string, unknown> | undefined;
  const object = ctx.oidc.entities.PushedAuthorizationRequest?.request ?? raw?.request;
  if (typeof object !== 'string') return words(raw?.scope);
  try {
    return words(decodeJwt(object).scope);
  } catch {
    return [];
  }
}

/** Whether the user's grant to this client (through the session) already holds offline_access. */
async function alreadyGranted(ctx: KoaContextWithOIDC, client: Client): Promise<boolean> {
  const grantId = ctx.oidc.session?.grantIdFor(client.clientId);
  const grant = grantId === undefined ? undefined : await ctx.oidc.provider.Grant.find(grantId);
  return grant !== undefined && words(grant.getOIDCScope()).includes(OFFLINE);
}

/**
 * Keycloak grants `offline_access` (an offline token: a refresh token that outlives the sign-in
 * session) to a client without "consent required" whenever it asks. oidc-provider drops the
 * scope unless the request also says `prompt=consent` (OpenID Connect Core §11: "unless other
 * conditions for processing the request permitting offline access … are in place"). A
 * first-party client is that condition — the operator vouches for it, and it never shows a
 * consent page (interaction-policy.ts) — so its request gets the scope back here; grant-policy.ts
 * then puts it in its grant like any other scope.
 *
 * The library's other conditions still apply (a code flow, the `refresh_token` grant, the scope
 * in the client's registered `scope`). `prompt=none` keeps it only where the user's grant
 * already holds it: a silent request never starts offline access. Third-party clients still ask
 * the user, with `prompt=consent`.
 *
 * Runs as an `extraParams` validator, which the library calls on every authorization and PAR
 * request after its scope checks (the parameter present or not; assigning defaults is what the
 * hook allows). At PAR the scope is kept whatever `prompt` says: the pushed request is checked
 * again, with its session, when the browser brings it to /auth.
 */
export async function offlineAccessForFirstParty(ctx: KoaContextWithOIDC): Promise<void> {
  const { oidc } = ctx;
  const route = oidc.route;
  const { client, params } = oidc;
  if ((route !== 'authorization' && route !== 'pushed_authorization_request') || client === undefined || params === undefined || !clientFlag(client, 'first_party')) return;
  const scopes = words(params.scope);
  if (scopes.includes(OFFLINE) || !sentScope(ctx).includes(OFFLINE)) return;
  if (!words(params.response_type).includes('code') || !client.grantTypeAllowed('refresh_token')) return;
  if (client.scope !== undefined && !words(client.scope).includes(OFFLINE)) return;
  if (route === 'authorization' && oidc.prompts.has('none') && !(await alreadyGranted(ctx, client))) return;
  params.scope = [...scopes, OFFLINE].join(' ');
}
