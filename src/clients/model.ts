import { Schema, type Connection, type Model } from 'mongoose';
import type { ImportedFrom } from '../accounts/user-model.ts';

/**
 * Gatehouse's own client record (collection `clients`): the oidc-provider metadata plus what
 * Gatehouse adds. The client secret is never stored in the clear: `secretSealed` is
 * AES-256-GCM under the "client-secrets" key with the client id as associated data, so a
 * sealed secret copied onto another client does not open.
 */
export interface StoredClientRecord {
  _id: string;
  /** oidc-provider client metadata except client_id and client_secret. */
  metadata: Record<string, unknown>;
  secretSealed: string | null;
  /**
   * The secret before the last rotation with a grace period (src/clients/previous-secret.ts),
   * sealed like `secretSealed` (same key, the client id as associated data), and until when it
   * still authenticates. Null (or absent, on records from before) when there is none.
   */
  previousSecretSealed?: string | null;
  previousSecretExpiresAt?: Date | null;
  displayName: string;
  firstParty: boolean;
  /** Identifiers of the APIs (resource servers) this client may request tokens for. */
  allowedApis: string[];
  /** Origins allowed for browser (CORS) calls. */
  webOrigins: string[];
  admin: boolean;
  /**
   * When the client's tokens were last revoked in bulk (admin API, CLI): client_credentials
   * JWTs issued up to that second are refused (src/oidc/jwt-records.ts), since nothing of them
   * is stored that a revocation could delete. Absent until the first such revocation.
   */
  tokensRevokedAt?: Date | null;
  /** The Keycloak realm whose import created the client: only a re-import of that realm replaces it (src/keycloak/apply-import.ts). Absent for one created in Gatehouse. */
  importedFrom?: ImportedFrom;
  createdAt: Date;
  updatedAt: Date;
}

const importedFromSchema = new Schema<ImportedFrom>(
  {
    kind: { type: String, required: true, enum: ['keycloak'] },
    realm: { type: String, required: true },
  },
  { _id: false, strict: 'throw' },
);

const clientSchema = new Schema<StoredClientRecord>(
  {
    _id: { type: String, required: true },
    metadata: { type: Schema.Types.Mixed, required: true },
    secretSealed: { type: String, default: null },
    previousSecretSealed: { type: String, default: null },
    previousSecretExpiresAt: { type: Date, default: null },
    displayName: { type: String, required: true },
    firstParty: { type: Boolean, required: true, default: false },
    allowedApis: { type: [String], default: [] },
    webOrigins: { type: [String], default: [] },
    admin: { type: Boolean, required: true, default: false },
    tokensRevokedAt: { type: Date, default: null },
    importedFrom: { type: importedFromSchema, default: undefined },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'clients', versionKey: false, strict: 'throw', minimize: false },
);

export type ClientModel = Model<StoredClientRecord>;

export function clientModel(connection: Connection): ClientModel {
  return (connection.models.Client as ClientModel | undefined) ?? connection.model<StoredClientRecord>('Client', clientSchema);
}
