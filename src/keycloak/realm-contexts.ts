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

/** A realm's context as `gatehouse export` writes it (src/transfer/export-file.ts): the context, and when it was kept. */
export type ExportedRealmContext = KeycloakUsersContext & { readonly updatedAt: Date };

export interface KeycloakRealmContexts {
  /** The context the last import of this realm's realm file kept, or undefined. */
  get(realm: string): Promise<KeycloakUsersContext | undefined>;
  save(context: KeycloakUsersContext): Promise<void>;
  /** Every realm's (one document per imported realm: few), for `gatehouse export`. */
  exportAll(): Promise<ExportedRealmContext[]>;
  /** One from an export, replacing what this deployment kept of the realm: whether it was new. */
  restore(exported: ExportedRealmContext): Promise<'created' | 'updated'>;
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
    async exportAll() {
      const stored = await model.find({}).sort({ _id: 1 }).lean<StoredRealmContext[]>().exec();
      return stored.map(({ context, updatedAt }) => ({ ...(JSON.parse(context) as KeycloakUsersContext), updatedAt }));
    },
    async restore({ updatedAt, ...context }) {
      return (await upsertValidated(model, { _id: context.realm, context: JSON.stringify(context), updatedAt })) ? 'created' : 'updated';
    },
  };
}
