import type { AuthenticationEvent } from '../accounts/accounts.ts';
import type { Audit } from './audit.ts';

/** The accounts layer's onAuthentication hook as audit events (the reason stays internal). */
export function auditAuthentication(audit: Audit): (event: AuthenticationEvent) => void {
  return (event) => {
    // Sign-ins through the password grant say so; the hosted page's carry no grantType.
    const via = event.grantType === undefined ? {} : { grantType: event.grantType };
    if (event.outcome === 'success') {
      audit.record({ type: 'signin.success', at: event.at, actor: { type: 'user', id: event.userId }, details: { ip: event.ip, ...via } });
      return;
    }
    const actor = event.userId === null ? { type: 'anonymous' as const, id: null } : { type: 'user' as const, id: event.userId };
    audit.record({ type: 'signin.failure', at: event.at, actor, details: { reason: event.reason, ip: event.ip, ...via } });
    if (event.lockedForSeconds !== null && event.reason !== 'locked') {
      audit.record({ type: 'signin.lockout', at: event.at, actor, details: { ip: event.ip, lockedForSeconds: event.lockedForSeconds, ...via } });
    }
  };
}
