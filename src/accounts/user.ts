import type { ProfileAttributes } from './profile-attributes.ts';
import { orderedActions, type RequiredAction } from './required-actions.ts';
import type { CustomAttributes } from './custom-attributes.ts';
import type { ImportedFrom, StoredUser } from './user-model.ts';

/** A user as the rest of Gatehouse sees it: never the password hash. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly email: string | null;
  readonly emailVerified: boolean;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly name: string | null;
  /** The other OpenID standard claims; an unset one is absent. */
  readonly attributes: ProfileAttributes;
  /** Operator-defined attributes (src/accounts/custom-attributes.ts); empty when there are none. */
  readonly customAttributes: CustomAttributes;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly disabled: boolean;
  /** Has a second factor enrolled (the sign-in asks for it). */
  readonly secondFactor: boolean;
  /** Created the account themselves (self-registration). */
  readonly selfRegistered: boolean;
  /** What the user must do at their next sign-in, in the order it is asked (required-actions.ts). */
  readonly requiredActions: readonly RequiredAction[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Has a password (users created by an upstream sign-in, or passkey-only users, have none). */
  readonly hasPassword: boolean;
  /** null while the user has no password. */
  readonly passwordChangedAt: Date | null;
  /**
   * The last sign-in. Sign-in times live in `user_sign_ins` (sign-ins.ts); `findById` and
   * `findByLogin` stay one read each (they are on the sign-in path) and give only a legacy value
   * from the user document, so operator views complete it with `UserAdmin.withLastSignIn`.
   */
  readonly lastLoginAt: Date | null;
  /** The Keycloak realm an import created the user from (its re-imports own the user); for operators' views only, never tokens or the account page. */
  readonly importedFrom?: ImportedFrom;
}

/** The mark as operators see it, copied from the document. */
export const importedFromOf = (doc: Pick<StoredUser, 'importedFrom'>): { importedFrom?: ImportedFrom } =>
  doc.importedFrom == null ? {} : { importedFrom: { kind: doc.importedFrom.kind, realm: doc.importedFrom.realm } };

export function toUser(doc: StoredUser): User {
  return {
    id: doc._id,
    username: doc.username,
    email: doc.email,
    emailVerified: doc.emailVerified,
    givenName: doc.givenName,
    familyName: doc.familyName,
    name: doc.name,
    attributes: doc.attributes ?? {},
    customAttributes: doc.customAttributes ?? {},
    roles: doc.roles,
    groups: doc.groups,
    disabled: doc.disabled,
    secondFactor: doc.secondFactor === true,
    selfRegistered: doc.selfRegistered === true,
    requiredActions: orderedActions(doc.requiredActions),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    hasPassword: typeof doc.passwordHash === 'string',
    passwordChangedAt: doc.passwordChangedAt,
    lastLoginAt: doc.lastLoginAt,
    ...importedFromOf(doc),
  };
}
