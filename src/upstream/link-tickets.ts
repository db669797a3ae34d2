import { removeRowsOfDeletedUsers } from '../accounts/deleted-user-rows.ts';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { takeOnce } from '../storage/take-once.ts';

/**
 * One-time tickets for the account page's "Connect <provider>": the account API (bearer token,
 * recent sign-in) issues one for the signed-in user; the browser brings it to
 * `<upstream>/:alias/link` at once, which takes it (one use, 2 minutes) and starts the upstream
 * leg bound to that user and to this browser (the leg's sealed cookie). Collection
 * `upstream_link_tickets` (expiry: src/upstream/expiry.ts).
 */
export interface LinkTicket {
  readonly userId: string;
  readonly provider: string;
}

export interface LinkTickets {
  issue(ticket: LinkTicket): Promise<string>;
  /** The ticket's intent (removed as it is read), when it exists, is fresh and is for this provider. */
  take(id: string, provider: string): Promise<LinkTicket | undefined>;
}

interface StoredTicket {
  _id: string;
  user_id: string;
  provider: string;
  expires_at: Date;
}

export const LINK_TICKETS_COLLECTION = 'upstream_link_tickets';
export const LINK_TICKET_TTL_MS = 2 * 60_000;

export function createLinkTickets({ mongo, now = () => new Date() }: { mongo: Connection; now?: () => Date }): LinkTickets {
  const rows = () => mongo.db!.collection<StoredTicket>(LINK_TICKETS_COLLECTION);
  return {
    async issue({ userId, provider }) {
      const id = randomBytes(32).toString('base64url');
      await rows().insertOne({ _id: id, user_id: userId, provider, expires_at: new Date(now().getTime() + LINK_TICKET_TTL_MS) });
      await removeRowsOfDeletedUsers(mongo.db!, LINK_TICKETS_COLLECTION, 'user_id', [userId]);
      return id;
    },
    async take(id, provider) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const doc = await takeOnce(rows(), id);
      if (doc === null || doc.provider !== provider || doc.expires_at.getTime() <= now().getTime()) return undefined;
      return { userId: doc.user_id, provider: doc.provider };
    },
  };
}
