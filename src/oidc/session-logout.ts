import type Provider from 'oidc-provider';
import type { EndedSession } from '../storage/oidc/revocation.ts';

/** The library's Client sends its own logout token (lib/models/client.js, used by end_session); @types/oidc-provider leaves the method out. */
interface SendsLogoutTokens {
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

/**
 * Back-channel logout for sign-in sessions Gatehouse ends itself — an operator ends one (admin
 * API, console), the user ends one on the account page, the user is disabled or all their
 * sessions are revoked — as Keycloak sends it when an administrator or the account console ends
 * a session. The library only sends logout tokens at /session/end; without this, an app that
 * keeps its own session would stay signed in after the operator ended Gatehouse's.
 *
 * Each app of the session that registered a `backchannel_logout_uri` gets its logout token, the
 * way the library's end_session sends it (its `sid` in the session); the outcome goes out as the
 * same `backchannel.success` / `backchannel.error` events, so an undelivered one is logged as at
 * sign-out (src/oidc/events.ts). Never throws: the session is already gone.
 */
export function backchannelLogouts(provider: () => Provider | undefined): (session: EndedSession) => Promise<void> {
  return async ({ accountId, authorizations }) => {
    const current = provider();
    if (current === undefined) return;
    await Promise.all(
      Object.entries(authorizations).map(async ([clientId, { sid }]) => {
        const client = await current.Client.find(clientId).catch(() => undefined);
        if (client?.backchannelLogoutUri === undefined || typeof sid !== 'string') return;
        await (client as unknown as SendsLogoutTokens).backchannelLogout(accountId, sid).then(
          () => current.emit('backchannel.success', undefined, client, accountId, sid),
          (error: unknown) => current.emit('backchannel.error', undefined, error, client, accountId, sid),
        );
      }),
    );
  };
}
