import { GatehouseError } from './gatehouse-error.ts';

/**
 * A request carried text the store cannot hold: FerretDB on PostgreSQL (jsonb) refuses every
 * command with a NUL character in a string ("unsupported Unicode escape sequence", SQLSTATE
 * 22P05), a lookup as much as a write. No identifier Gatehouse stores holds one, so such a
 * value names nothing: 400 `invalid_request`, never a 500. Shaped like oidc-provider's own
 * errors too (statusCode, message = OAuth error code, error_description), so when an adapter
 * throws it the provider answers `400 invalid_request` (JSON, or its error page for browsers).
 */
export class UnstorableTextError extends GatehouseError {
  readonly statusCode = 400;
  readonly error = 'invalid_request';
  readonly error_description = 'a parameter holds a control character (NUL), which no valid value contains';

  constructor(options?: { cause?: unknown }) {
    super('invalid_request', { status: 400, code: 'invalid_request', expose: true, cause: options?.cause });
  }

  override get description(): string {
    return this.error_description;
  }
}

/** Whether a store refused a command for a NUL character in it (walking `cause` chains). */
export function isUnstorableText(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    if (current instanceof UnstorableTextError) return true;
    const { name, message, cause } = current as { name?: unknown; message?: unknown; cause?: unknown };
    if (typeof name === 'string' && name.startsWith('Mongo') && typeof message === 'string' && (message.includes('unsupported Unicode escape sequence') || message.includes('SQLSTATE 22P05'))) {
      return true;
    }
    current = cause;
  }
  return false;
}
