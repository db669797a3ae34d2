import type { Connection } from 'mongoose';
import type { Adapter } from 'oidc-provider';
import type { OidcDocument } from './mongo-documents.ts';
import { collectionName } from './models.ts';

/** Grants removed because the grant they depend on was (the grant, its account, theirs). */
export interface DependentGrantsRevoked {
  readonly grantId: string;
  readonly accountId: string;
  readonly ids: readonly string[];
}

export interface DependentGrantsDeps {
  readonly mongo: Connection;
  /**
   * The id prefix of the grants that depend on a grant: they go when it goes (a token exchange's
   * grants on the grant of the token they were exchanged for, src/oidc/grants/token-exchange.ts).
   * Ids under it must sort between the prefix and the prefix with its last character raised.
   */
  readonly prefixOf: (grantId: string) => string;
  /** Removes a dependent grant's tokens, in both stores. */
  readonly revokeTokens: (grantId: string) => Promise<void>;
  /** Told after dependent grants were removed (the audit trail). */
  readonly revoked?: ((event: DependentGrantsRevoked) => void) | undefined;
}

/**
 * The Grant adapter's destroy, wrapped: whoever removes a grant — oidc-provider's revoke (the
 * revocation endpoint, sign-out, a reused code or refresh token), the revocation service (the
 * account page, the admin API and CLI, a disabled user, a deleted client) — removes the grants
 * that depend on it and their tokens too.
 *
 * Found without a scan: the user's grants (the `accountId` index; on FerretDB v1 with PostgreSQL
 * an equality it pushes down) whose `_id` falls in the prefix's range. The original goes first
 * and is looked for after: an exchange saves its grant before it checks the original once more
 * (token-exchange.ts), so one of the two sees the other.
 */
export function withDependentGrants(grants: Adapter, { mongo, prefixOf, revokeTokens, revoked }: DependentGrantsDeps): Adapter {
  const collection = () => {
    const db = mongo.db;
    if (db === undefined) throw new Error('MongoDB connection is not open');
    return db.collection<OidcDocument>(collectionName('Grant'));
  };

  async function dependentsOf(grantId: string, accountId: string): Promise<string[]> {
    const prefix = prefixOf(grantId);
    const upper = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
    const docs = await collection()
      .find({ accountId, _id: { $gte: prefix, $lt: upper } }, { projection: { _id: 1 } })
      .toArray();
    return docs.map((doc) => doc._id).filter((id) => id.startsWith(prefix));
  }

  return {
    ...grants,
    async destroy(grantId) {
      const accountId = (await collection().findOne({ _id: grantId }, { projection: { accountId: 1 } }))?.accountId;
      await grants.destroy(grantId);
      if (accountId === undefined) return;
      const ids = await dependentsOf(grantId, accountId);
      if (ids.length === 0) return;
      // The prefix holds every descendant (an exchange of an exchanged token too): removed here, one pass.
      for (const id of ids) {
        await revokeTokens(id);
        await grants.destroy(id);
      }
      revoked?.({ grantId, accountId, ids });
    },
  };
}
