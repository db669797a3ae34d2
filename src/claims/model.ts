import { Schema, type Connection, type Model } from 'mongoose';
import type { ClaimMapper, Descriptions } from './spec.ts';
import type { ImportedFrom } from '../accounts/user-model.ts';

/** A mapper as kept: one written before mappers had `introspection` has none (it then follows accessToken, as Keycloak's rule). */
export type StoredMapper = Omit<ClaimMapper, 'introspection'> & { readonly introspection?: boolean | undefined };

/** One document per claim scope in `claim_scopes`, keyed by its name. */
export interface StoredClaimScope {
  _id: string;
  description: Descriptions;
  mappers: StoredMapper[];
  /** The Keycloak realm whose import created it (ClaimScope.importedFrom); absent for one created in Gatehouse. */
  importedFrom?: ImportedFrom;
  createdAt: Date;
  updatedAt: Date;
}

const mapperSchema = new Schema<StoredMapper>(
  {
    type: { type: String, required: true },
    claim: { type: String, required: true },
    attribute: { type: String, default: undefined },
    jsonType: { type: String, default: undefined },
    // A text, a number or a boolean (hardcoded mappers).
    value: { type: Schema.Types.Mixed, default: undefined },
    idToken: { type: Boolean, required: true },
    accessToken: { type: Boolean, required: true },
    introspection: { type: Boolean, default: undefined },
    userinfo: { type: Boolean, required: true },
    multivalued: { type: Boolean, required: true },
  },
  { _id: false, strict: 'throw' },
);

const claimScopeSchema = new Schema<StoredClaimScope>(
  {
    _id: { type: String, required: true },
    description: { type: Schema.Types.Mixed, default: {} },
    mappers: { type: [mapperSchema], default: [] },
    importedFrom: {
      type: new Schema<ImportedFrom>({ kind: { type: String, required: true, enum: ['keycloak'] }, realm: { type: String, required: true } }, { _id: false, strict: 'throw' }),
      default: undefined,
    },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'claim_scopes', versionKey: false, strict: 'throw', timestamps: false, minimize: false },
);

export type ClaimScopeModel = Model<StoredClaimScope>;

export function claimScopeModel(connection: Connection): ClaimScopeModel {
  return (connection.models.ClaimScope as ClaimScopeModel | undefined) ?? connection.model<StoredClaimScope>('ClaimScope', claimScopeSchema);
}
