import type { AuditActor, AuditSink } from '../observability/audit-trail.ts';
import type { AuthenticationEvent } from './password-authentication.ts';

/**
 * The onAuthentication hook (password-authentication.ts) as audit events: who (user id and username, or
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
