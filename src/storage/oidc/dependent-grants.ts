import type { Connection } from 'mongoose';
import type { Adapter } from 'oidc-provider';
import { isExpired, type OidcDocument } from './mongo-documents.ts';
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
  /** The grants a grant depends on (empty for one that depends on none): it is saved only while they stand. */
  readonly dependsOn: (grantId: string) => readonly string[];
  /** Removes a dependent grant's tokens, in both stores. */
  readonly revokeTokens: (grantId: string) => Promise<void>;
  /** Told after dependent grants were removed (the audit trail). */
  readonly revoked?: ((event: DependentGrantsRevoked) => void) | undefined;
  readonly now?: (() => number) | undefined;
}

/** A dependent grant was saved after a grant it depends on went: it was removed again. */
export class DependedOnGrantGoneError extends Error {
  readonly grantId: string;

  constructor(grantId: string) {
    super(`a grant ${grantId} depends on is gone`);
    this.grantId = grantId;
    this.name = 'DependedOnGrantGoneError';
  }
}

/** The Grant adapter with its dependents (withDependentGrants). */
export interface DependentGrantsAdapter extends Adapter {
  /**
   * Removes grants of one user that the caller listed in one query, the grants that depend on
   * them among them (revocation.ts: all of a user's grants), without a lookup per grant:
   * dependents first, each grant's tokens before it.
   */
  destroyListed(grantIds: readonly string[]): Promise<void>;
  /**
   * Removes one grant of a known user with the grants that depend on it; false when the user has
   * no such grant. The user known, the grant is found by the look for its dependents (one read).
   */
  destroyOf(grantId: string, accountId: string): Promise<boolean>;
}

/** The Grant adapter's destroyListed, when it has one (withDependentGrants). */
export function listedRemoval(adapter: Adapter): DependentGrantsAdapter['destroyListed'] | undefined {
  const destroyListed = (adapter as Partial<DependentGrantsAdapter>).destroyListed;
  return typeof destroyListed === 'function' ? destroyListed : undefined;
}

/** The Grant adapter's destroyOf, when it has one (withDependentGrants). */
export function ownedRemoval(adapter: Adapter): DependentGrantsAdapter['destroyOf'] | undefined {
  const destroyOf = (adapter as Partial<DependentGrantsAdapter>).destroyOf;
  return typeof destroyOf === 'function' ? destroyOf : undefined;
}

/**
 * The Grant adapter, wrapped: whoever removes a grant — oidc-provider's revoke (the revocation
 * endpoint, sign-out, a reused code or refresh token), the revocation service (the account page,
 * the admin API and CLI, a disabled user, a deleted client) — removes the grants that depend on
 * it and their tokens too; and a dependent grant is kept only if what it depends on still stands.
 *
 * Found without a scan: the user's grants (the `accountId` index; on FerretDB v1 with PostgreSQL
 * an equality it pushes down) whose `_id` falls in the prefix's range.
 *
 * The order makes a removal cut short by a store failure (at any step) leave the grant with what
 * is left of its dependents, never dependents without it: the dependents go first, the grant
 * last, and a retry finishes. A dependent saved meanwhile (a token exchange) is looked for once
 * more after the grant went; its save reads the grants it depends on from the store after
 * writing (upsert): of the two, whichever comes second sees the other — also across instances,
 * whose record caches may still hold the grant (record-cache.ts).
 */
export function withDependentGrants(grants: Adapter, { mongo, prefixOf, dependsOn, revokeTokens, revoked, now = Date.now }: DependentGrantsDeps): DependentGrantsAdapter {
  const collection = () => {
    const db = mongo.db;
    if (db === undefined) throw new Error('MongoDB connection is not open');
    return db.collection<OidcDocument>(collectionName('Grant'));
  };

  /**
   * The grant (when it is the user's) and the grants under its prefix, in one read: the range
   * starts at the grant's own id, which sorts before every id it prefixes.
   */
  async function family(grantId: string, accountId: string): Promise<{ found: boolean; dependents: string[] }> {
    const prefix = prefixOf(grantId);
    const upper = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
    const docs = await collection()
      .find({ accountId, _id: { $gte: grantId, $lt: upper } }, { projection: { _id: 1 } })
      .toArray();
    const ids = docs.map((doc) => doc._id);
    return { found: ids.includes(grantId), dependents: ids.filter((id) => id.startsWith(prefix)) };
  }

  /** Dependents of dependents first (a longer id is deeper): one cut short leaves none without what it stands on. */
  async function remove(ids: readonly string[]): Promise<void> {
    for (const id of [...ids].sort((a, b) => b.length - a.length)) {
      await revokeTokens(id);
      await grants.destroy(id);
    }
  }

  async function removeDependents(grantId: string, accountId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await remove(ids);
    revoked?.({ grantId, accountId, ids });
  }

  /**
   * The dependents first, then the grant's tokens and the grant, then one more look for a
   * dependent saved after the first (its save saw the grant still there).
   */
  async function removeWithDependents(grantId: string, accountId: string, dependents: readonly string[]): Promise<void> {
    await removeDependents(grantId, accountId, dependents);
    await revokeTokens(grantId);
    await grants.destroy(grantId);
    await removeDependents(grantId, accountId, (await family(grantId, accountId)).dependents);
  }

  return {
    ...grants,
    async upsert(id, payload, expiresIn) {
      await grants.upsert(id, payload, expiresIn);
      const under = dependsOn(id);
      if (under.length === 0) return;
      // From the store, after the write: a removal of one of them either came first (and is seen
      // here) or looks for this grant after removing it (destroy).
      const standing = await collection()
        .find({ accountId: String(payload.accountId), _id: { $in: [...under] } }, { projection: { _id: 1, expiresAt: 1 } })
        .toArray();
      if (standing.filter((doc) => !isExpired(doc, now())).length === under.length) return;
      await grants.destroy(id);
      throw new DependedOnGrantGoneError(id);
    },
    async destroy(grantId) {
      const accountId = (await collection().findOne({ _id: grantId }, { projection: { accountId: 1 } }))?.accountId;
      if (accountId === undefined) return grants.destroy(grantId);
      const { dependents } = await family(grantId, accountId);
      await removeDependents(grantId, accountId, dependents);
      await grants.destroy(grantId);
      await removeDependents(grantId, accountId, (await family(grantId, accountId)).dependents);
    },
    async destroyOf(grantId, accountId) {
      const { found, dependents } = await family(grantId, accountId);
      if (!found) return false;
      await removeWithDependents(grantId, accountId, dependents);
      return true;
    },
    async destroyListed(grantIds) {
      // A dependent's id is the id of the grant it depends on and more.
      await remove(grantIds);
    },
  };
}
