import type { Connection } from 'mongoose';
import { removeRowsOfDeletedUsers } from '../accounts/deleted-user-rows.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import type { UpstreamSettings } from './spec.ts';
import type { ImportedFrom } from '../accounts/user-model.ts';

/**
 * Upstream identity providers (collection `upstream_providers`, `_id` = alias) and the links
 * from upstream identities to local users (collection `upstream_links`, `_id` =
 * `<alias> <upstream subject>`, so one upstream identity links to at most one user).
 *
 * The client secret and the private key are never stored in the clear: AES-256-GCM under the
 * "upstream-secrets" key with the alias as associated data (src/crypto/secret-box.ts), like
 * client secrets. Nothing here returns them except `credentials`, which the sign-in uses.
 */
interface StoredProvider extends UpstreamSettings {
  _id: string;
  secret_sealed: string | null;
  private_key_sealed: string | null;
  /** The Keycloak realm whose import created it: only a re-import of that realm replaces it (src/keycloak/apply-identity-providers.ts). */
  imported_from?: ImportedFrom;
  created_at: Date;
  updated_at: Date;
}

interface StoredLink {
  _id: string;
  provider: string;
  subject: string;
  user_id: string;
  /** The upstream email or username when the link was made, to tell links apart (links made before this have none). */
  label?: string | null;
  created_at: Date;
  last_sign_in_at: Date | null;
}

export interface UpstreamProvider extends UpstreamSettings {
  readonly has_secret: boolean;
  readonly has_private_key: boolean;
  /** Set by a Keycloak import that created it (or took it as its realm's); absent for one an operator created. Shown to operators as imported_from (showUpstream). */
  readonly imported_from?: ImportedFrom;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export interface UpstreamCredentials {
  readonly clientSecret: string | undefined;
  readonly privateKeyJwk: Record<string, unknown> | undefined;
}

export interface UpstreamLink {
  readonly provider: string;
  readonly subject: string;
  readonly userId: string;
  /** The upstream email or username when the link was made; null when unknown. */
  readonly label: string | null;
  readonly createdAt: Date;
  readonly lastSignInAt: Date | null;
}

export interface SecretsChange {
  /** A new client secret; null removes it; undefined keeps it. */
  readonly clientSecret?: string | null | undefined;
  readonly privateKeyJwk?: Record<string, unknown> | null | undefined;
}

export interface UpstreamDirectory {
  list(): Promise<UpstreamProvider[]>;
  get(alias: string): Promise<UpstreamProvider | undefined>;
  /** Throws ConflictError when the alias is taken. `mark`: a Keycloak import's (imported_from). */
  create(settings: UpstreamSettings, secrets: SecretsChange, mark?: ImportedFrom): Promise<UpstreamProvider>;
  /**
   * undefined when there is no such provider. `settings` may be worked out from the stored
   * provider (a merge, a check that throws): then it runs on the provider read under its lock.
   * `mark`: a Keycloak import's (imported_from), set with the settings; absent, the stored one is kept.
   */
  update(alias: string, settings: ProviderChange, secrets: SecretsChange, mark?: ImportedFrom): Promise<UpstreamProvider | undefined>;
  /** Removes the provider and every link to it; false when there was none. */
  remove(alias: string): Promise<boolean>;
  credentials(alias: string): Promise<UpstreamCredentials>;
  /**
   * A provider as an export file holds it (src/transfer/upstream-section.ts): created, or replaced
   * whole — its settings, secrets (sealed under this deployment's key), import mark (absent: none)
   * and dates; the links to it stay.
   */
  restore(provider: RestoredProvider): Promise<'created' | 'updated'>;

  findLink(alias: string, subject: string): Promise<UpstreamLink | undefined>;
  /** Throws ConflictError when the upstream identity is already linked (to anyone). */
  link(alias: string, subject: string, userId: string, label?: string | undefined): Promise<UpstreamLink>;
  touchLink(alias: string, subject: string): Promise<void>;
  linksOf(userId: string): Promise<UpstreamLink[]>;
  unlink(userId: string, alias: string, subject: string): Promise<boolean>;
  /** Every link of a user, e.g. when the user is deleted. */
  unlinkAll(userId: string): Promise<number>;
  /** Every link, a batch at a time from a cursor, by id (`gatehouse export`). */
  eachLink(): AsyncIterable<UpstreamLink>;
  /**
   * A link as an export file holds it, with its dates: `conflict` when the upstream identity is
   * linked to another user here (that link stays), `unchanged` when to this one.
   */
  restoreLink(link: UpstreamLink): Promise<'created' | 'unchanged' | 'conflict'>;
}

/** A provider with its secrets in the clear and its dates (an export file's). */
export interface RestoredProvider extends UpstreamSettings {
  readonly clientSecret: string | null;
  readonly privateKeyJwk: Record<string, unknown> | null;
  readonly importedFrom?: ImportedFrom | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Some settings, or how to get them from the provider as stored. */
export type ProviderChange = Partial<UpstreamSettings> | ((current: UpstreamProvider) => Partial<UpstreamSettings>);

export interface UpstreamDirectoryDeps {
  readonly mongo: Connection;
  /** Serialises edits of one provider (FerretDB v1 rewrites the whole document: docs/STORAGE.md); by default on `mongo`. */
  readonly locks?: DocumentLocks;
  /** createSecretBox(secret, 'upstream-secrets'). */
  readonly box: SecretBox;
  readonly now?: () => Date;
}

const PROVIDERS = 'upstream_providers';
const LINKS = 'upstream_links';

const linkId = (alias: string, subject: string) => `${alias} ${subject}`;
/** Links read a batch at a time by eachLink. */
const LINK_BATCH = 500;

function toProvider(doc: StoredProvider): UpstreamProvider {
  const { _id, secret_sealed, private_key_sealed, ...settings } = doc;
  // Providers stored before hide_on_login existed show their button.
  return { ...settings, hide_on_login: settings.hide_on_login ?? false, alias: _id, has_secret: secret_sealed !== null, has_private_key: private_key_sealed !== null };
}

function toLink(doc: StoredLink): UpstreamLink {
  return { provider: doc.provider, subject: doc.subject, userId: doc.user_id, label: doc.label ?? null, createdAt: doc.created_at, lastSignInAt: doc.last_sign_in_at };
}

/** Creates the links' index by user; called once at startup. */
export async function ensureUpstreamIndexes(mongo: Connection): Promise<void> {
  await mongo.db!.collection(LINKS).createIndex({ user_id: 1 }, { name: 'user_id' });
}

export function createUpstreamDirectory({ mongo, box, now = () => new Date(), locks = documentLocks(mongo) }: UpstreamDirectoryDeps): UpstreamDirectory {
  const providers = () => mongo.db!.collection<StoredProvider>(PROVIDERS) ;
  const links = () => mongo.db!.collection<StoredLink>(LINKS) ;

  function sealed(alias: string, secrets: SecretsChange): Partial<Pick<StoredProvider, 'secret_sealed' | 'private_key_sealed'>> {
    const out: Partial<Pick<StoredProvider, 'secret_sealed' | 'private_key_sealed'>> = {};
    if (secrets.clientSecret !== undefined) out.secret_sealed = secrets.clientSecret === null ? null : box.seal(secrets.clientSecret, `secret:${alias}`);
    if (secrets.privateKeyJwk !== undefined) out.private_key_sealed = secrets.privateKeyJwk === null ? null : box.seal(JSON.stringify(secrets.privateKeyJwk), `key:${alias}`);
    return out;
  }

  return {
    async list() {
      return (await providers().find({}).sort({ _id: 1 }).toArray()).map(toProvider);
    },
    async get(alias) {
      const doc = await providers().findOne({ _id: alias });
      return doc === null ? undefined : toProvider(doc);
    },
    async create(settings, secrets, mark) {
      const at = now();
      const { alias, ...rest } = settings;
      const doc: StoredProvider = { ...rest, alias, _id: alias, secret_sealed: null, private_key_sealed: null, ...sealed(alias, secrets), ...(mark === undefined ? {} : { imported_from: { kind: mark.kind, realm: mark.realm } }), created_at: at, updated_at: at };
      try {
        await providers().insertOne(doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('upstream_exists', { alias }, 'alias');
        throw error;
      }
      return toProvider(doc);
    },
    update: (alias, change, secrets, mark) =>
      // Every writer of a provider holds its lock: two PATCHes at once each kept the other's old
      // fields (a whole-document rewrite on FerretDB v1; the claim mapping merge everywhere).
      locks.hold(lockKey(PROVIDERS, alias), async () => {
        let settings: Partial<UpstreamSettings>;
        if (typeof change === 'function') {
          const current = await providers().findOne({ _id: alias });
          if (current === null) return undefined;
          settings = change(toProvider(current));
        } else settings = change;
        // Only the settings' own fields: a change never sets (or clears) the import's mark but through `mark`.
        const { alias: _ignored, imported_from: _mark, ...rest } = settings as Partial<UpstreamSettings> & { imported_from?: unknown };
        const marked = mark === undefined ? {} : { imported_from: { kind: mark.kind, realm: mark.realm } };
        const doc = await providers().findOneAndUpdate({ _id: alias }, { $set: { ...rest, ...sealed(alias, secrets), ...marked, updated_at: now() } }, { returnDocument: 'after' });
        return doc === null ? undefined : toProvider(doc);
      }),
    async remove(alias) {
      const { deletedCount } = await providers().deleteOne({ _id: alias });
      if (deletedCount === 0) return false;
      await links().deleteMany({ provider: alias });
      return true;
    },
    async credentials(alias) {
      const doc = await providers().findOne({ _id: alias }, { projection: { secret_sealed: 1, private_key_sealed: 1 } });
      return {
        clientSecret: doc?.secret_sealed == null ? undefined : box.open(doc.secret_sealed, `secret:${alias}`),
        privateKeyJwk: doc?.private_key_sealed == null ? undefined : (JSON.parse(box.open(doc.private_key_sealed, `key:${alias}`)) as Record<string, unknown>),
      };
    },
    restore: ({ clientSecret, privateKeyJwk, importedFrom, createdAt, updatedAt, ...settings }) =>
      locks.hold(lockKey(PROVIDERS, settings.alias), async () => {
        const { alias } = settings;
        const doc: StoredProvider = {
          ...settings,
          _id: alias,
          secret_sealed: null,
          private_key_sealed: null,
          ...sealed(alias, { clientSecret, privateKeyJwk }),
          ...(importedFrom === undefined ? {} : { imported_from: { kind: importedFrom.kind, realm: importedFrom.realm } }),
          created_at: createdAt,
          updated_at: updatedAt,
        };
        const { upsertedCount } = await providers().replaceOne({ _id: alias }, doc, { upsert: true });
        return upsertedCount > 0 ? 'created' : 'updated';
      }),

    async findLink(alias, subject) {
      const doc = await links().findOne({ _id: linkId(alias, subject) });
      return doc === null ? undefined : toLink(doc);
    },
    async link(alias, subject, userId, label) {
      const doc: StoredLink = { _id: linkId(alias, subject), provider: alias, subject, user_id: userId, label: label ?? null, created_at: now(), last_sign_in_at: now() };
      try {
        await links().insertOne(doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('upstream_already_linked', undefined, 'subject');
        throw error;
      }
      // Linked while the user was being deleted: the link goes (the identity stays free to link elsewhere); the deletion removes links made before it ends.
      await removeRowsOfDeletedUsers(mongo.db!, LINKS, 'user_id', [userId]);
      return toLink(doc);
    },
    async touchLink(alias, subject) {
      await links().updateOne({ _id: linkId(alias, subject) }, { $set: { last_sign_in_at: now() } });
    },
    async linksOf(userId) {
      return (await links().find({ user_id: userId }).sort({ created_at: 1 }).toArray()).map(toLink);
    },
    async unlink(userId, alias, subject) {
      const { deletedCount } = await links().deleteOne({ _id: linkId(alias, subject), user_id: userId });
      return deletedCount > 0;
    },
    async unlinkAll(userId) {
      const { deletedCount } = await links().deleteMany({ user_id: userId });
      return deletedCount;
    },
    async *eachLink() {
      for await (const doc of links().find({}).sort({ _id: 1 }).batchSize(LINK_BATCH)) yield toLink(doc);
    },
    async restoreLink(link) {
      const doc: StoredLink = { _id: linkId(link.provider, link.subject), provider: link.provider, subject: link.subject, user_id: link.userId, label: link.label, created_at: link.createdAt, last_sign_in_at: link.lastSignInAt };
      try {
        await links().insertOne(doc);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const held = await links().findOne({ _id: doc._id }, { projection: { user_id: 1 } });
        return held?.user_id === link.userId ? 'unchanged' : 'conflict';
      }
      await removeRowsOfDeletedUsers(mongo.db!, LINKS, 'user_id', [link.userId]);
      return 'created';
    },
  };
}
