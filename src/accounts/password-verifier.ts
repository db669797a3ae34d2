import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { verifySync } from '@node-rs/argon2';

/**
 * Verifies a password against a stored hash in any format Gatehouse keeps:
 *
 * - PHC argon2 (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, also argon2i/argon2d): Gatehouse's own
 *   hashes, and Keycloak's argon2 credentials rewritten into this form at import.
 * - `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (also `pbkdf2-sha512`, `pbkdf2-sha1`; salt
 *   and hash in standard base64): Keycloak's `pbkdf2-sha256`, `pbkdf2-sha512` and `pbkdf2`
 *   (HMAC-SHA1) credentials, kept as they were imported. The derived key is as long as the
 *   stored hash (Keycloak derives 512 bits).
 *
 * Anything else (or a malformed hash) verifies nothing, indistinguishable from a wrong password.
 * Non-argon2id hashes are replaced by argon2id on the first successful sign-in (needsRehash).
 * Runs inside the hashing workers (hash-worker.ts): PBKDF2 at Keycloak's iteration counts costs
 * as much CPU as argon2.
 */
export function verifyStoredHash(hash: string, password: string): boolean {
  try {
    if (hash.startsWith('$argon2')) return verifySync(hash, password);
    const pbkdf2 = parsePbkdf2Hash(hash);
    if (pbkdf2 === undefined) return false;
    const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), pbkdf2.salt, pbkdf2.iterations, pbkdf2.hash.length, pbkdf2.digest);
    return timingSafeEqual(derived, pbkdf2.hash);
  } catch {
    return false;
  }
}

const PBKDF2 = /^\$pbkdf2-(sha1|sha256|sha512)\$i=(\d{1,9})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
/** Keycloak's own bounds are far inside these; anything outside is a corrupt record. */
const MAX_ITERATIONS = 10_000_000;

export interface Pbkdf2Hash {
  readonly digest: 'sha1' | 'sha256' | 'sha512';
  readonly iterations: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export function parsePbkdf2Hash(value: string): Pbkdf2Hash | undefined {
  const match = PBKDF2.exec(value);
  if (match === null) return undefined;
  const iterations = Number(match[2]);
  const salt = Buffer.from(match[3]!, 'base64');
  const hash = Buffer.from(match[4]!, 'base64');
  if (iterations < 1 || iterations > MAX_ITERATIONS || salt.length === 0 || hash.length < 16 || hash.length > 128) return undefined;
  return { digest: match[1] as Pbkdf2Hash['digest'], iterations, salt, hash };
}

export function formatPbkdf2Hash({ digest, iterations, salt, hash }: Pbkdf2Hash): string {
  return `$pbkdf2-${digest}$i=${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
