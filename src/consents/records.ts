import { Schema, type Connection, type Model } from 'mongoose';
import { removeRowsOfDeletedUsers } from '../accounts/deleted-user-rows.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { EXPORT_BATCH } from '../storage/read-batches.ts';

/**
 * What a user agreed to give one application, kept across sign-in sessions until the user removes
 * it (account page) or an operator revokes it — Keycloak's user consents. A sign-in session's grant
 * is made from it (src/oidc/grant-policy.ts) so the consent page is not shown again for what it
 * covers. System of record, not a session-lifetime one: in MongoDB, `user_consents`, one document
 * per (user, client).
 */
export interface ConsentGiven {
  /** OpenID scopes (`openid`, `profile`, …). */
  readonly scopes: readonly string[];
  /** Claims asked for by name (the `claims` parameter). */
  readonly claims: readonly string[];
  /** An API's scopes, by its identifier (resource indicator). */
  readonly resources: Readonly<Record<string, readonly string[]>>;
}

export interface ConsentRecord extends ConsentGiven {
  readonly accountId: string;
  readonly clientId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * An API's scope is stored as `<identifier> <scope>`: identifiers are URLs (their dots cannot be
 * field names on FerretDB) and neither contains a space, so one array takes `$addToSet` and two
 * consents given at once both land.
 */
interface StoredConsent {
  accountId: string;
  clientId: string;
  scopes: string[];
  claims: string[];
  resourceScopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<StoredConsent>(
  {
    accountId: { type: String, required: true },
    clientId: { type: String, required: true },
    scopes: { type: [String], default: [] },
    claims: { type: [String], default: [] },
    resourceScopes: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'user_consents', versionKey: false, strict: 'throw', timestamps: false },
);
schema.index({ accountId: 1, clientId: 1 }, { name: 'accountId_clientId', unique: true });
schema.index({ clientId: 1 }, { name: 'clientId' });

export interface ConsentRecords {
  find(accountId: string, clientId: string): Promise<ConsentRecord | undefined>;
  /** The user's records, by client id. */
  ofUser(accountId: string): Promise<ConsentRecord[]>;
  /** Every user's records (an export file), by user and client id, read a batch at a time. */
  exportEach(): AsyncIterable<ConsentRecord>;
  /**
   * Adds what the user agreed to now (the consent page's Allow) to their record for the client,
   * creating it. `at`: when (an import passes its dates; a record keeps its first `createdAt` and
   * the later of its `updatedAt` and the one passed).
   */
  add(accountId: string, clientId: string, given: ConsentGiven, at?: { createdAt?: Date; updatedAt?: Date }): Promise<void>;
  /** False when there was none. */
  remove(accountId: string, clientId: string): Promise<boolean>;
  /** Every user's record for a deleted client; how many. */
  removeForClient(clientId: string): Promise<number>;
}

export interface ConsentRecordsDeps {
  readonly connection: Connection;
  readonly now?: () => Date;
  /** Create the collection's indexes (default); false when they exist already or the caller only reads (src/storage/index-mark.ts). */
  readonly indexes?: boolean;
}

const SEPARATOR = ' ';

function fromStored(stored: StoredConsent): ConsentRecord {
  // A Map, then own members: an imported file may name an API `toString` (its `resources` are any texts), which a plain object already has.
  const resources = new Map<string, string[]>();
  for (const entry of stored.resourceScopes) {
    const at = entry.lastIndexOf(SEPARATOR);
    if (at <= 0) continue;
    const api = entry.slice(0, at);
    const scopes = resources.get(api);
    if (scopes === undefined) resources.set(api, [entry.slice(at + 1)]);
    else scopes.push(entry.slice(at + 1));
  }
  return { accountId: stored.accountId, clientId: stored.clientId, scopes: stored.scopes, claims: stored.claims, resources: Object.fromEntries(resources), createdAt: stored.createdAt, updatedAt: stored.updatedAt };
}

const words = (values: readonly string[]) => [...new Set(values.filter((value) => value !== '' && !value.includes(SEPARATOR)))];

export async function createConsentRecords({ connection, now = () => new Date(), indexes = true }: ConsentRecordsDeps): Promise<ConsentRecords> {
  const model: Model<StoredConsent> = (connection.models.UserConsent as Model<StoredConsent> | undefined) ?? connection.model<StoredConsent>('UserConsent', schema);
  if (indexes) await model.createIndexes();

  async function upsert(accountId: string, clientId: string, given: ConsentGiven, at: { createdAt?: Date; updatedAt?: Date }): Promise<void> {
    const time = now();
    const resourceScopes = Object.entries(given.resources).flatMap(([resource, scopes]) => (resource.includes(SEPARATOR) ? [] : words(scopes).map((scope) => `${resource}${SEPARATOR}${scope}`)));
    await model
      .updateOne(
        { accountId, clientId },
        {
          $addToSet: { scopes: { $each: words(given.scopes) }, claims: { $each: words(given.claims) }, resourceScopes: { $each: resourceScopes } },
          // A date from elsewhere (a Keycloak or Gatehouse import) never moves the record back: the later one stays.
          ...(at.updatedAt === undefined ? { $set: { updatedAt: time } } : { $max: { updatedAt: at.updatedAt } }),
          $setOnInsert: { createdAt: at.createdAt ?? time },
        },
        { upsert: true },
      )
      .exec();
  }

  return {
    async find(accountId, clientId) {
      const stored = await model.findOne({ accountId, clientId }).lean<StoredConsent>().exec();
      return stored === null ? undefined : fromStored(stored);
    },

    async ofUser(accountId) {
      const stored = await model.find({ accountId }).lean<StoredConsent[]>().exec();
      return stored.map(fromStored).sort((a, b) => a.clientId.localeCompare(b.clientId));
    },

    async *exportEach() {
      for await (const stored of model.find().sort({ accountId: 1, clientId: 1 }).lean<StoredConsent>().cursor({ batchSize: EXPORT_BATCH })) yield fromStored(stored);
    },

    async add(accountId, clientId, given, at = {}) {
      try {
        await upsert(accountId, clientId, given, at);
      } catch (error) {
        // Two first consents at once: one inserted, the other's upsert met the unique index; adding to it now updates.
        if (!isDuplicateKey(error)) throw error;
        await upsert(accountId, clientId, given, at);
      }
      // A consent given (or imported) while the user was being deleted must not outlive them (src/accounts/deleted-user-rows.ts).
      await removeRowsOfDeletedUsers(connection.db!, 'user_consents', 'accountId', [accountId]);
    },

    async remove(accountId, clientId) {
      return (await model.deleteOne({ accountId, clientId }).exec()).deletedCount > 0;
    },

    async removeForClient(clientId) {
      return (await model.deleteMany({ clientId }).exec()).deletedCount;
    },
  };
}
