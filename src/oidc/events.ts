import type { KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { unavailableStore } from '../errors/store-unavailable.ts';
import { revokedGrantOf } from '../storage/oidc/single-use.ts';
import type { AuditSink } from '../observability/audit-trail.ts';
import type { Logger } from '../observability/logger.ts';
import { originalGrantId } from './grants/exchanged-grant-ids.ts';
import { isGrantTypeNotAllowed } from './unauthorized-client.ts';

/** A back-channel logout request given up at its deadline (session-logout.ts aborts it with a TimeoutError). */
const timedOut = (error: unknown): boolean => {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || (name === 'AbortError' && (error as { cause?: { name?: unknown } }).cause?.name === 'TimeoutError');
};

/** What the provider's events feed besides the log. */
export interface ProviderObservers {
  readonly audit?: AuditSink | undefined;
  readonly tokenIssued?: ((grantType: string) => void) | undefined;
  /** A back-channel logout request ended (the library's, or one of session-logout.ts): by outcome. */
  readonly backchannelLogout?: ((outcome: 'delivered' | 'failed' | 'timed_out') => void) | undefined;
  readonly tokenError?: ((error: string) => void) | undefined;
  readonly storeUnavailable?: ((store: string) => void) | undefined;
  /** An authorization went through a sign-in session: from where (the account page lists devices). */
  readonly sessionSeen?: ((seen: { sessionUid: string; accountId: string; ip: string; userAgent: string; newSession: boolean }) => void) | undefined;
}

interface TokenLike {
  readonly kind?: string;
  readonly clientId?: string;
  readonly accountId?: string;
  readonly grantId?: string;
}

interface GrantLike {
  readonly jti?: string;
  readonly accountId?: string;
  readonly clientId?: string;
  readonly openid?: { scope?: string };
  readonly resources?: Record<string, string>;
}

function clientOf(ctx: KoaContextWithOIDC) {
  return { type: 'client' as const, id: ctx.oidc?.client?.clientId ?? null };
}

const TOKEN_KINDS: Record<string, string> = {
  access_token: 'AccessToken',
  client_credentials: 'ClientCredentials',
  refresh_token: 'RefreshToken',
};

/**
 * Listeners for one Provider instance. Key rotation builds a new instance, so this runs for
 * every instance the key ring builds (see build-provider.ts), never once at startup. Listeners
 * only log, count and hand events to the audit sink (which buffers): none of them does I/O on
 * the request path. The provider emits `*.issued` synchronously and does not await listeners.
 */
export function attachProviderEvents(provider: Provider, logger: Logger, observers: ProviderObservers = {}): void {
  const { audit } = observers;
  // Event names built in loops below are outside the typings' literal union.
  const on = provider.on.bind(provider) as unknown as (event: string, listener: (...args: never[]) => void) => void;

  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc?.session;
    if (observers.sessionSeen === undefined || session?.accountId === undefined || typeof session.uid !== 'string') return;
    // `new`: the library made this session in this request (no session cookie came), with a new uid.
    const newSession = (session as { new?: boolean }).new === true;
    observers.sessionSeen({ sessionUid: session.uid, accountId: session.accountId, ip: ctx.ip, userAgent: ctx.get('user-agent'), newSession });
  });

  provider.on('server_error', (_ctx: unknown, error: unknown) => {
    const store = unavailableStore(error);
    if (store !== undefined) observers.storeUnavailable?.(store);
    else logger.error({ err: error }, 'provider server error');
  });

  // A StoreUnavailableError is exposed (503 temporarily_unavailable), so it arrives as a
  // route's error event rather than server_error.
  for (const event of ['grant.error', 'authorization.error', 'introspection.error', 'revocation.error', 'userinfo.error', 'end_session.error']) {
    on(event, (_ctx: unknown, error: unknown) => {
      const store = unavailableStore(error);
      if (store !== undefined) {
        observers.storeUnavailable?.(store);
        logger.warn({ err: error, store }, 'store unavailable');
      }
      if (event === 'grant.error') {
        // Counted under the code the client is answered (unauthorized-client.ts).
        const code = isGrantTypeNotAllowed(error) ? 'unauthorized_client' : (error as { error?: unknown } | undefined)?.error;
        observers.tokenError?.(typeof code === 'string' ? code : 'server_error');
        // A code redeemed twice at once: the storage revoked its grant for the loser (adapter-factory.ts); announced as the library announces its own.
        const revoked = revokedGrantOf(error);
        if (revoked !== undefined) provider.emit('grant.revoked', _ctx, revoked);
      }
    });
  }

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? 'unknown');
    observers.tokenIssued?.(grantType);
    audit?.record({
      type: grantType === 'refresh_token' ? 'token.refreshed' : 'token.issued',
      actor: clientOf(ctx),
      target: ctx.oidc.account === undefined ? null : { type: 'user', id: ctx.oidc.account.accountId },
      // No grant (client_credentials): no grantId, rather than a null stored with every such event.
      details: ctx.oidc.entities.Grant?.jti === undefined ? { grantType } : { grantType, grantId: ctx.oidc.entities.Grant.jti },
    });
  });

  provider.on('grant.saved', (grant: GrantLike) => {
    // A token exchange's grant is the exchanging client's doing, audited as token.exchanged: the user consented to nothing.
    if (originalGrantId(grant.jti) !== undefined) return;
    audit?.record({
      type: 'consent.granted',
      actor: { type: 'user', id: grant.accountId ?? null },
      client: grant.clientId ?? null,
      target: { type: 'client', id: grant.clientId ?? null },
      details: { grantId: grant.jti ?? null, scope: grant.openid?.scope ?? null, apis: Object.keys(grant.resources ?? {}) },
    });
  });

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    audit?.record({
      type: 'grant.revoked',
      actor: ctx.oidc?.client === undefined ? { type: 'system', id: null } : clientOf(ctx),
      target: { type: 'grant', id: grantId },
      details: { route: ctx.oidc?.route ?? null },
    });
  });

  for (const [event, kind] of Object.entries(TOKEN_KINDS)) {
    on(`${event}.destroyed`, (token: TokenLike) => {
      audit?.record({
        type: 'token.revoked',
        actor: { type: 'client', id: token.clientId ?? null },
        target: token.accountId === undefined ? null : { type: 'user', id: token.accountId },
        details: { kind, grantId: token.grantId ?? null },
      });
    });
  }

  // The library awaits each back-channel logout request before answering the sign-out, and
  // otherwise drops a failure silently: the operator learns here that an app was not told.
  on('backchannel.error', (_ctx: unknown, error: unknown, client: { clientId?: string } | undefined) => {
    const outcome = timedOut(error) ? 'timed_out' : 'failed';
    observers.backchannelLogout?.(outcome);
    logger.warn({ err: error, clientId: client?.clientId ?? null, outcome }, 'back-channel logout not delivered');
  });
  on('backchannel.success', () => observers.backchannelLogout?.('delivered'));

  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    audit?.record({
      type: 'signout',
      actor: { type: 'user', id: ctx.oidc?.session?.accountId ?? null },
      client: ctx.oidc?.client?.clientId ?? null,
      target: ctx.oidc?.client === undefined ? null : { type: 'client', id: ctx.oidc.client.clientId },
      details: {},
    });
  });
}
