import { Schema, type Connection, type Model } from 'mongoose';
import { upsertValidated } from '../storage/validated-writes.ts';
import type { KeycloakUsersContext } from './realm-import.ts';

/**
 * What mapping a Keycloak realm's users needs of the realm (src/keycloak/realm-import.ts
 * KeycloakUsersContext), kept by each import of a realm file, so that its users files can come
 * later on their own (the admin API takes one document per request): collection
 * `keycloak_realms`, one document per realm, `{ _id: <realm name>, context: <JSON text>, updatedAt }`.
 * JSON text, because Keycloak client ids (keys of the role definitions) may hold dots.
 */
export interface StoredRealmContext {
  _id: string;
  context: string;
  updatedAt: Date;
}

const realmContextSchema = new Schema<StoredRealmContext>(
  {
    _id: { type: String, required: true },
    context: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'keycloak_realms', versionKey: false, strict: 'throw' },
);

export type RealmContextModel = Model<StoredRealmContext>;

export function realmContextModel(connection: Connection): RealmContextModel {
  return (connection.models.KeycloakRealm as RealmContextModel | undefined) ?? connection.model<StoredRealmContext>('KeycloakRealm', realmContextSchema);
}

export interface KeycloakRealmContexts {
  /** The context the last import of this realm's realm file kept, or undefined. */
  get(realm: string): Promise<KeycloakUsersContext | undefined>;
  save(context: KeycloakUsersContext): Promise<void>;
}

export function createRealmContexts(model: RealmContextModel, now: () => Date): KeycloakRealmContexts {
  return {
    async get(realm) {
      const stored = await model.findOne({ _id: realm }).lean<StoredRealmContext>().exec();
      return stored === null ? undefined : (JSON.parse(stored.context) as KeycloakUsersContext);
    },
    async save(context) {
      await upsertValidated(model, { _id: context.realm, context: JSON.stringify(context), updatedAt: now() });
    },
  };
}
