import { hash } from 'node:crypto';

/**
 * oidc-provider finds the Client instance for a client record by hashing the record's JSON on
 * every lookup (`Client.find`: SHA-256 of `JSON.stringify(record)` — its own cache of built
 * clients is keyed by that hash), i.e. on every token, userinfo and introspection request.
 * Gatehouse hands it the same cached record object until the client changes (src/oidc/storage.ts),
 * so the record's JSON is computed here once, when it is cached, and the record answers
 * `JSON.stringify` with its fingerprint (a non-enumerable `toJSON`: SHA-256 of that JSON) — a
 * few dozen bytes to stringify and hash instead of the whole record. Records with the same
 * content keep one fingerprint; any change makes another, so the library builds a new Client,
 * as it would have. The record is frozen (the fingerprint must keep matching what it holds);
 * the library copies what it needs from it and never writes to it. Nothing else serialises
 * the cached record (a log line would show the fingerprint, never the client's secret).
 */
export function withJsonFingerprint<T extends object>(record: T): Readonly<T> {
  const fingerprint = `gatehouse-client:${hash('sha256', JSON.stringify(record), 'base64url')}`;
  Object.defineProperty(record, 'toJSON', { value: () => fingerprint, enumerable: false });
  return Object.freeze(record);
}
