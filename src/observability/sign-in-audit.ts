import type { AuditActor, AuditSink } from './audit-trail.ts';

/** The accounts layer's AuthenticationEvent, as far as the audit reads it (observability/ imports nothing from accounts/). */
type AuthenticationEvent = (
  | { readonly outcome: 'success'; readonly userId: string; readonly username: string; readonly clientId: string | null; readonly ip: string; readonly at: Date }
  | {
      readonly outcome: 'failure';
      readonly reason: string;
      readonly userId: string | null;
      readonly username: string | null;
      readonly clientId: string | null;
      readonly ip: string;
      readonly at: Date;
      readonly lockedForSeconds: number | null;
    }
) & { readonly grantType?: string | undefined };

/**
 * The accounts layer's onAuthentication hook as audit events: who (user id and username, or
 * anonymous for a login that names nobody), to which client, from which address.
 */
export function auditAuthentication(audit: AuditSink): (event: AuthenticationEvent) => void {
  return (event) => {
    const actor: AuditActor = event.userId === null ? { type: 'anonymous', id: null } : { type: 'user', id: event.userId, username: event.username };
    const common = { at: event.at, actor, client: event.clientId, ip: event.ip };
    // Sign-ins through the password grant say so; the hosted page's carry no grantType.
    const via = event.grantType === undefined ? {} : { grantType: event.grantType };
    if (event.outcome === 'success') {
      audit.record({ ...common, type: 'signin.success', details: via });
      return;
    }
    audit.record({ ...common, type: 'signin.failure', details: { reason: event.reason, ...via } });
    if (event.lockedForSeconds !== null && event.reason !== 'locked') {
      audit.record({ ...common, type: 'signin.lockout', details: { lockedForSeconds: event.lockedForSeconds, ...via } });
    }
  };
}
