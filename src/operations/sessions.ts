import { originalClientId, originalGrantId } from '../oidc/grants/exchanged-grant-ids.ts';
import type { GatehouseServices } from '../services.ts';
import type { GrantSummary, SessionSummary } from '../storage/oidc/revocation.ts';
import type { OperationContext } from './context.ts';
import { notFound } from './errors.ts';

export function showSession(session: SessionSummary) {
  return {
    id: session.id,
    login_at: session.loginAt?.toISOString() ?? null,
    expires_at: session.expiresAt?.toISOString() ?? null,
    clients: session.clients,
  };
}

/** How many sign-in sessions are in force (GET /stats/sessions). */
export function showSessionCount(active: number) {
  return { active };
}

/**
 * A grant as the admin API, the CLI and the console show it. `exchanged_from`: for a token
 * exchange's grant (RFC 8693), the grant and client of the token it was exchanged from — it is
 * revoked with that grant — so an exchanging client's access through an app is told apart from its
 * own sign-in; null for any other grant.
 */
export function showGrant(grant: GrantSummary) {
  const origin = originalGrantId(grant.id);
  return {
    id: grant.id,
    client_id: grant.clientId,
    exchanged_from: origin === undefined ? null : { grant_id: origin, client_id: originalClientId(grant.id) ?? null },
    scope: grant.scope,
    resources: grant.resources,
    issued_at: grant.issuedAt?.toISOString() ?? null,
    expires_at: grant.expiresAt?.toISOString() ?? null,
  };
}

/** A user's sign-in sessions and grants: list and end them (each audited). */
export function sessionOperations(services: GatehouseServices) {
  const { accounts, audit, revocation } = services;
  const target = (id: string) => ({ type: 'user', id });

  async function existing(userId: string): Promise<void> {
    if ((await accounts.findById(userId)) === undefined) throw notFound('user_not_found', userId);
  }

  return {
    /** Sign-in sessions in force across all users. */
    count: () => revocation.countSessions(),

    async list(userId: string): Promise<SessionSummary[]> {
      await existing(userId);
      return revocation.listSessions(userId);
    },

    async grants(userId: string): Promise<GrantSummary[]> {
      await existing(userId);
      return revocation.listGrants(userId);
    },

    /** Ends one session and revokes the grants made in it. */
    async revoke(ctx: OperationContext, userId: string, sessionId: string): Promise<void> {
      if (!(await revocation.revokeSession(userId, sessionId))) throw notFound('session_not_found', sessionId);
      await audit.write({ ...ctx, type: 'session.revoked', target: target(userId), details: { session: sessionId } });
    },

    async revokeGrant(ctx: OperationContext, grantId: string, userId?: string): Promise<void> {
      if (!(await revocation.revokeGrant(grantId, userId))) throw notFound('grant_not_found', grantId);
      await audit.write({ ...ctx, type: 'grant.revoked', target: { type: 'grant', id: grantId }, details: userId === undefined ? {} : { user: userId } });
    },
  };
}
