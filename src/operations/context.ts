import type { AuditActor } from '../observability/audit-log.ts';

/** Who asks, and under which request id, for the audit trail. */
export interface OperationContext {
  readonly actor: AuditActor;
  readonly requestId?: string | undefined;
}
