import type { Logger } from './logger.ts';
import { currentRequestId } from './request-context.ts';

export interface AuditParty {
  readonly type: 'user' | 'client' | 'system' | 'anonymous';
  readonly id: string | null;
}

/** One audit event, in the shape of the `audit_events` collection. */
export interface AuditEvent {
  readonly at: Date;
  /** e.g. `signin.failure`, `token.issued`, `grant.revoked`. */
  readonly type: string;
  readonly actor: AuditParty;
  readonly target: { readonly type: string; readonly id: string | null } | null;
  /** Never credentials: reasons, grant types, ids, IP addresses. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly requestId: string | null;
}

export type AuditInput = Omit<AuditEvent, 'at' | 'requestId' | 'target' | 'details'> &
  Partial<Pick<AuditEvent, 'at' | 'requestId' | 'target' | 'details'>>;

/** Where protocol and sign-in code reports what happened. `record` never blocks and never throws. */
export interface Audit {
  record(event: AuditInput): void;
}

/** Fills in the time and the current request's id. */
export function completeEvent(input: AuditInput, now: () => Date = () => new Date()): AuditEvent {
  return {
    at: input.at ?? now(),
    type: input.type,
    actor: input.actor,
    target: input.target ?? null,
    details: input.details ?? {},
    requestId: input.requestId ?? currentRequestId() ?? null,
  };
}

/** Audit events as log lines marked `audit: true` (ship them with the rest of the logs). */
export function logAudit(logger: Logger): Audit {
  const audit = logger.child({ audit: true });
  return {
    record(input) {
      const event = completeEvent(input);
      audit.info({ type: event.type, actor: event.actor, target: event.target, details: event.details }, event.type);
    },
  };
}

/** Hands every event to each audit sink; one failing sink does not stop the others. */
export function fanOutAudit(sinks: readonly Audit[]): Audit {
  return {
    record(input) {
      const event = completeEvent(input);
      for (const sink of sinks) {
        try {
          sink.record(event);
        } catch {
          // Auditing must never change a response.
        }
      }
    },
  };
}
