import type { AuditEventType } from './audit-types.ts';

// What callers hand the audit trail, in a file of its own so that the trail's helpers
// (issuance-counts.ts) can name it without importing the trail back.

/**
 * Who did it: a user (id + username), a client (id = client_id), the CLI (id = the operating
 * system user), Gatehouse itself (`system`), an initial access token that registered a client
 * (id = a digest of it, src/oidc/registration-audit.ts), or nobody known (`anonymous`, a failed
 * sign-in with an unknown username).
 */
export interface AuditActor {
  readonly type: 'user' | 'client' | 'cli' | 'system' | 'initial_access_token' | 'anonymous';
  readonly id: string | null;
  /** Set for users. */
  readonly username?: string | null | undefined;
}

export interface AuditTarget {
  readonly type: string;
  readonly id: string | null;
}

export interface AuditInput {
  readonly type: AuditEventType;
  readonly actor: AuditActor;
  /** Defaults to the actor's id when the actor is a client. */
  readonly client?: string | null | undefined;
  readonly target?: AuditTarget | null | undefined;
  /** Defaults to the current request's address. */
  readonly ip?: string | null | undefined;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
  readonly at?: Date | undefined;
  readonly requestId?: string | null | undefined;
}
