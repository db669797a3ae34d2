import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long the account page has to finish adding a passkey. */
export const PASSKEY_TICKET_SECONDS = 300;

/**
 * WebAuthn challenges for the account page without storing them: the challenge is random, and
 * the ticket the page carries back is `challenge.expiry.mac`, an HMAC over user, challenge and
 * expiry under a key derived from GATEHOUSE_SECRET (every instance checks it alike). Replaying a
 * ticket gains nothing: a credential can be registered once.
 */
export function passkeyTickets(key: Buffer, now: () => Date = () => new Date()) {
  const mac = (userId: string, challenge: string, expiry: string) => createHmac('sha256', key).update(`account-passkey\0${userId}\0${challenge}\0${expiry}`).digest();
  return {
    issue(userId: string) {
      const challenge = randomBytes(32).toString('base64url');
      const expiry = String(Math.floor(now().getTime() / 1000) + PASSKEY_TICKET_SECONDS);
      return { challenge, ticket: `${challenge}.${expiry}.${mac(userId, challenge, expiry).toString('base64url')}` };
    },
    open(userId: string, ticket: string): string | undefined {
      const [challenge, expiry, signature, ...rest] = ticket.split('.');
      if (challenge === undefined || expiry === undefined || signature === undefined || rest.length > 0 || !/^\d+$/.test(expiry)) return undefined;
      const given = Buffer.from(signature, 'base64url');
      const wanted = mac(userId, challenge, expiry);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined;
      return Number(expiry) * 1000 > now().getTime() ? challenge : undefined;
    },
  };
}
