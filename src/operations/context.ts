import type { AuditActor } from '../observability/audit-trail.ts';

/**
 * Who asks, for the audit trail: the admin user (id and username) or admin client behind an
 * admin API request, or the operating-system user running a CLI command. The request id and
 * the caller's address come from the request context (src/observability/request-context.ts).
 */
export interface OperationContext {
  readonly actor: AuditActor;
  /** The client the request came through (an admin user signs in to the admin API with one); none for the CLI. */
  readonly client?: string | undefined;
  readonly requestId?: string | undefined;
}
