import { Schema, type Connection, type Model } from 'mongoose';

/** An API (resource server): the `aud` of its access tokens and the scopes it defines. */
export interface StoredApi {
  /** The identifier (resource indicator, RFC 8707) doubles as the primary key. */
  _id: string;
  name: string;
  scopes: string[];
  format: 'jwt' | 'opaque';
  alg: 'RS256' | 'ES256';
  /** Access-token lifetime in seconds. */
  accessTokenTtl: number;
  /** Put the user's roles / groups into its access tokens. */
  includeRoles: boolean;
  includeGroups: boolean;
  /** Claim set of its access tokens (absent on APIs created before the option: `gatehouse`). */
  tokenClaims?: 'gatehouse' | 'keycloak';
  /** The client the API itself uses to call introspection, if any. */
  clientId?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const apiSchema = new Schema<StoredApi>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    scopes: { type: [String], default: [] },
    format: { type: String, enum: ['jwt', 'opaque'], required: true },
    alg: { type: String, enum: ['RS256', 'ES256'], required: true },
    accessTokenTtl: { type: Number, required: true },
    includeRoles: { type: Boolean, default: false },
    includeGroups: { type: Boolean, default: false },
    tokenClaims: { type: String, enum: ['gatehouse', 'keycloak'], default: 'gatehouse' },
    clientId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'apis', versionKey: false, strict: 'throw' },
);

export type ApiModel = Model<StoredApi>;

export function apiModel(connection: Connection): ApiModel {
  return (connection.models.Api as ApiModel | undefined) ?? connection.model<StoredApi>('Api', apiSchema);
}
