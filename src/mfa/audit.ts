import type { FactorEvent } from './factors.ts';
import type { PasskeyEvent } from './passkeys.ts';
import type { AuditActor, AuditSink } from '../observability/audit-trail.ts';

/** The second-factor service's events as audit events (never a code or a secret). */
export function auditFactors(audit: AuditSink): (event: FactorEvent) => void {
  return (event) => {
    const actor: AuditActor = { type: 'user', id: event.userId };
    const target = { type: 'user', id: event.userId };
    switch (event.type) {
      case 'mfa.enrolled':
        return audit.record({ type: 'mfa.enrolled', actor, target, ip: event.ip, details: { method: event.method } });
      case 'mfa.verified':
        return audit.record({
          type: event.method === 'recovery_code' ? 'mfa.recovery_code_used' : 'mfa.verified',
          actor,
          target,
          ip: event.ip,
          details: { method: event.method, recoveryCodesLeft: event.recoveryCodesLeft },
        });
      case 'mfa.failed':
        audit.record({ type: 'mfa.failure', actor, target, ip: event.ip, details: { reason: event.reason } });
        if (event.lockedForSeconds !== null && event.reason !== 'locked') {
          audit.record({ type: 'signin.lockout', actor, target, ip: event.ip, details: { lockedForSeconds: event.lockedForSeconds } });
        }
        return;
      case 'mfa.recovery_codes_created':
        return audit.record({ type: 'mfa.recovery_codes_created', actor, target });
    }
  };
}

/** Passkey registrations, uses and failures as audit events (the credential id, never key material). */
export function auditPasskeys(audit: AuditSink): (event: PasskeyEvent) => void {
  return (event) => {
    const actor: AuditActor = event.userId === null ? { type: 'anonymous', id: null } : { type: 'user', id: event.userId };
    const target = event.userId === null ? null : { type: 'user', id: event.userId };
    const details: Record<string, unknown> = { method: 'passkey', passkey: event.passkey };
    if (event.type === 'passkey.used') details.userVerified = event.userVerified;
    if (event.type === 'passkey.failed') details.reason = event.reason === 'possible_clone' ? 'passkey_possible_clone' : 'passkey_refused';
    const type = ({ 'passkey.registered': 'mfa.enrolled', 'passkey.used': 'mfa.verified', 'passkey.failed': 'mfa.failure' } as const)[event.type];
    audit.record({ type, actor, target, details });
  };
}
