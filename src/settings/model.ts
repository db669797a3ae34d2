import { Schema, type Connection, type Model } from 'mongoose';
import type { SettingsGroup, StoredValues } from './group.ts';

/** One document per group of runtime settings, its id the group's (`sign-in`, `password-policy`, ...). */
export interface StoredSettings<S extends object = Record<string, unknown>> {
  _id: string;
  /** Only the settings an operator changed; the others follow the configuration. */
  values: StoredValues<S>;
  /** Goes up by one with every write (concurrent writers retry). */
  version: number;
  updatedAt: Date;
}

export type SettingsModel<S extends object = Record<string, unknown>> = Model<StoredSettings<S>>;

/** The group's model on the shared `settings` collection: its own values schema, strict. */
export function settingsModel<S extends object>(connection: Connection, group: SettingsGroup<S>): SettingsModel<S> {
  const name = `Settings_${group.id}`;
  const existing = connection.models[name] as SettingsModel<S> | undefined;
  if (existing !== undefined) return existing;
  // No defaults inside `values`: an absent setting means "as configured" (an array would default to []).
  const values = new Schema(group.storedShape, { _id: false, strict: 'throw' });
  const schema = new Schema<StoredSettings<S>>(
    {
      _id: { type: String, required: true },
      values: { type: values as never, required: true },
      version: { type: Number, required: true, min: 1 },
      updatedAt: { type: Date, required: true },
    },
    { collection: 'settings', versionKey: false, strict: 'throw' },
  );
  return connection.model<StoredSettings<S>>(name, schema);
}

/**
 * The documents of the groups `ids` in one read, by group id (a group never changed has none):
 * what every group's store starts from (src/settings/runtime.ts), one command instead of one per group.
 */
export async function readSettingsDocuments(connection: Connection, ids: readonly string[]): Promise<Map<string, StoredSettings>> {
  const docs = await connection.db!.collection<StoredSettings>('settings').find({ _id: { $in: [...ids] } }).toArray();
  return new Map(docs.map((doc) => [doc._id, doc]));
}
