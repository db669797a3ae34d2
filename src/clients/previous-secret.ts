import type { ParsedUrlQuery } from 'node:querystring';
import type { Middleware } from 'koa';
import { sameText } from '../crypto/same-text.ts';
import { basicUser } from '../http/basic-user.ts';
import { bufferedForm, replaceForm } from '../http/form-body.ts';
import type { AuditInput } from '../observability/audit-input.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import { CLIENT_AUTH_ROUTES, type RoutesTable } from '../routes/table.ts';
import { PREVIOUS_CLIENT_SECRET, PREVIOUS_CLIENT_SECRET_UNTIL } from './repository.ts';


export { MAX_SECRET_GRACE_SECONDS } from './secret-grace.ts';

/** At most one `client.previous_secret_used` event per client this often, per instance. */
const AUDIT_EVERY_MS = 5 * 60_000;

export interface PreviousSecretDeps {
  readonly routes: RoutesTable;
  /** The provider's Client adapter lookup: the metadata src/clients/repository.ts providerMetadata makes (cached). */
  readonly findClient: (clientId: string) => unknown;
  /** Gatehouse's clock, epoch milliseconds. */
  readonly now: () => number;
  readonly audit: (input: AuditInput) => void;
}

/** As oidc-provider decodes the two halves of a Basic header (RFC 6749 §2.3.1: form-urlencoded). */
function decodeAuthToken(token: string): string | undefined {
  // Most ids and secrets hold neither: no new string.
  if (!token.includes('%') && !token.includes('+')) return token;
  try {
    return decodeURIComponent(token.replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

/**
 * The secret of a Basic header whose client is `clientId`, read as the library reads the header
 * (`Basic <base64>`, split at one space; both halves form-urlencoded), or undefined. Only for a
 * client with a previous secret in its grace: every other request reads the client id alone
 * (basicUser), and its secret is never decoded here.
 */
function basicSecret(authorization: string, clientId: string): string | undefined {
  const parts = authorization.split(' ');
  if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'basic') return undefined;
  const basic = Buffer.from(parts[1]!, 'base64').toString('utf8');
  const colon = basic.indexOf(':');
  if (colon === -1 || colon === basic.length - 1 || decodeAuthToken(basic.slice(0, colon)) !== clientId) return undefined;
  return decodeAuthToken(basic.slice(colon + 1));
}

/**
 * Client secret rotation with a grace period, in front of the provider: a client that
 * authenticates (client_secret_basic or client_secret_post) with its secret from before the last
 * rotation, while that one's grace lasts, is handed to the provider with its current secret in its
 * place, so the library's own check passes; anything else goes on untouched (a wrong secret fails
 * there as before). oidc-provider compares a client's one `client_secret` and has no hook for a
 * second one. client_secret_jwt is not covered: the library checks the assertion's HMAC with the
 * current secret, and an assertion made with the old one cannot be re-made here.
 */
export function previousSecretGate({ routes, findClient, now, audit }: PreviousSecretDeps): Middleware {
  const lastAudited = new Map<string, number>();
  return guarding(CLIENT_AUTH_ROUTES, async (ctx, next) => {
    if (ctx.method !== 'POST') return next();
    const route = providerRouteAt(routes, ctx.path);
    if (route === undefined || !CLIENT_AUTH_ROUTES.has(route)) return next();
    const authorization = ctx.get('authorization');
    let presented: { clientId: string; secret: () => string | undefined; method: 'client_secret_basic' | 'client_secret_post' } | undefined;
    let params: ParsedUrlQuery | undefined;
    if (authorization !== '') {
      const user = basicUser(authorization);
      const clientId = user === undefined ? undefined : decodeAuthToken(user);
      if (clientId !== undefined) presented = { clientId, secret: () => basicSecret(authorization, clientId), method: 'client_secret_basic' };
    } else {
      const form = await bufferedForm(ctx);
      if (typeof form === 'object') {
        params = form.params;
        const { client_id: clientId, client_secret: secret } = form.params;
        if (typeof clientId === 'string' && typeof secret === 'string' && secret !== '') presented = { clientId, secret: () => secret, method: 'client_secret_post' };
      }
    }
    if (presented === undefined) return next();
    // A client the cache holds comes back at once: no promise (and no turn) on the token path.
    const found = findClient(presented.clientId);
    const client = (found instanceof Promise ? await found : found) as Record<string, unknown> | undefined;
    const previous = client?.[PREVIOUS_CLIENT_SECRET];
    const until = client?.[PREVIOUS_CLIENT_SECRET_UNTIL];
    const current = client?.client_secret;
    if (typeof previous !== 'string' || typeof until !== 'number' || typeof current !== 'string') return next();
    const at = now();
    if (at >= until) return next();
    const secret = presented.secret();
    if (secret === undefined || sameText(secret, current) || !sameText(secret, previous)) return next();
    if (presented.method === 'client_secret_basic') {
      ctx.req.headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(presented.clientId)}:${encodeURIComponent(current)}`, 'utf8').toString('base64')}`;
    } else {
      replaceForm(ctx, { ...params, client_secret: current });
    }
    if ((lastAudited.get(presented.clientId) ?? -Infinity) + AUDIT_EVERY_MS <= at) {
      lastAudited.set(presented.clientId, at);
      if (lastAudited.size > 10_000) lastAudited.delete(lastAudited.keys().next().value!);
      audit({
        type: 'client.previous_secret_used',
        actor: { type: 'client', id: presented.clientId },
        target: { type: 'client', id: presented.clientId },
        ip: ctx.ip,
        details: { method: presented.method, route, previousSecretExpiresAt: new Date(until).toISOString() },
      });
    }
    return next();
  });
}
