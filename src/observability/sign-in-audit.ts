import type { Audit } from './audit.ts';

/** The accounts layer's AuthenticationEvent, as far as the audit reads it. */
type AuthenticationEvent =
  | { readonly outcome: 'success'; readonly userId: string; readonly ip: string; readonly at: Date }
  | { readonly outcome: 'failure'; readonly reason: string; readonly userId: string | null; readonly ip: string; readonly at: Date; readonly lockedForSeconds: number | null };

/** The accounts layer's onAuthentication hook as audit events (the reason stays internal). */
export function auditAuthentication(audit: Audit): (event: AuthenticationEvent) => void {
  return (event) => {
    if (event.outcome === 'success') {
      audit.record({ type: 'signin.success', at: event.at, actor: { type: 'user', id: event.userId }, details: { ip: event.ip } });
      return;
    }
    const actor = event.userId === null ? { type: 'anonymous' as const, id: null } : { type: 'user' as const, id: event.userId };
    audit.record({ type: 'signin.failure', at: event.at, actor, details: { reason: event.reason, ip: event.ip } });
    if (event.lockedForSeconds !== null && event.reason !== 'locked') {
      audit.record({ type: 'signin.lockout', at: event.at, actor, details: { ip: event.ip, lockedForSeconds: event.lockedForSeconds } });
    }
  };
}
