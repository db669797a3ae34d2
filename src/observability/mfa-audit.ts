import type { FactorEvent } from '../mfa/factors.ts';
import type { PasskeyEvent } from '../mfa/passkeys.ts';
import type { Audit } from './audit.ts';

/** The second-factor service's events as audit events (never a code or a secret). */
export function auditFactors(audit: Audit): (event: FactorEvent) => void {
  return (event) => {
    const actor = { type: 'user' as const, id: event.userId };
    const target = { type: 'user', id: event.userId };
    switch (event.type) {
      case 'mfa.enrolled':
        return audit.record({ type: 'mfa.enrolled', actor, target, details: { method: event.method, ip: event.ip } });
      case 'mfa.verified':
        return audit.record({
          type: event.method === 'recovery_code' ? 'mfa.recovery_code_used' : 'mfa.verified',
          actor,
          target,
          details: { method: event.method, ip: event.ip, recoveryCodesLeft: event.recoveryCodesLeft },
        });
      case 'mfa.failed':
        audit.record({ type: 'mfa.failure', actor, target, details: { reason: event.reason, ip: event.ip } });
        if (event.lockedForSeconds !== null && event.reason !== 'locked') {
          audit.record({ type: 'signin.lockout', actor, target, details: { ip: event.ip, lockedForSeconds: event.lockedForSeconds } });
        }
        return;
      case 'mfa.recovery_codes_created':
        return audit.record({ type: 'mfa.recovery_codes_created', actor, target });
    }
  };
}

/** Passkey registrations, uses and failures as audit events (the credential id, never key material). */
export function auditPasskeys(audit: Audit): (event: PasskeyEvent) => void {
  return (event) => {
    const actor = event.userId === null ? { type: 'anonymous' as const, id: null } : { type: 'user' as const, id: event.userId };
    const target = event.userId === null ? null : { type: 'user', id: event.userId };
    const details: Record<string, unknown> = { passkey: event.passkey };
    if (event.type === 'passkey.used') details.userVerified = event.userVerified;
    const type = { 'passkey.registered': 'mfa.enrolled', 'passkey.used': 'mfa.verified', 'passkey.failed': 'mfa.failure' }[event.type];
    audit.record({ type, actor, target, details: { method: 'passkey', ...details, ...(event.type === 'passkey.failed' ? { reason: 'passkey_refused' } : {}) } });
  };
}
