import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

/**
 * Verifying Gatehouse's own JWT access tokens where they come back — introspection, revocation,
 * userinfo (src/oidc/jwt-records.ts) and the admin API's bearer tokens (src/admin/auth.ts): over
 * the published keys, and remembered, as the same token comes back again and again.
 */

type KeySetFunction = ReturnType<typeof createLocalJWKSet>;

/** The current public keys as a verifier, rebuilt only when the published set changes, and that set's fingerprint. */
export function currentKeys(publicJwks: () => JSONWebKeySet): () => { keys: KeySetFunction; fingerprint: string } {
  let fingerprint = '';
  let keys: KeySetFunction | undefined;
  let seen: JSONWebKeySet | undefined;
  return () => {
    const jwks = publicJwks();
    // The same set object as last time (publicJwks is memoised per key set): nothing to compare.
    if (jwks === seen && keys !== undefined) return { keys, fingerprint };
    seen = jwks;
    const current = JSON.stringify(jwks.keys.map((key) => [key.kid, key.alg, key.n ?? key.x]));
    if (keys === undefined || current !== fingerprint) {
      keys = createLocalJWKSet(jwks);
      fingerprint = current;
    }
    return { keys, fingerprint };
  };
}

/** A verifier over the current public keys, rebuilt only when the published set changes. */
export function localKeys(publicJwks: () => JSONWebKeySet): () => KeySetFunction {
  const current = currentKeys(publicJwks);
  return () => current().keys;
}

export type VerifiedPayload = Readonly<JWTPayload & { jti: string; exp: number }>;

/** Bytes of verified tokens one verifier remembers (token text and its decoded claims, ≈ 2 × the token's length). */
export const VERIFIED_MEMORY_BYTES = 4 * 1024 * 1024;

/**
 * Verifies Gatehouse's JWT access tokens: 'not_a_jwt' for anything that is not a JWT (opaque
 * tokens), undefined for a JWT that is not ours, altered or expired, else its claims. A token
 * that verified is remembered (bounded by bytes, oldest first) with the fingerprint of the key
 * set that verified it: resource servers introspect the same token again and again, and the
 * signature check is most of what introspecting a JWT costs. A remembered token counts only while
 * the published keys are the same set and the claims' own time limits (exp, nbf) still hold — the
 * checks jwtVerify makes that can change with time; failures are never remembered.
 */
export interface Verifier {
  (token: string): Promise<VerifiedPayload | undefined | 'not_a_jwt'>;
  /**
   * The claims of a token this verifier verified before and still counts (the same key set, the
   * claims' time limits holding): what the call would answer for it, without a promise; undefined
   * when the call must decide.
   */
  remembered(token: string): VerifiedPayload | undefined;
}

export function verifier(issuer: string, keys: () => { keys: KeySetFunction; fingerprint: string }, now: () => number = Date.now): Verifier {
  const verified = new Map<string, { payload: VerifiedPayload; fingerprint: string; bytes: number }>();
  let bytes = 0;
  const forget = (token: string) => {
    const entry = verified.get(token);
    if (entry === undefined) return;
    verified.delete(token);
    bytes -= entry.bytes;
  };
  const remembered = (token: string, current: { fingerprint: string }): VerifiedPayload | undefined => {
    const known = verified.get(token);
    if (known === undefined) return undefined;
    const seconds = Math.floor(now() / 1000);
    if (known.fingerprint === current.fingerprint && known.payload.exp > seconds && (typeof known.payload.nbf !== 'number' || known.payload.nbf <= seconds)) return known.payload;
    forget(token);
    return undefined;
  };
  const check = async (token: string): Promise<VerifiedPayload | undefined | 'not_a_jwt'> => {
    // Opaque tokens (userinfo's usual case) are answered before the key set is looked at.
    if (!token.includes('.')) return 'not_a_jwt';
    const current = keys();
    const known = remembered(token, current);
    if (known !== undefined) return known;
    if (!looksLikeJwt(token)) return 'not_a_jwt';
    const payload = await verify(token, issuer, current.keys, new Date(now()));
    if (payload === undefined) return undefined;
    const size = 2 * token.length;
    if (size <= VERIFIED_MEMORY_BYTES) {
      while (bytes + size > VERIFIED_MEMORY_BYTES) forget(verified.keys().next().value!);
      verified.set(token, { payload: Object.freeze(payload), fingerprint: current.fingerprint, bytes: size });
      bytes += size;
    }
    return payload;
  };
  return Object.assign(check, { remembered: (token: string) => (verified.size === 0 ? undefined : remembered(token, keys())) });
}

async function verify(token: string, issuer: string, keys: KeySetFunction, currentDate: Date): Promise<(JWTPayload & { jti: string; exp: number }) | undefined> {
  try {
    const { payload } = await jwtVerify(token, keys, { issuer, typ: 'at+jwt', currentDate });
    if (typeof payload.jti === 'string' && typeof payload.exp === 'number') return payload as JWTPayload & { jti: string; exp: number };
  } catch {
    // Not ours, altered or expired: answered as an unknown token.
  }
  return undefined;
}

function looksLikeJwt(token: string): boolean {
  // Opaque tokens have no dots; a failed decode costs an exception per request.
  if (!token.includes('.')) return false;
  try {
    return decodeProtectedHeader(token) !== undefined;
  } catch {
    return false;
  }
}
