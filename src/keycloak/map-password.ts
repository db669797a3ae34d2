import { formatPbkdf2Hash } from '../accounts/password-verifier.ts';
import { first, isObject, jsonField, text, type Json } from './export-json.ts';

/**
 * Keycloak password credentials as hashes Gatehouse verifies: `argon2` becomes a PHC argon2
 * string; `pbkdf2-sha256`, `pbkdf2-sha512` and `pbkdf2` (SHA-1) become
 * `$pbkdf2-<digest>$i=…$salt$hash` (src/accounts/password-verifier.ts). Both verify at sign-in
 * and are replaced by argon2id on the first successful one.
 */

/** Stored for users whose Keycloak password cannot be kept: verifies nothing (the user resets it). */
export const NO_USABLE_PASSWORD = '!keycloak-import:no-usable-password';

const unpadded = (base64: string) => base64.replace(/=+$/, '');

/** A Keycloak password credential as a hash string Gatehouse verifies; undefined when the algorithm has no verifier. */
export function keycloakPasswordHash(credential: Json): { hash: string; algorithm: string } | undefined {
  const secret = jsonField(credential.secretData);
  const data = jsonField(credential.credentialData);
  const algorithm = text(data.algorithm) ?? 'pbkdf2-sha256';
  const value = text(secret.value);
  const salt = text(secret.salt);
  const iterations = Number(data.hashIterations);
  if (value === undefined || salt === undefined) return undefined;
  if (algorithm === 'argon2') {
    const extra = isObject(data.additionalParameters) ? data.additionalParameters : {};
    const type = first(extra.type) ?? 'id';
    const version = first(extra.version) === '1.0' ? 16 : 19;
    const memory = Number(first(extra.memory) ?? 7168);
    const parallelism = Number(first(extra.parallelism) ?? 1);
    if (!['id', 'i', 'd'].includes(type) || !Number.isInteger(iterations) || !Number.isInteger(memory) || !Number.isInteger(parallelism)) return undefined;
    return { algorithm, hash: `$argon2${type}$v=${version}$m=${memory},t=${iterations},p=${parallelism}$${unpadded(salt)}$${unpadded(value)}` };
  }
  const digest = ({ 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512', pbkdf2: 'sha1' } as const)[algorithm as 'pbkdf2'];
  if (digest === undefined || !Number.isInteger(iterations) || iterations < 1) return undefined;
  return { algorithm, hash: formatPbkdf2Hash({ digest, iterations, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(value, 'base64') }) };
}
