import { createHash, randomBytes } from 'node:crypto';

/**
 * The tokens of emailed links (password reset, email verification): 256 random bits in the
 * link, only their SHA-256 at rest, so a read of the store gives no working link.
 */
export const newLinkToken = (): string => randomBytes(32).toString('base64url');

/** The stored id of a link token. */
export const linkTokenId = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** The shape newLinkToken makes: anything else is not looked up. */
export const wellFormedLinkToken = (token: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(token);
