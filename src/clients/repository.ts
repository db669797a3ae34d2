import { isDeepStrictEqual } from 'node:util';
import type { ClientMetadata } from 'oidc-provider';
import { sameText } from '../crypto/same-text.ts';
import { insertValidated, upsertValidated } from '../storage/validated-writes.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { ImportedFrom } from '../accounts/user-model.ts';
import type { ClientModel, StoredClientRecord } from './model.ts';
import { OPERATOR_ONLY_CLIENT_PROPERTIES } from './gatehouse-properties.ts';
import { generateClientId, generateClientSecret, usesSecret } from './secrets.ts';
import { EXPORT_BATCH } from '../storage/read-batches.ts';

/**
 * Provider metadata field (epoch seconds): client_credentials JWTs of the client with an `iat`
 * up to it are revoked (markTokensRevoked).
 */
export const TOKENS_REVOKED_AT = 'tokens_revoked_at';

/** Provider metadata fields: the secret before a rotation with a grace period, and until when (epoch ms) it authenticates. */
export const PREVIOUS_CLIENT_SECRET = 'gatehouse_previous_client_secret';
export const PREVIOUS_CLIENT_SECRET_UNTIL = 'gatehouse_previous_client_secret_until';

/** Whether a token issued at `iat` (epoch seconds) is revoked by its client's mark (the client's provider metadata). */
export function revokedByClientMark(client: Readonly<Record<string, unknown>> | undefined, iat: unknown): boolean {
  const revokedAt = client?.[TOKENS_REVOKED_AT];
  return typeof revokedAt === 'number' && (typeof iat !== 'number' || iat <= revokedAt);
}

export interface ClientInput {
  readonly clientId?: string;
  readonly displayName: string;
  readonly firstParty?: boolean;
  readonly allowedApis?: readonly string[];
  readonly webOrigins?: readonly string[];
  readonly admin?: boolean;
  /** oidc-provider client metadata (redirect_uris, grant_types, ...), without id and secret. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type ClientPatch = Partial<Omit<ClientInput, 'clientId'>>;

/** A client as Gatehouse shows it: never the secret, only whether it has one. */
export interface ClientView {
  readonly clientId: string;
  readonly displayName: string;
  readonly firstParty: boolean;
  readonly allowedApis: readonly string[];
  readonly webOrigins: readonly string[];
  readonly admin: boolean;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly hasSecret: boolean;
  /**
   * Until when the secret before the last rotation still authenticates (a rotation with a grace
   * period); absent when there is none or its time is over (as of `now`). Never the secret itself.
   */
  readonly previousSecretExpiresAt?: Date;
  /** The Keycloak realm whose import created it (model.ts); absent for a client created in Gatehouse. Not shown by the admin API (showClient). */
  readonly importedFrom?: ImportedFrom;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ClientWithSecret {
  readonly client: ClientView;
  /** Present only when the client authenticates with a secret; shown once, stored sealed. */
  readonly secret: string | undefined;
}

export interface ClientRepository {
  create(input: ClientInput): Promise<ClientWithSecret>;
  get(clientId: string): Promise<ClientView | undefined>;
  list(): Promise<ClientView[]>;
  update(clientId: string, patch: ClientPatch): Promise<ClientView | undefined>;
  delete(clientId: string): Promise<boolean>;
  /**
   * A new secret; with `previousUntil` the current one keeps authenticating until then (it
   * replaces any previous one still in its grace), without it the current one stops at once.
   */
  rotateSecret(clientId: string, previousUntil?: Date): Promise<ClientWithSecret | undefined>;
  /**
   * Records that every token of the client issued until now is revoked (its client_credentials
   * JWTs, which no store holds); the provider metadata then carries `tokens_revoked_at`. False
   * when there is no such client.
   */
  markTokensRevoked(clientId: string): Promise<boolean>;
  /** Takes a role off every client's service-account roles (the role was deleted); the ids of the clients changed. */
  removeServiceAccountRole(role: string): Promise<string[]>;
  /** The metadata oidc-provider expects, client_secret decrypted; undefined when unknown. */
  providerMetadata(clientId: string): Promise<ClientMetadata | undefined>;
  /**
   * Stores a client as dynamic registration (RFC 7591/7592) hands it over: standard metadata
   * only. On an update the operator-controlled fields (first party, APIs, admin) are kept.
   */
  saveRegistered(clientId: string, metadata: Readonly<Record<string, unknown>>): Promise<RegisteredSave | undefined>;
  /** Every client with its secret in the clear, by id, read a batch at a time (`gatehouse export`). */
  exportEach(): AsyncIterable<ExportedClient>;
  /** Writes an exported client, sealing its secret under this deployment's key. */
  importOne(client: ExportedClient): Promise<'created' | 'updated'>;
}

/**
 * What a registration write did, for the audit trail: names only, never values. `fields` are the
 * metadata names the new record holds, or those an update changed (`client_secret` when a new
 * secret was issued). Undefined from saveRegistered: the client was deleted meanwhile, nothing written.
 */
export interface RegisteredSave {
  readonly created: boolean;
  readonly fields: readonly string[];
}

/** A client as an export file holds it: the secret in the clear (the file is 0600), dates as ISO strings. */
export type ExportedClient = Omit<ClientView, 'hasSecret' | 'previousSecretExpiresAt' | 'createdAt' | 'updatedAt'> & {
  readonly secret: string | null;
  /**
   * The secret before the last rotation while its grace lasts (in the clear like `secret`), and
   * until when: a deployment moved mid-rotation keeps accepting it until then. Absent when there
   * is none, when its grace is over, and from a Keycloak import.
   */
  readonly previousSecret?: { readonly secret: string; readonly expiresAt: string } | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
};


export interface ClientRepositoryDeps {
  readonly model: ClientModel;
  /** createSecretBox(secret, 'client-secrets'). */
  readonly box: SecretBox;
  /** Told after every change, so caches in this and other processes drop the client. */
  readonly onChange?: (clientId: string) => Promise<void>;
  /**
   * The system clock by default, also in the server (src/oidc/storage.ts): the revocation marks
   * are compared with the `iat` the provider stamps on the system clock.
   */
  readonly now?: () => Date;
  /** Held around every write of a client record (FerretDB v1 rewrites the whole document); by default in `model`'s database. */
  readonly locks?: DocumentLocks;
}

// Also Gatehouse's own fields the Client adapter carries beside the metadata (providerMetadata): never metadata.
const RESERVED_METADATA = ['client_id', 'client_secret', TOKENS_REVOKED_AT, PREVIOUS_CLIENT_SECRET, PREVIOUS_CLIENT_SECRET_UNTIL];

/** The fields of a record without a previous secret (src/clients/previous-secret.ts). */
const NO_PREVIOUS_SECRET = { previousSecretSealed: null, previousSecretExpiresAt: null } as const;

export class ClientConflictError extends ConflictError {
  constructor(clientId: string) {
    super('client_exists', { client_id: clientId }, 'client_id');
  }
}


function cleanMetadata(metadata: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const clean = { ...metadata };
  for (const key of RESERVED_METADATA) delete clean[key];
  return clean;
}

/**
 * The mark a new client starts with: its client_credentials JWTs issued before the second it was
 * created are refused. A client deleted and created again under the same id (or restored from an
 * export) must not revive the JWTs of the one before, and nothing of those is stored that the
 * deletion could have removed. Tokens from the creation's own second still count (`iat` has
 * one-second precision): only an old token issued in the same second as both the deletion and
 * the re-creation slips through.
 */
function createdMark(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000 - 1000);
}

function view(record: StoredClientRecord, at: Date): ClientView {
  const previousUntil = record.previousSecretSealed == null ? undefined : record.previousSecretExpiresAt;
  return {
    clientId: record._id,
    displayName: record.displayName,
    firstParty: record.firstParty,
    allowedApis: record.allowedApis,
    webOrigins: record.webOrigins,
    admin: record.admin,
    metadata: record.metadata,
    hasSecret: record.secretSealed !== null,
    ...(previousUntil instanceof Date && previousUntil > at ? { previousSecretExpiresAt: previousUntil } : {}),
    ...(record.importedFrom == null ? {} : { importedFrom: { kind: record.importedFrom.kind, realm: record.importedFrom.realm } }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function createClientRepository({ model, box, onChange, now = () => new Date(), locks = documentLocks(model.db) }: ClientRepositoryDeps): ClientRepository {
  const changed = async (clientId: string) => onChange?.(clientId);
  const locked = <T>(clientId: string, work: () => Promise<T>) => locks.hold(lockKey('clients', clientId), work);
  const seal = (secret: string, clientId: string) => box.seal(secret, clientId);
  /** Whether the stored (sealed) secret is `secret`; none and none are the same. */
  const holdsSecret = (sealed: string | null | undefined, clientId: string, secret: string | null | undefined): boolean =>
    sealed == null || secret == null ? (sealed == null) === (secret == null) : sameText(box.open(sealed, clientId), secret);

  async function find(clientId: string): Promise<StoredClientRecord | null> {
    return model.findById(clientId).lean<StoredClientRecord>().exec();
  }

  return {
    async create(input) {
      const clientId = input.clientId ?? generateClientId();
      const metadata = cleanMetadata(input.metadata);
      const secret = usesSecret(metadata) ? generateClientSecret() : undefined;
      const at = now();
      const record: StoredClientRecord = {
        _id: clientId,
        metadata,
        secretSealed: secret === undefined ? null : seal(secret, clientId),
        displayName: input.displayName,
        firstParty: input.firstParty ?? false,
        allowedApis: [...(input.allowedApis ?? [])],
        webOrigins: [...(input.webOrigins ?? [])],
        admin: input.admin ?? false,
        tokensRevokedAt: createdMark(at),
        createdAt: at,
        updatedAt: at,
      };
      try {
        await insertValidated(model, record);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ClientConflictError(clientId);
        throw error;
      }
      await changed(clientId);
      return { client: view(record, now()), secret };
    },

    async get(clientId) {
      const record = await find(clientId);
      return record === null ? undefined : view(record, now());
    },

    async list() {
      const records = await model.find().sort({ _id: 1 }).lean<StoredClientRecord[]>().exec();
      const at = now();
      return records.map((record) => view(record, at));
    },

    async update(clientId, patch) {
      const set: Partial<StoredClientRecord> = { updatedAt: now() };
      if (patch.displayName !== undefined) set.displayName = patch.displayName;
      if (patch.firstParty !== undefined) set.firstParty = patch.firstParty;
      if (patch.allowedApis !== undefined) set.allowedApis = [...patch.allowedApis];
      if (patch.webOrigins !== undefined) set.webOrigins = [...patch.webOrigins];
      if (patch.admin !== undefined) set.admin = patch.admin;
      if (patch.metadata !== undefined) set.metadata = cleanMetadata(patch.metadata);
      const record = await locked(clientId, () => model.findOneAndUpdate({ _id: clientId }, { $set: set }, { returnDocument: 'after' }).lean<StoredClientRecord>().exec());
      if (record === null) return undefined;
      await changed(clientId);
      return view(record, now());
    },

    async delete(clientId) {
      const result = await locked(clientId, () => model.deleteOne({ _id: clientId }).exec());
      if (result.deletedCount === 0) return false;
      await changed(clientId);
      return true;
    },

    async rotateSecret(clientId, previousUntil) {
      const secret = generateClientSecret();
      const record = await locked(clientId, async () => {
        // Under the client's lock: the secret kept is the one current right before this rotation.
        const before = previousUntil === undefined ? null : await model.findById(clientId, { secretSealed: 1 }).lean<Pick<StoredClientRecord, 'secretSealed'>>().exec();
        const kept = before?.secretSealed ?? null;
        const previous = kept === null ? NO_PREVIOUS_SECRET : { previousSecretSealed: kept, previousSecretExpiresAt: previousUntil! };
        return model.findOneAndUpdate({ _id: clientId }, { $set: { secretSealed: seal(secret, clientId), ...previous, updatedAt: now() } }, { returnDocument: 'after' }).lean<StoredClientRecord>().exec();
      });
      if (record === null) return undefined;
      await changed(clientId);
      return { client: view(record, now()), secret };
    },

    async markTokensRevoked(clientId) {
      const result = await locked(clientId, () => model.updateOne({ _id: clientId }, { $set: { tokensRevokedAt: now() } }).exec());
      if (result.matchedCount === 0) return false;
      await changed(clientId);
      return true;
    },

    async removeServiceAccountRole(role) {
      const holders = await model.find({ 'metadata.service_account_roles': role }, { _id: 1 }).lean<Array<{ _id: string }>>().exec();
      const changedIds: string[] = [];
      // One client at a time under its lock (FerretDB v1 rewrites the whole document, as update does).
      for (const { _id } of holders) {
        const result = await locked(_id, () => model.updateOne({ _id, 'metadata.service_account_roles': role }, { $pull: { 'metadata.service_account_roles': role }, $set: { updatedAt: now() } }).exec());
        if (result.matchedCount === 0) continue;
        changedIds.push(_id);
        await changed(_id);
      }
      return changedIds;
    },

    async providerMetadata(clientId) {
      const record = await find(clientId);
      if (record === null) return undefined;
      // Gatehouse's own fields travel as extra client metadata (see src/oidc/client-metadata.ts).
      const metadata = {
        client_name: record.displayName,
        ...record.metadata,
        client_id: record._id,
        first_party: record.firstParty,
        allowed_apis: record.allowedApis,
        web_origins: record.webOrigins,
        admin_client: record.admin,
      } as ClientMetadata;
      // Not client metadata oidc-provider knows (it drops it): read by jwt-records.ts through the Client adapter.
      if (record.tokensRevokedAt instanceof Date) metadata[TOKENS_REVOKED_AT] = Math.floor(record.tokensRevokedAt.getTime() / 1000);
      if (record.secretSealed !== null) metadata.client_secret = box.open(record.secretSealed, record._id);
      // Also read only through the Client adapter (src/clients/previous-secret.ts); the provider drops them.
      if (record.secretSealed !== null && record.previousSecretSealed != null && record.previousSecretExpiresAt instanceof Date) {
        metadata[PREVIOUS_CLIENT_SECRET] = box.open(record.previousSecretSealed, record._id);
        metadata[PREVIOUS_CLIENT_SECRET_UNTIL] = record.previousSecretExpiresAt.getTime();
      }
      return metadata;
    },

    async saveRegistered(clientId, provided) {
      const metadata = cleanMetadata(provided);
      for (const key of OPERATOR_ONLY_CLIENT_PROPERTIES) delete metadata[key];
      delete metadata.client_secret_expires_at;
      const secret = typeof provided.client_secret === 'string' ? provided.client_secret : undefined;
      const at = now();
      const set = {
        metadata,
        secretSealed: secret === undefined ? null : seal(secret, clientId),
        displayName: typeof metadata.client_name === 'string' ? metadata.client_name : clientId,
        updatedAt: at,
      };
      // Insert-then-update rather than an upsert with $setOnInsert (FerretDB v1 drops some of
      // its fields); a registration and a concurrent update settle on the unique _id.
      const inserted = await insertValidated(model, { _id: clientId, ...set, firstParty: false, allowedApis: [], webOrigins: [], admin: false, tokensRevokedAt: createdMark(at), createdAt: at }).then(
          () => true,
          (error: unknown) => {
            if (!isDuplicateKey(error)) throw error;
            return false;
          },
        );
      if (inserted) {
        await changed(clientId);
        return { created: true, fields: [...Object.keys(metadata), ...(secret === undefined ? [] : ['client_secret'])].sort() };
      }
      const update = await locked(clientId, async () => {
        const current = await model.findById(clientId, { secretSealed: 1 }).lean<Pick<StoredClientRecord, 'secretSealed'>>().exec();
        if (current === null) return null;
        const secretChanged = !holdsSecret(current.secretSealed, clientId, secret);
        // A new secret ends a rotation's grace: only the secret it rotated to keeps the one before.
        const $set = secretChanged ? { ...set, ...NO_PREVIOUS_SECRET } : set;
        const before = await model.findOneAndUpdate({ _id: clientId }, { $set }, { runValidators: true, returnDocument: 'before' }).lean<StoredClientRecord>().exec();
        return before === null ? null : { before, secretChanged };
      });
      await changed(clientId);
      if (update === null) return undefined;
      const { before, secretChanged } = update;
      const names = new Set([...Object.keys(before.metadata), ...Object.keys(metadata)]);
      const fields = [...names].filter((name) => !isDeepStrictEqual(before.metadata[name], metadata[name]));
      if (secretChanged) fields.push('client_secret');
      return { created: false, fields: fields.sort() };
    },

    async *exportEach() {
      for await (const record of model.find().sort({ _id: 1 }).lean<StoredClientRecord>().cursor({ batchSize: EXPORT_BATCH })) {
        const { hasSecret: _hasSecret, previousSecretExpiresAt: previousUntil, createdAt, updatedAt, ...shown } = view(record, now());
        const secret = record.secretSealed === null ? null : box.open(record.secretSealed, record._id);
        yield {
          ...shown,
          secret,
          // Still in its grace (view): carried, so that clients not yet on the new secret keep working where the file is imported.
          ...(secret === null || previousUntil === undefined ? {} : { previousSecret: { secret: box.open(record.previousSecretSealed!, record._id), expiresAt: previousUntil.toISOString() } }),
          createdAt: createdAt.toISOString(),
          updatedAt: updatedAt.toISOString(),
        };
      }
    },

    async importOne(client) {
      const record: StoredClientRecord = {
        _id: client.clientId,
        metadata: cleanMetadata(client.metadata),
        secretSealed: client.secret === null ? null : seal(client.secret, client.clientId),
        displayName: client.displayName,
        firstParty: client.firstParty,
        allowedApis: [...client.allowedApis],
        webOrigins: [...client.webOrigins],
        admin: client.admin,
        // The file's (a Keycloak import's own write, or a gatehouse export of it): absent, the client is no import's.
        ...(client.importedFrom === undefined ? {} : { importedFrom: { kind: client.importedFrom.kind, realm: client.importedFrom.realm } }),
        createdAt: new Date(client.createdAt),
        updatedAt: new Date(client.updatedAt),
      };
      const carried = client.previousSecret === undefined || client.secret === null ? undefined : { secret: client.previousSecret.secret, until: new Date(client.previousSecret.expiresAt) };
      const created = await locked(client.clientId, async () => {
        // An export carries no revocation mark: the one here stays (a revocation is never undone
        // by an import); a client new here gets the mark of a new client (create above).
        type Existing = Pick<StoredClientRecord, 'tokensRevokedAt' | 'secretSealed' | 'previousSecretSealed' | 'previousSecretExpiresAt'>;
        const existing = await model.findById(client.clientId, { tokensRevokedAt: 1, secretSealed: 1, previousSecretSealed: 1, previousSecretExpiresAt: 1 }).lean<Existing>().exec();
        record.tokensRevokedAt = existing === null ? createdMark(now()) : (existing.tokensRevokedAt ?? null);
        // The previous secret: the file's while its grace lasts; else the one here only if the
        // import keeps the secret it was rotated to (a new secret replaced it on purpose).
        if (carried !== undefined) {
          Object.assign(record, carried.until > now() ? { previousSecretSealed: seal(carried.secret, client.clientId), previousSecretExpiresAt: carried.until } : NO_PREVIOUS_SECRET);
        } else {
          const sameSecret = client.secret !== null && holdsSecret(existing?.secretSealed, client.clientId, client.secret);
          Object.assign(record, sameSecret ? { previousSecretSealed: existing?.previousSecretSealed ?? null, previousSecretExpiresAt: existing?.previousSecretExpiresAt ?? null } : NO_PREVIOUS_SECRET);
        }
        await upsertValidated(model, record);
        return existing === null;
      });
      await changed(client.clientId);
      return created ? 'created' : 'updated';
    },
  };
}
