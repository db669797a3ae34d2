import type { AdapterPayload } from 'oidc-provider';

/**
 * One stored oidc-provider payload. The payload itself is kept as a JSON string: its keys are
 * not ours (client ids such as `app.example.com` become keys of Session.authorizations, and
 * MongoDB forbids `.` and leading `$` in field names — FerretDB rejects them outright), and a
 * string round-trips every key and value exactly. The fields the database must query are
 * lifted out next to it.
 */
export interface OidcDocument {
  _id: string;
  payload: string;
  expiresAt?: Date;
  /** Epoch seconds, as oidc-provider reports it. */
  consumed?: number;
  /** Milliseconds of the first consumption; the reuse window counts from here. */
  consumedAtMs?: number;
  grantId?: string;
  uid?: string;
  userCode?: string;
  accountId?: string;
  clientId?: string;
}

/** The single-use gate: inserting `<Model>:<id>` succeeds exactly once (unique `_id`). */
export interface ConsumptionDocument {
  _id: string;
  atMs: number;
  expiresAt?: Date;
}

export const CONSUMPTION_COLLECTION = 'oidc_consumption';

const LIFTED = ['grantId', 'uid', 'userCode', 'accountId', 'clientId'] as const;

export function toDocument(id: string, payload: AdapterPayload, expiresIn: number | undefined, nowMs: number): OidcDocument {
  const { consumed, ...rest } = payload as AdapterPayload & { consumed?: unknown };
  const doc: OidcDocument = { _id: id, payload: JSON.stringify(rest) };
  if (typeof expiresIn === 'number') doc.expiresAt = new Date(nowMs + expiresIn * 1000);
  if (typeof consumed === 'number') {
    doc.consumed = consumed;
    doc.consumedAtMs = consumed * 1000;
  }
  for (const field of LIFTED) {
    const value = (rest as Record<string, unknown>)[field];
    if (typeof value === 'string') doc[field] = value;
  }
  return doc;
}

export function isExpired(doc: { expiresAt?: Date | undefined }, nowMs: number): boolean {
  return doc.expiresAt !== undefined && doc.expiresAt.getTime() <= nowMs;
}
