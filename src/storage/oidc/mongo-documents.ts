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
  /** On a session's uid copy: the id of the session it copies. */
  sessionId?: string;
}

/** The single-use gate: inserting `<Model>:<id>` succeeds exactly once (unique `_id`). */
export interface ConsumptionDocument {
  _id: string;
  atMs: number;
  expiresAt?: Date;
}

export const CONSUMPTION_COLLECTION = 'oidc_consumption';

/**
 * A refresh token's rotation, stored beside the tokens (`oidc_refresh_token`) under
 * `rotated:<old token id>` and written in the same `insert` command as the successor: its unique
 * `_id` makes the rotation single use on every MongoDB-wire server (FerretDB v1 included, which
 * has no compare-and-set), and its existence is what makes the old token read as consumed. It
 * expires with the old token and carries the grant (revoked with it), but no account or client:
 * listings by those never see it. Refresh token ids are nanoids, which have no `:`.
 */
export interface RotationMarker {
  _id: string;
  /** When the first rotation completed; the reuse window counts from here. */
  rotatedAtMs: number;
  successorId?: string;
  expiresAt?: Date;
  grantId?: string;
}

export const rotationMarkerId = (id: string) => `rotated:${id}`;
export const isRotationMarkerId = (id: string) => id.startsWith('rotated:');

const LIFTED = ['grantId', 'uid', 'userCode'] as const;
/**
 * The models whose documents are queried by user or by client (revocation.ts: grants and sessions
 * by `accountId`; grants, machine tokens and registration tokens by `clientId`). A grant member's
 * user and client stay in its payload alone: its revocation goes through its grant (`grantId`),
 * and each lifted field is one more key and value FerretDB v1 stores (with its type) in every
 * document — a refresh's completion inserts two (docs/PERFORMANCE.md, perf19r).
 */
const ACCOUNT_LIFTED: ReadonlySet<string> = new Set(['Session', 'Grant']);
const CLIENT_LIFTED: ReadonlySet<string> = new Set(['Grant', 'ClientCredentials', 'RegistrationAccessToken']);

export function toDocument(id: string, payload: AdapterPayload, expiresIn: number | undefined, nowMs: number, model: string): OidcDocument {
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
  if (ACCOUNT_LIFTED.has(model) && typeof rest.accountId === 'string') doc.accountId = rest.accountId;
  if (CLIENT_LIFTED.has(model) && typeof rest.clientId === 'string') doc.clientId = rest.clientId;
  return doc;
}

export function isExpired(doc: { expiresAt?: Date | undefined }, nowMs: number): boolean {
  return doc.expiresAt !== undefined && doc.expiresAt.getTime() <= nowMs;
}

/**
 * oidc-provider finds a session by its id (the cookie) and by its uid (every token bound to the
 * session, lib/models/token_helpers.js); the id changes at each sign-in, the uid never. So a
 * session is stored twice in its collection, in one command: under its id, and as a copy under
 * `uid:<uid>` — both lookups are then primary-key reads, one round trip each, and on a sharded
 * cluster each goes to one shard. The copy carries the payload, the expiry (swept and expired
 * like the session) and the id it copies, but neither `uid` nor `accountId`: lookups and
 * listings by those fields see each session once. Session ids are nanoids, which have no `:`.
 */
export const uidCopyId = (uid: string) => `uid:${uid}`;
export const isUidCopyId = (id: string) => id.startsWith('uid:');

export function uidCopyOf(doc: OidcDocument, uid: string): OidcDocument {
  const copy: OidcDocument = { _id: uidCopyId(uid), payload: doc.payload, sessionId: doc._id };
  if (doc.expiresAt !== undefined) copy.expiresAt = doc.expiresAt;
  return copy;
}
