import { Schema, type Connection, type Model } from 'mongoose';
import type { StoredSignIn } from './sign-in.ts';

/** One document per group of runtime settings; the sign-in group's id is `sign-in`. */
export interface StoredSettings {
  _id: string;
  /** Only the settings an operator changed; the others follow the configuration. */
  values: StoredSignIn;
  /** Goes up by one with every write (concurrent writers retry). */
  version: number;
  updatedAt: Date;
}

// No defaults inside `values`: an absent setting means "as configured" (an array would default to []).
const signInValuesSchema = new Schema<StoredSignIn>(
  {
    self_registration: { type: Boolean },
    self_registration_domains: { type: [String], default: undefined },
    require_verified_email: { type: String, enum: ['off', 'self-registered', 'all'] },
    email_verification_ttl: { type: Number, min: 60, max: 30 * 86_400 },
    password_reset: { type: Boolean },
    password_reset_ttl: { type: Number, min: 60, max: 86_400 },
  },
  { _id: false, strict: 'throw' },
);

const settingsSchema = new Schema<StoredSettings>(
  {
    _id: { type: String, required: true },
    values: { type: signInValuesSchema, required: true },
    version: { type: Number, required: true, min: 1 },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'settings', versionKey: false, strict: 'throw' },
);

export type SettingsModel = Model<StoredSettings>;

export function settingsModel(connection: Connection): SettingsModel {
  return (connection.models.Settings as SettingsModel | undefined) ?? connection.model<StoredSettings>('Settings', settingsSchema);
}
