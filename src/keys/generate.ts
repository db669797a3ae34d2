import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';

const generate = promisify(generateKeyPair);

export type SigningAlg = 'RS256' | 'ES256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256'];

export interface PrivateJwk extends JWK {
  kid: string;
  alg: SigningAlg;
  use: 'sig';
}

/** A fresh private signing key as a JWK; `kid` is the RFC 7638 thumbprint of its public part. */
export async function generateSigningKey(alg: SigningAlg): Promise<PrivateJwk> {
  const { privateKey } =
    alg === 'RS256'
      ? await generate('rsa', { modulusLength: 2048 })
      : await generate('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { ...jwk, kid, alg, use: 'sig' };
}

/** A cookie-signing key: 256 random bits, base64url. */
export function generateCookieKey(): string {
  return randomBytes(32).toString('base64url');
}
