import type { Connection, mongo } from 'mongoose';
import { isFerretDbV1 } from '../server-kind.ts';
import { CONSUMPTION_COLLECTION } from './mongo-documents.ts';
import { collectionName, GRANT_MEMBER_MODELS, OIDC_MODELS } from './models.ts';

/** pino-style: the object first, then the message. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface IndexReport {
  /** False when the server refused TTL indexes (FerretDB v1): run the expiry sweeper. */
  readonly ttlIndexes: boolean;
  /** Every collection the oidc adapters write, for the sweeper. */
  readonly collections: readonly string[];
  /** `collection.index` names an earlier version created that no lookup uses, dropped now (STALE_INDEXES). */
  readonly dropped: readonly string[];
}

interface IndexSpec {
  readonly key: Record<string, 1>;
  readonly unique?: boolean;
}

/**
 * Lookups the adapters and wholesale revocation (per account, per client) need. A user's or a
 * client's tokens are revoked through their grants (revocation.ts: the grants found by
 * `accountId` / `clientId`, then each grant's members by `grantId`), so the grant members carry
 * `grantId` alone: an index on their `accountId` or `clientId` would serve no query and cost every
 * token written — a refresh's completion inserts two documents, each entry on PostgreSQL twice
 * (FerretDB's btree and the GIN twin scripts/services adds).
 */
function indexesFor(model: string): IndexSpec[] {
  const specs: IndexSpec[] = [];
  if (GRANT_MEMBER_MODELS.includes(model)) specs.push({ key: { grantId: 1 } });
  // Not unique: oidc-provider may briefly hold two sessions with one uid (panva/node-oidc-provider#1145).
  if (model === 'Session') specs.push({ key: { uid: 1 } }, { key: { accountId: 1 } });
  // Unique only here, where every document has a userCode: FerretDB ignores `sparse`.
  if (model === 'DeviceCode') specs.push({ key: { userCode: 1 }, unique: true });
  if (model === 'Grant') specs.push({ key: { accountId: 1 } }, { key: { clientId: 1 } });
  if (model === 'ClientCredentials') specs.push({ key: { clientId: 1 } });
  return specs;
}

/**
 * Indexes earlier versions created on the grant members, which no query uses (indexesFor): a start
 * drops them, matched by name and key (an operator's own indexes are kept).
 */
const STALE_INDEXES: readonly { readonly name: string; readonly field: string }[] = [
  { name: 'accountId_1', field: 'accountId' },
  { name: 'clientId_1', field: 'clientId' },
];

async function dropStaleIndexes(collection: mongo.Collection): Promise<string[]> {
  const listed = await collection.listIndexes().toArray().catch((error: unknown) => {
    // A collection that does not exist yet has no indexes (NamespaceNotFound).
    if ((error as { code?: unknown }).code === 26) return [];
    throw error;
  });
  const dropped: string[] = [];
  for (const index of listed) {
    const key = Object.entries((index.key ?? {}) as Record<string, unknown>);
    const stale = STALE_INDEXES.some(({ name, field }) => index.name === name && key.length === 1 && key[0]![0] === field && key[0]![1] === 1);
    if (!stale) continue;
    await collection.dropIndex(index.name as string);
    dropped.push(`${collection.collectionName}.${index.name as string}`);
  }
  return dropped;
}

/** FerretDB v1 answers NotImplemented (238); other servers may use other wording. */
function isUnsupportedOption(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, codeName, message } = error as { code?: unknown; codeName?: unknown; message?: unknown };
  return (
    code === 238 ||
    codeName === 'NotImplemented' ||
    (typeof message === 'string' && /not (yet )?(implemented|supported)/i.test(message))
  );
}

/** Creates the collection unless it exists (NamespaceExists, 48). */
async function createCollection(db: mongo.Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 48) throw error;
  }
}

/**
 * Creates every index the oidc adapters rely on. Called once at startup (or by a migrate
 * command); never on the request path. Where the server lacks TTL indexes, the caller is told to
 * run the sweeper (and says so in the startup log: expected on FerretDB, so not a warning), and
 * an ordinary expiresAt index serves the sweeper's `expiresAt < now` instead — except on FerretDB
 * v1, which never pushes a range filter down (the sweep scans whatever indexes exist,
 * docs/STORAGE.md): there an expiry index would serve no read and cost every insert of a session,
 * grant or token (on PostgreSQL two index entries each, with the GIN twin scripts/services adds),
 * so none is created. One created by an earlier version is left as it is.
 */
export async function ensureOidcIndexes(connection: Connection): Promise<IndexReport> {
  const db = connection.db;
  if (db === undefined) throw new Error('MongoDB connection is not open');
  const collections = [...OIDC_MODELS.map(collectionName), CONSUMPTION_COLLECTION];
  let ttlIndexes = true;
  /** Without TTL indexes: whether an ordinary expiresAt index can serve the sweeper (not on FerretDB v1). */
  let plainExpiryIndex = true;

  async function expiryIndex(collection: mongo.Collection): Promise<void> {
    if (ttlIndexes) {
      try {
        await collection.createIndex({ expiresAt: 1 }, { name: 'expiresAt_ttl', expireAfterSeconds: 0 });
        return;
      } catch (error) {
        if (!isUnsupportedOption(error)) throw error;
        ttlIndexes = false;
        plainExpiryIndex = !(await isFerretDbV1(db!));
      }
    }
    if (plainExpiryIndex) await collection.createIndex({ expiresAt: 1 }, { name: 'expiresAt_1' });
    // The collection exists after startup either way (an index created it before): no DDL on a request.
    else await createCollection(db!, collection.collectionName);
  }

  const dropped: string[] = [];
  for (const model of OIDC_MODELS) {
    const collection = db.collection(collectionName(model));
    await expiryIndex(collection);
    for (const spec of indexesFor(model)) {
      await collection.createIndex(spec.key, spec.unique === true ? { unique: true } : {});
    }
    if (GRANT_MEMBER_MODELS.includes(model)) dropped.push(...(await dropStaleIndexes(collection)));
  }
  await expiryIndex(db.collection(CONSUMPTION_COLLECTION));
  return { ttlIndexes, collections, dropped };
}
