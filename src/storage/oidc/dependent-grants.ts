import type { Connection } from 'mongoose';
import type { Adapter } from 'oidc-provider';
import { isExpired, type OidcDocument } from './mongo-documents.ts';
import { collectionName } from './models.ts';

/** Grants removed because the grant they depend on was (the grant, its account, theirs). */
export interface DependentGrantsRevoked {
  readonly grantId: string;
  readonly accountId: string;
  readonly ids: readonly string[];
  /** The grant each of them depended on directly (undefined: gone before, unknown). */
  readonly parents: ReadonlyMap<string, string | undefined>;
}

export interface DependentGrantsDeps {
  readonly mongo: Connection;
  /**
   * The grants that depend on a grant go when it goes (a token exchange's grants on the grant of
   * the token they were exchanged for, src/oidc/grants/token-exchange.ts), and those that depend
   * on them. Each chain has a first grant that depends on none; the ids of all grants of the chain
   * start with its prefix, and sort between the prefix and the prefix with its last character raised.
   */
  readonly prefixOf: (firstGrantId: string) => string;
  /** The first grant of a dependent grant's chain; undefined for a grant that depends on none. */
  readonly firstOf: (grantId: string) => string | undefined;
  /** Each dependent grant among those given → the grant it depends on directly (undefined when not among them and not the first). */
  readonly parentsAmong: (grantIds: readonly string[]) => ReadonlyMap<string, string | undefined>;
  /** The grants in an order that removes each dependent before what it depends on. */
  readonly deepestFirst: (grantIds: readonly string[]) => string[];
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
  destroyOf(grantId: string, accountId: string): Promise<RemovedGrant | undefined>;
}

/** A grant removed by destroyOf. */
export interface RemovedGrant {
  readonly accountId: string;
  /** The grant it depended on directly (null: unknown, gone); undefined for a grant that depended on none. */
  readonly dependedOn?: string | null;
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
 * an equality it pushes down) whose `_id` falls in the range of the chain's first grant — one
 * read gives the whole chain (ids are of fixed length, so a grant's own id does not say which
 * grants depend on it: each names the grant it depends on, parentsAmong).
 *
 * The order makes a removal cut short by a store failure (at any step) leave the grant with what
 * is left of its dependents, never dependents without it: the dependents go first, deepest first,
 * the grant last, and a retry finishes. A dependent saved meanwhile (a token exchange) is looked
 * for once more after the grant went — a grant whose parent is gone is removed then, though its
 * parent is no longer there to connect it to the grant removed; its save reads its chain from the
 * store after writing (upsert): of the two, whichever comes second sees the other — also across
 * instances, whose record caches may still hold the grant (record-cache.ts).
 */
export function withDependentGrants(grants: Adapter, deps: DependentGrantsDeps): DependentGrantsAdapter {
  const { mongo, prefixOf, firstOf, parentsAmong, deepestFirst, revokeTokens, revoked, now = Date.now } = deps;
  const collection = () => {
    const db = mongo.db;
    if (db === undefined) throw new Error('MongoDB connection is not open');
    return db.collection<OidcDocument>(collectionName('Grant'));
  };

  /** The chain's first grant and the grants under its prefix, in one read (the range starts at the first grant's own id). */
  async function chain(first: string, accountId: string): Promise<Array<Pick<OidcDocument, '_id' | 'expiresAt'>>> {
    const prefix = prefixOf(first);
    const upper = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
    const docs = await collection()
      .find({ accountId, _id: { $gte: first, $lt: upper } }, { projection: { _id: 1, expiresAt: 1 } })
      .toArray();
    return docs.filter((doc) => doc._id === first || doc._id.startsWith(prefix));
  }

  /**
   * The grant (when it is the user's) and the grants that depend on it: those whose chain of
   * parents leads to it, and those whose parent is gone — removed since, this removal's second look.
   */
  async function family(grantId: string, accountId: string): Promise<{ found: boolean; dependents: string[]; parents: ReadonlyMap<string, string | undefined> }> {
    const first = firstOf(grantId) ?? grantId;
    const ids = (await chain(first, accountId)).map((doc) => doc._id);
    const present = new Set(ids);
    const parents = parentsAmong(ids);
    const dependsOnIt = (id: string): boolean => {
      let at = id;
      for (let steps = 0; steps <= ids.length; steps += 1) {
        if (!parents.has(at)) return false;
        const parent = parents.get(at);
        if (parent === grantId || parent === undefined || (parent !== first && !present.has(parent))) return true;
        if (parent === first) return false;
        at = parent;
      }
      return false;
    };
    return { found: present.has(grantId), dependents: ids.filter((id) => id !== grantId && id !== first && dependsOnIt(id)), parents };
  }

  async function remove(ids: readonly string[]): Promise<void> {
    for (const id of deepestFirst(ids)) {
      await revokeTokens(id);
      await grants.destroy(id);
    }
  }

  async function removeDependents(grantId: string, accountId: string, found: { dependents: readonly string[]; parents: ReadonlyMap<string, string | undefined> }): Promise<void> {
    if (found.dependents.length === 0) return;
    await remove(found.dependents);
    revoked?.({ grantId, accountId, ids: found.dependents, parents: found.parents });
  }

  return {
    ...grants,
    async upsert(id, payload, expiresIn) {
      await grants.upsert(id, payload, expiresIn);
      const first = firstOf(id);
      if (first === undefined) return;
      // From the store, after the write: a removal of one of them either came first (and is seen
      // here) or looks for this grant after removing it (destroy).
      const docs = await chain(first, String(payload.accountId));
      const standing = new Set(docs.filter((doc) => !isExpired(doc, now())).map((doc) => doc._id));
      const parents = parentsAmong(docs.map((doc) => doc._id));
      let at = id;
      for (let steps = 0; steps <= docs.length; steps += 1) {
        const parent = parents.get(at);
        if (parent === undefined || !standing.has(parent)) break;
        if (parent === first) return;
        at = parent;
      }
      await grants.destroy(id);
      throw new DependedOnGrantGoneError(id);
    },
    async destroy(grantId) {
      // The grant's user, from the record cache when it holds the grant (the library revokes a
      // grant it has just read: a refresh token's, a session's): the look for its dependents is
      // then the removal's first read.
      const accountId = (await grants.find(grantId))?.accountId;
      if (typeof accountId !== 'string') return grants.destroy(grantId);
      await removeDependents(grantId, accountId, await family(grantId, accountId));
      await grants.destroy(grantId);
      await removeDependents(grantId, accountId, await family(grantId, accountId));
    },
    async destroyOf(grantId, accountId) {
      const found = await family(grantId, accountId);
      if (!found.found) return undefined;
      // The dependents first, then the grant's tokens and the grant, then one more look for a
      // dependent saved after the first (its save saw the grant still there).
      await removeDependents(grantId, accountId, found);
      await revokeTokens(grantId);
      await grants.destroy(grantId);
      await removeDependents(grantId, accountId, await family(grantId, accountId));
      return found.parents.has(grantId) ? { accountId, dependedOn: found.parents.get(grantId) ?? null } : { accountId };
    },
    async destroyListed(grantIds) {
      await remove(grantIds);
    },
  };
}
