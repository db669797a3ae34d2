import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { AdapterFactory } from 'oidc-provider';
import type { RoutedAdapterFactory } from './adapter-factory.ts';
import { isExpired, type OidcDocument } from './mongo-documents.ts';
import { listedRemoval, ownedRemoval, type RemovedGrant } from './dependent-grants.ts';
import { collectionName } from './models.ts';
import { redisKeys } from './redis-adapter.ts';

export interface SessionSummary {
  readonly id: string;
  /** The session's uid, which its tokens carry (`sessionUid`); never shown to anyone. */
  readonly uid: string | null;
  readonly loginAt: Date | null;
  readonly expiresAt: Date | null;
  /** Clients the user signed in to during this session. */
  readonly clients: string[];
}

export interface GrantSummary {
  readonly id: string;
  readonly clientId: string;
  readonly scope: string;
  readonly resources: string[];
  readonly issuedAt: Date | null;
  readonly expiresAt: Date | null;
}

export interface RevocationCounts {
  readonly grants: number;
  readonly sessions: number;
  readonly tokens: number;
}

/** Lists and revokes a user's or a client's sessions, grants and tokens across both stores. */
export interface OidcRevocation {
  listSessions(accountId: string): Promise<SessionSummary[]>;
  /** Sign-in sessions not yet expired, of every user (the console's dashboard). */
  countSessions(): Promise<number>;
  listGrants(accountId: string): Promise<GrantSummary[]>;
  /** Ends one session and revokes the grants made in it; false when it is not the user's. */
  revokeSession(accountId: string, sessionId: string): Promise<boolean>;
  /** Revokes one grant and every token issued under it; `accountId` limits it to that user's. */
  revokeGrant(grantId: string, accountId?: string): Promise<boolean>;
  /** revokeGrant, saying whose grant it was and (a token exchange's) which grant it depended on; undefined when not found. */
  removeGrant(grantId: string, accountId?: string): Promise<RemovedGrant | undefined>;
  revokeByAccountId(accountId: string): Promise<RevocationCounts>;
  revokeByClientId(clientId: string): Promise<RevocationCounts>;
}

/** A sign-in session ended here: whose it was, and the apps signed in through it (client id → its `sid` there). */
export interface EndedSession {
  readonly accountId: string;
  readonly authorizations: Readonly<Record<string, { readonly sid?: unknown }>>;
}

export interface OidcRevocationDeps {
  readonly mongo: Connection;
  readonly redis?: Redis | undefined;
  readonly redisPrefix: string;
  /** The adapter factory oidc-provider uses: its revokeByGrantId covers both stores. */
  readonly adapter: AdapterFactory & Pick<RoutedAdapterFactory, 'clientTokensRevoked'>;
  /**
   * Marks a client's tokens revoked up to now (src/clients/repository.ts): its client_credentials
   * JWTs are stored nowhere, so this mark is what refuses them at introspection afterwards.
   */
  readonly markClientTokensRevoked?: ((clientId: string) => Promise<unknown>) | undefined;
  /**
   * Told of each sign-in session ended here (revokeSession, revokeByAccountId) once it is gone:
   * the server starts sending the apps' back-channel logout tokens (src/oidc/session-logout.ts).
   * Returns at once — nothing here waits for an app's endpoint, so no operator's or user's answer
   * does either.
   */
  readonly sessionEnded?: ((session: EndedSession) => void) | undefined;
  readonly now?: () => number;
}

const SCAN_BATCH = 500;

export function createOidcRevocation({ mongo, redis, redisPrefix, adapter, markClientTokensRevoked, sessionEnded, now = Date.now }: OidcRevocationDeps): OidcRevocation {
  const collection = (model: string) => {
    const db = mongo.db;
    if (db === undefined) throw new Error('MongoDB connection is not open');
    return db.collection<OidcDocument>(collectionName(model));
  };
  const live = (docs: OidcDocument[]) => docs.filter((doc) => !isExpired(doc, now()));
  const payloadOf = (doc: OidcDocument) => JSON.parse(doc.payload) as Record<string, unknown>;
  const date = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000) : null);
  const authorizationsOf = (doc: OidcDocument) => (payloadOf(doc).authorizations ?? {}) as Record<string, { grantId?: unknown; sid?: unknown }>;

  // Session and Grant writes go through the adapter, never straight to the collection: it
  // drops the cached copies and tells the other instances (record-cache.ts).
  async function dropGrant(grantId: string): Promise<void> {
    await adapter('Grant').revokeByGrantId(grantId);
    await adapter('Grant').destroy(grantId);
  }

  async function dropGrants(filter: Record<string, string>): Promise<number> {
    const grants = await collection('Grant').find(filter, { projection: { _id: 1 } }).toArray();
    for (const grant of grants) await dropGrant(grant._id);
    return grants.length;
  }

  /**
   * Every grant of a user, those exchanged from them (token exchange) among them: one query lists
   * them all, so none is looked up on its own (dependent-grants.ts destroyListed). A second finds
   * what was saved meanwhile — an exchange that checked its original before it went.
   */
  async function dropGrantsOf(accountId: string): Promise<number> {
    const destroyListed = listedRemoval(adapter('Grant'));
    let dropped = 0;
    for (let round = 0; round < 2; round += 1) {
      const ids = (await collection('Grant').find({ accountId }, { projection: { _id: 1 } }).toArray()).map((grant) => grant._id);
      if (ids.length === 0) break;
      if (destroyListed === undefined) for (const id of ids.sort((a, b) => b.length - a.length)) await dropGrant(id);
      else await destroyListed(ids);
      dropped += ids.length;
    }
    return dropped;
  }

  /** Client-credentials tokens carry no grant; in Redis they are found by scanning their keys. */
  async function dropRedisClientCredentials(clientId: string): Promise<number> {
    if (redis === undefined) return 0;
    const keys = redisKeys(redisPrefix);
    const pattern = `${keys.record('ClientCredentials', '')}*`;
    let cursor = '0';
    let dropped = 0;
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
      cursor = next;
      for (const key of found) {
        const payload = await redis.hget(key, 'payload');
        if (payload !== null && (JSON.parse(payload) as { clientId?: unknown }).clientId === clientId) {
          await redis.del(key);
          dropped += 1;
        }
      }
    } while (cursor !== '0');
    return dropped;
  }

  const revocation: OidcRevocation = {
    // Signed-in sessions only: the `uid:` copies carry no accountId, nor do the records the library
    // keeps for visitors who are not signed in (e.g. the sign-out page's form secret).
    countSessions: () =>
      collection('Session').countDocuments({ accountId: { $exists: true }, $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date(now()) } }] }),

    async listSessions(accountId) {
      const docs = live(await collection('Session').find({ accountId }).toArray());
      return docs.map((doc) => {
        const payload = payloadOf(doc);
        const authorizations = (payload.authorizations ?? {}) as Record<string, unknown>;
        return { id: doc._id, uid: typeof payload.uid === 'string' ? payload.uid : null, loginAt: date(payload.loginTs), expiresAt: doc.expiresAt ?? null, clients: Object.keys(authorizations) };
      });
    },

    async listGrants(accountId) {
      const docs = live(await collection('Grant').find({ accountId }).toArray());
      return docs.map((doc) => {
        const payload = payloadOf(doc);
        const openid = (payload.openid ?? {}) as { scope?: unknown };
        return {
          id: doc._id,
          clientId: String(payload.clientId ?? ''),
          scope: typeof openid.scope === 'string' ? openid.scope : '',
          resources: Object.keys((payload.resources ?? {}) as object),
          issuedAt: date(payload.iat),
          expiresAt: doc.expiresAt ?? null,
        };
      });
    },

    async revokeSession(accountId, sessionId) {
      const doc = await collection('Session').findOne({ _id: sessionId, accountId });
      if (doc === null) return false;
      const authorizations = authorizationsOf(doc);
      for (const authorization of Object.values(authorizations)) {
        if (typeof authorization.grantId === 'string') await dropGrant(authorization.grantId);
      }
      await adapter('Session').destroy(sessionId);
      sessionEnded?.({ accountId, authorizations });
      return true;
    },

    revokeGrant: async (grantId, accountId) => (await revocation.removeGrant(grantId, accountId)) !== undefined,

    async removeGrant(grantId, accountId) {
      const destroyOf = ownedRemoval(adapter('Grant'));
      if (destroyOf !== undefined) {
        // The user known, the look for the grant's exchanges finds the grant too (dependent-grants.ts).
        const owner = accountId ?? (await collection('Grant').findOne({ _id: grantId }, { projection: { accountId: 1 } }))?.accountId;
        return owner === undefined ? undefined : destroyOf(grantId, owner);
      }
      const filter: Record<string, string> = { _id: grantId };
      if (accountId !== undefined) filter.accountId = accountId;
      const doc = await collection('Grant').findOne(filter);
      if (doc === null) return undefined;
      await dropGrant(grantId);
      return { accountId: doc.accountId ?? '' };
    },

    async revokeByAccountId(accountId) {
      const grants = await dropGrantsOf(accountId);
      // One by one until none is left, so a session created meanwhile goes too.
      const destroyed = new Set<string>();
      for (;;) {
        const found = await collection('Session').find({ accountId }).toArray();
        const left = found.filter((session) => !destroyed.has(session._id));
        if (left.length === 0) break;
        for (const session of left) {
          await adapter('Session').destroy(session._id);
          destroyed.add(session._id);
          sessionEnded?.({ accountId, authorizations: authorizationsOf(session) });
        }
      }
      return { grants, sessions: destroyed.size, tokens: 0 };
    },

    async revokeByClientId(clientId) {
      // First: a client_credentials JWT issued from here on is not covered by the mark.
      await markClientTokensRevoked?.(clientId);
      const grants = await dropGrants({ clientId });
      const mongoTokens = await collection('ClientCredentials').deleteMany({ clientId });
      await collection('RegistrationAccessToken').deleteMany({ clientId });
      const redisTokens = await dropRedisClientCredentials(clientId);
      // Deleted behind the adapter's back: the instances' cached copies go by notice.
      await adapter.clientTokensRevoked(clientId);
      return { grants, sessions: 0, tokens: mongoTokens.deletedCount + redisTokens };
    },
  };
  return revocation;
}
