import type { AuditInput } from '../../observability/audit-trail.ts';
import type { DependentGrantsRevoked } from '../../storage/oidc/dependent-grants.ts';

/*
 * The audit trail of removed grants, one rule for plain and exchanged grants (README, Audit
 * events): a removal's own event names what it covers; a grant that went because another grant
 * went, made to another client (a token exchange's), has its own `grant.revoked`.
 */

/**
 * The details of a grant's `grant.revoked` event, plain or exchanged alike, whoever revoked it:
 * the user, and for a token exchange's grant the grant it was exchanged from (null: unknown).
 */
export function revokedGrantDetails(userId: string, exchangedFrom: string | null | undefined): Record<string, unknown> {
  return { user: userId, ...(exchangedFrom === undefined ? {} : { exchangedFrom }) };
}

/**
 * Each exchanged grant removed because a grant it stood on was (dependent-grants.ts): its own
 * `grant.revoked`, actor `system`, `revokedWith` the grant whose removal took it — the event of
 * that removal (same request id) says by whom.
 */
export function dependentGrantsRevokedEvents({ grantId, accountId, ids, parents }: DependentGrantsRevoked): AuditInput[] {
  return ids.map((id) => ({
    actor: { type: 'system', id: null },
    type: 'grant.revoked',
    target: { type: 'grant', id },
    details: { ...revokedGrantDetails(accountId, parents.get(id) ?? null), revokedWith: grantId },
  }));
}
