import type { ClientMetadata } from 'oidc-provider';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { ClientModel, StoredClientRecord } from './model.ts';
import { generateClientId, generateClientSecret, usesSecret } from './secrets.ts';

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
  rotateSecret(clientId: string): Promise<ClientWithSecret | undefined>;
  /** The metadata oidc-provider expects, client_secret decrypted; undefined when unknown. */
  providerMetadata(clientId: string): Promise<ClientMetadata | undefined>;
}

export interface ClientRepositoryDeps {
  readonly model: ClientModel;
  /** createSecretBox(secret, 'client-secrets'). */
  readonly box: SecretBox;
  /** Told after every change, so caches in this and other processes drop the client. */
  readonly onChange?: (clientId: string) => Promise<void>;
  readonly now?: () => Date;
}

const RESERVED_METADATA = ['client_id', 'client_secret'];

function cleanMetadata(metadata: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const clean = { ...metadata };
  for (const key of RESERVED_METADATA) delete clean[key];
  return clean;
}

function view(record: StoredClientRecord): ClientView {
  return {
    clientId: record._id,
    displayName: record.displayName,
    firstParty: record.firstParty,
    allowedApis: record.allowedApis,
    webOrigins: record.webOrigins,
    admin: record.admin,
    metadata: record.metadata,
    hasSecret: record.secretSealed !== null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function createClientRepository({ model, box, onChange, now = () => new Date() }: ClientRepositoryDeps): ClientRepository {
  const changed = async (clientId: string) => onChange?.(clientId);
  const seal = (secret: string, clientId: string) => box.seal(secret, clientId);

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
        createdAt: at,
        updatedAt: at,
      };
      await model.create(record);
      await changed(clientId);
      return { client: view(record), secret };
    },

    async get(clientId) {
      const record = await find(clientId);
      return record === null ? undefined : view(record);
    },

    async list() {
      const records = await model.find().sort({ _id: 1 }).lean<StoredClientRecord[]>().exec();
      return records.map(view);
    },

    async update(clientId, patch) {
      const set: Partial<StoredClientRecord> = { updatedAt: now() };
      if (patch.displayName !== undefined) set.displayName = patch.displayName;
      if (patch.firstParty !== undefined) set.firstParty = patch.firstParty;
      if (patch.allowedApis !== undefined) set.allowedApis = [...patch.allowedApis];
      if (patch.webOrigins !== undefined) set.webOrigins = [...patch.webOrigins];
      if (patch.admin !== undefined) set.admin = patch.admin;
      if (patch.metadata !== undefined) set.metadata = cleanMetadata(patch.metadata);
      const record = await model
        .findOneAndUpdate({ _id: clientId }, { $set: set }, { returnDocument: 'after' })
        .lean<StoredClientRecord>()
        .exec();
      if (record === null) return undefined;
      await changed(clientId);
      return view(record);
    },

    async delete(clientId) {
      const result = await model.deleteOne({ _id: clientId }).exec();
      if (result.deletedCount === 0) return false;
      await changed(clientId);
      return true;
    },

    async rotateSecret(clientId) {
      const secret = generateClientSecret();
      const record = await model
        .findOneAndUpdate({ _id: clientId }, { $set: { secretSealed: seal(secret, clientId), updatedAt: now() } }, { returnDocument: 'after' })
        .lean<StoredClientRecord>()
        .exec();
      if (record === null) return undefined;
      await changed(clientId);
      return { client: view(record), secret };
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
      if (record.secretSealed !== null) metadata.client_secret = box.open(record.secretSealed, record._id);
      return metadata;
    },
  };
}
