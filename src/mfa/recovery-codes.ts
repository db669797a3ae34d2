import { createHmac, randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

// No 0/O, 1/I/L: the codes are read off paper.
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';

/** Ten random codes `xxxxx-xxxxx` (about 49 bits each): shown once, stored only as HMACs. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** What a person may type for a code: any case, with or without the dash and spaces. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z0-9]{10}$/.test(compact) ? compact : undefined;
}

/**
 * The stored form of a code: HMAC-SHA256 under a key derived from GATEHOUSE_SECRET, bound to
 * the user. The codes carry enough entropy that a keyed hash suffices (no password hash needed).
 */
export function recoveryCodeId(key: Buffer, userId: string, normalized: string): string {
  return createHmac('sha256', key).update(`${userId}\0${normalized}`).digest('base64url');
}
