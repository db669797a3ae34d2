import type Provider from 'oidc-provider';
import { clockTimer, type Clock } from '../clock.ts';
import type { EndedSession } from '../storage/oidc/revocation.ts';

/** The library's Client sends its own logout token (lib/models/client.js, used by end_session); @types/oidc-provider leaves the method out. */
interface SendsLogoutTokens {
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

interface LogoutLogger {
  warn(obj: object, msg: string): void;
}

/** How long one back-channel logout request may take (the library's own limit is the same 2.5 s, on the wall clock). */
export const BACKCHANNEL_LOGOUT_TIMEOUT_MS = 2_500;

/** A back-channel logout request's deadline: its signal aborts the request, `cancel` once it is over. */
export interface LogoutDeadline {
  readonly signal: AbortSignal;
  cancel(): void;
}

/**
 * The deadline of each back-channel logout request, on Gatehouse's clock (src/clock.ts) instead of
 * the library's wall-clock `AbortSignal.timeout(2500)`: the same 2.5 s in production; a test's
 * frozen clock lets an app's endpoint hold a request as long as the test needs, and moving the
 * clock ends it (src/oidc/configuration.ts puts it on the requests).
 */
export function logoutDeadlines(clock: Clock): () => LogoutDeadline {
  return () => {
    const controller = new AbortController();
    const timer = clockTimer(clock, BACKCHANNEL_LOGOUT_TIMEOUT_MS, () => controller.abort(new DOMException('back-channel logout timed out', 'TimeoutError')));
    return { signal: controller.signal, cancel: () => timer.cancel() };
  };
}

export interface BackchannelLogouts {
  /**
   * Starts sending the logout tokens of a session that ended and returns at once: the operator's
   * or the user's answer never waits for an app's endpoint (one that hangs holds its request up
   * to its deadline). Every app's request goes out in parallel.
   */
  sessionEnded(session: EndedSession): void;
  /** Resolves once every logout started so far has been sent or given up (shutdown waits for them). */
  settled(): Promise<void>;
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
 * sign-out (src/oidc/events.ts: `back-channel logout not delivered`, the app's client id, never
 * the token). A logout that could not even be started (the app could not be read: a store
 * outage) is logged the same way. Sent after the session is gone, in the background.
 */
export function backchannelLogouts(provider: () => Provider | undefined, logger: LogoutLogger): BackchannelLogouts {
  const inFlight = new Set<Promise<void>>();

  async function send({ accountId, authorizations }: EndedSession): Promise<void> {
    const current = provider();
    if (current === undefined) {
      logger.warn({ clientIds: Object.keys(authorizations) }, 'back-channel logout not delivered (the provider is not running)');
      return;
    }
    await Promise.all(
      Object.entries(authorizations).map(async ([clientId, { sid }]) => {
        if (typeof sid !== 'string') return;
        let client: Awaited<ReturnType<typeof current.Client.find>>;
        try {
          client = await current.Client.find(clientId);
        } catch (error) {
          logger.warn({ err: error, clientId }, 'back-channel logout not delivered');
          return;
        }
        if (client?.backchannelLogoutUri === undefined) return;
        await (client as unknown as SendsLogoutTokens).backchannelLogout(accountId, sid).then(
          () => current.emit('backchannel.success', undefined, client, accountId, sid),
          (error: unknown) => current.emit('backchannel.error', undefined, error, client, accountId, sid),
        );
      }),
    );
  }

  return {
    sessionEnded(session) {
      const sending = send(session)
        .catch((error: unknown) => logger.warn({ err: error }, 'back-channel logout not delivered'))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
}
