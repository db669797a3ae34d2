import type { AuthenticationEvent } from '../accounts/accounts.ts';
import type { AuditActor, AuditSink } from './audit-trail.ts';

/**
 * The accounts layer's onAuthentication hook as audit events: who (user id and username, or
 * anonymous for a login that names nobody), to which client, from which address.
 */
export function auditAuthentication(audit: AuditSink): (event: AuthenticationEvent) => void {
  return (event) => {
    const actor: AuditActor = event.userId === null ? { type: 'anonymous', id: null } : { type: 'user', id: event.userId, username: event.username };
    const common = { at: event.at, actor, client: event.clientId, ip: event.ip };
    if (event.outcome === 'success') {
      audit.record({ ...common, type: 'signin.success' });
      return;
    }
    audit.record({ ...common, type: 'signin.failure', details: { reason: event.reason } });
    if (event.lockedForSeconds !== null && event.reason !== 'locked') {
      audit.record({ ...common, type: 'signin.lockout', details: { lockedForSeconds: event.lockedForSeconds } });
    }
  };
}
