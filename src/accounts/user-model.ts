import { Schema, type Connection, type Model } from 'mongoose';
import { ADDRESS_FIELDS, type ProfileAttributes } from './profile-attributes.ts';
import type { CustomAttributes } from './custom-attributes.ts';

/**
 * One document per user in `users`. `_id` is the OIDC `sub`: a random UUID, stable across
 * renames, never derived from the username.
 *
 * Uniqueness is enforced by the database on two keys that EVERY document carries:
 * - `usernameKey`: the normalized username;
 * - `emailKey`: the normalized email, or `none:<_id>` for users without one. FerretDB v1 ignores
 *   `sparse` and rejects `partialFilterExpression`, so a unique index over an optional field
 *   would let only one user lack an email. The placeholder contains no `@`, so it can never
 *   equal a real address (see docs/ACCOUNTS.md).
 */
export interface StoredUser {
  _id: string;
  username: string;
  usernameKey: string;
  email: string | null;
  emailKey: string;
  emailVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  name: string | null;
  /** The other standard claims (src/accounts/profile-attributes.ts); absent on users stored before they existed. */
  attributes?: ProfileAttributes;
  /** Operator-defined attributes (src/accounts/custom-attributes.ts), apart from the standard claims; absent when there are none. */
  customAttributes?: CustomAttributes;
  roles: string[];
  groups: string[];
  disabled: boolean;
  /**
   * Who disabled the user: `import` (a Keycloak import: the realm had it disabled), `operator` (the
   * admin API, CLI or console). A re-import enables again only a user it disabled itself. Absent on
   * enabled users and on users disabled before it was recorded (taken as an operator's).
   */
  disabledBy?: DisabledBy;
  /** Has a second factor (authenticator app or passkey); kept by src/mfa/enrolment.ts. */
  secondFactor?: boolean;
  /** Created through self-registration (GATEHOUSE_SELF_REGISTRATION); absent on other users. */
  selfRegistered?: boolean;
  /**
   * Where the user came from when an import created it (a Keycloak realm: src/keycloak/apply-import.ts);
   * absent on users created in Gatehouse and on users imported before the mark existed. A re-import
   * updates only users marked with its own realm. Never in tokens, userinfo or the account page.
   */
  importedFrom?: ImportedFrom;
  /** What the user must do at their next sign-in (src/accounts/required-actions.ts); absent or empty: nothing. */
  requiredActions?: string[];
  /** null for a user who signs in without a password (a passkey, an upstream provider). */
  passwordHash: string | null;
  passwordChangedAt: Date | null;
  /**
   * Legacy: sign-ins write `user_sign_ins` (sign-ins.ts), never this field (FerretDB's whole-document
   * rewrite, docs/STORAGE.md). Older documents and imports may carry a time; readers take the later.
   */
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Who disabled a user (StoredUser.disabledBy). */
export type DisabledBy = 'import' | 'operator';

/** The source of an imported user (StoredUser.importedFrom). */
export interface ImportedFrom {
  kind: 'keycloak';
  /** The Keycloak realm's name, as its export gives it. */
  realm: string;
}

export { noEmailKey } from './normalize.ts';

const optionalString = { type: String, default: null };

const addressSchema = new Schema(Object.fromEntries(ADDRESS_FIELDS.map((field) => [field, String])), { _id: false, strict: 'throw' });

const attributesSchema = new Schema<ProfileAttributes>(
  {
    middle_name: String,
    nickname: String,
    profile: String,
    picture: String,
    website: String,
    gender: String,
    birthdate: String,
    zoneinfo: String,
    locale: String,
    phone_number: String,
    phone_number_verified: Boolean,
    address: { type: addressSchema, default: undefined },
  },
  { _id: false, strict: 'throw' },
);

const importedFromSchema = new Schema<ImportedFrom>(
  {
    kind: { type: String, required: true, enum: ['keycloak'] },
    realm: { type: String, required: true },
  },
  { _id: false, strict: 'throw' },
);

const userSchema = new Schema<StoredUser>(
  {
    _id: { type: String, required: true },
    username: { type: String, required: true },
    usernameKey: { type: String, required: true },
    email: optionalString,
    emailKey: { type: String, required: true },
    emailVerified: { type: Boolean, required: true, default: false },
    givenName: optionalString,
    familyName: optionalString,
    name: optionalString,
    attributes: { type: attributesSchema, default: undefined },
    // Free-form names (checked by custom-attributes.ts before every write): stored as given.
    customAttributes: { type: Schema.Types.Mixed, default: undefined },
    roles: { type: [String], default: [] },
    groups: { type: [String], default: [] },
    disabled: { type: Boolean, required: true, default: false },
    disabledBy: { type: String, enum: ['import', 'operator'], default: undefined },
    secondFactor: { type: Boolean, default: false },
    selfRegistered: { type: Boolean, default: undefined },
    requiredActions: { type: [String], default: undefined },
    importedFrom: { type: importedFromSchema, default: undefined },
    passwordHash: { type: String, default: null },
    passwordChangedAt: { type: Date, default: null },
    lastLoginAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  // Timestamps are set by the service from its injected clock, not by mongoose.
  { collection: 'users', versionKey: false, strict: 'throw', timestamps: false },
);

userSchema.index({ usernameKey: 1 }, { unique: true, name: 'usernameKey_unique' });
userSchema.index({ emailKey: 1 }, { unique: true, name: 'emailKey_unique' });
userSchema.index({ roles: 1 }, { name: 'roles' });
userSchema.index({ groups: 1 }, { name: 'groups' });

export type UserModel = Model<StoredUser>;

export function userModel(connection: Connection): UserModel {
  return (connection.models.User as UserModel | undefined) ?? connection.model<StoredUser>('User', userSchema);
}

/** Creates the collection's indexes; called once at startup (connections use autoIndex: false). */
export async function ensureUserIndexes(model: UserModel): Promise<void> {
  await model.createIndexes();
}
