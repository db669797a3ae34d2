import type { SchemaDefinition } from 'mongoose';
import { z } from 'zod';
import type { RuntimeSettingName } from '../config/schema.ts';
import type { ErrorDetail } from '../errors/gatehouse-error.ts';

/** What the store holds of a group: the settings an operator changed (the rest follow the configuration). */
export type StoredValues<S> = { -readonly [K in keyof S]?: S[K] };
/** A change: only the settings named change; `null` returns one to its configured value. */
export type SettingsPatch<S> = { [K in keyof S]?: S[K] | null };

/**
 * One group of runtime settings (one admin API resource, one console form, one MongoDB
 * document). Every setting has an environment variable that pins it; its name is the
 * variable's without GATEHOUSE_, lowercased.
 */
export interface SettingsGroup<S extends object> {
  /** The document id and the admin API path: /settings/<id>. */
  readonly id: string;
  /** The environment variable behind each setting (README: Runtime settings). */
  readonly env: Readonly<Record<keyof S & string, RuntimeSettingName>>;
  /** A change: a strict object of nullable optional values (unknown names are a 400 naming them). */
  readonly patchSchema: z.ZodType<SettingsPatch<S>>;
  /** The mongoose definition of the stored values (no defaults: an absent setting follows the configuration). */
  readonly storedShape: SchemaDefinition;
  /** Rules across settings, checked on the values a change would put in force (400 naming the field). */
  readonly problems?: (settings: S) => ErrorDetail[];
}

/** A whole number of `unit` within `range`, as a change may set it (null: back to the configured value; absent: unchanged). */
export function wholeNumberChange(range: { readonly min: number; readonly max: number }) {
  return z
    .number()
    .int()
    .min(range.min)
    .max(range.max)
    .nullable()
    .optional();
}

export function settingNames<S extends object>(group: SettingsGroup<S>): Array<keyof S & string> {
  return Object.keys(group.env) as Array<keyof S & string>;
}

/** Settings of the group whose environment variable is set: name → variable. */
export function pinnedIn<S extends object>(group: SettingsGroup<S>, pinned: readonly RuntimeSettingName[]): Partial<Record<keyof S & string, RuntimeSettingName>> {
  return Object.fromEntries(settingNames(group).filter((name) => pinned.includes(group.env[name])).map((name) => [name, group.env[name]])) as Partial<Record<keyof S & string, RuntimeSettingName>>;
}

/** Stored values over the configured ones, except where the environment pins a setting. */
export function effectiveOf<S extends object>(group: SettingsGroup<S>, configured: S, stored: StoredValues<S>, pinned: Partial<Record<keyof S & string, string>>): S {
  const result: Record<string, unknown> = { ...(configured as Record<string, unknown>) };
  for (const name of settingNames(group)) {
    const value = stored[name];
    if (value !== undefined && pinned[name] === undefined) result[name] = value;
  }
  return result as S;
}

/**
 * A group's name table: each setting → the field of the configuration section it starts from,
 * which is also the field of the policy its consumers read (the limiter's, the OTP policy...).
 * Both directions below come from the one table, so a setting cannot be mapped one way only.
 */
export type NameTable = Readonly<Record<string, string>>;

/** The settings a configuration section gives: setting → the section's field the table names. */
export function settingsFrom<const T extends Readonly<Record<string, keyof C & string>>, C>(table: T, section: C): { -readonly [K in keyof T]: C[T[K]] } {
  return Object.fromEntries(Object.entries(table).map(([setting, field]) => [setting, section[field as keyof C]])) as { -readonly [K in keyof T]: C[T[K]] };
}

/** The policy fields the settings in force give: the table's field → its setting's value. */
export function fieldsFrom<const T extends NameTable, S extends { readonly [K in keyof T]: unknown }>(table: T, settings: S): { -readonly [K in keyof T as T[K]]: S[K] } {
  return Object.fromEntries(Object.entries(table).map(([setting, field]) => [field, settings[setting as keyof S]])) as { -readonly [K in keyof T as T[K]]: S[K] };
}
