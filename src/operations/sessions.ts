import { exchangeOrigins, type ExchangeOrigin } from '../oidc/grants/exchanged-grant-ids.ts';
import type { GatehouseServices } from '../services.ts';
import { revokedGrantDetails } from '../oidc/grants/exchange-audit.ts';
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

/** A user's grant, with where it came from for a token exchange's (RFC 8693; null for any other grant). */
export type ListedGrant = GrantSummary & { readonly exchangedFrom: ExchangeOrigin | null };

/** The user's grants with the origin of each exchanged one, found among them (exchange-origin ids name their parent by a digest). */
export function withOrigins(grants: readonly GrantSummary[]): ListedGrant[] {
  const origins = exchangeOrigins(grants);
  return grants.map((grant) => ({ ...grant, exchangedFrom: origins.get(grant.id) ?? null }));
}

/**
 * A grant as the admin API, the CLI and the console show it. `exchanged_from`: for a token
 * exchange's grant (RFC 8693), the grant whose token was exchanged — the immediate one, for an
 * exchange of an exchanged token; null once it is gone — and its client, and `root_grant_id`, the
 * first grant of the chain (revoking any of them revokes this one), so an exchanging client's
 * access through an app is told apart from its own sign-in; null for any other grant.
 */
export function showGrant(grant: ListedGrant) {
  const from = grant.exchangedFrom;
  return {
    id: grant.id,
    client_id: grant.clientId,
    exchanged_from: from === null ? null : { grant_id: from.grantId, client_id: from.clientId, root_grant_id: from.rootGrantId },
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

    async grants(userId: string): Promise<ListedGrant[]> {
      await existing(userId);
      return withOrigins(await revocation.listGrants(userId));
    },

    /** Ends one session and revokes the grants made in it. */
    async revoke(ctx: OperationContext, userId: string, sessionId: string): Promise<void> {
      if (!(await revocation.revokeSession(userId, sessionId))) throw notFound('session_not_found', sessionId);
      await audit.write({ ...ctx, type: 'session.revoked', target: target(userId), details: { session: sessionId } });
    },

    async revokeGrant(ctx: OperationContext, grantId: string, userId?: string): Promise<void> {
      const removed = await revocation.removeGrant(grantId, userId);
      if (removed === undefined) throw notFound('grant_not_found', grantId);
      await audit.write({ ...ctx, type: 'grant.revoked', target: { type: 'grant', id: grantId }, details: revokedGrantDetails(removed.accountId, removed.dependedOn) });
    },
  };
}
