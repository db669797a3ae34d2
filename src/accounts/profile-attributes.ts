import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import { hasHiddenCharacter } from './normalize.ts';

/**
 * The OpenID Connect standard claims (Core §5.1) a user carries besides username, names and
 * email: stored under the claim's own name, so the protocol layer releases them as they are.
 * An attribute that is not set is absent (never null or empty).
 */
export interface AddressClaim {
  readonly formatted?: string;
  readonly street_address?: string;
  readonly locality?: string;
  readonly region?: string;
  readonly postal_code?: string;
  readonly country?: string;
}

export interface ProfileAttributes {
  readonly middle_name?: string;
  readonly nickname?: string;
  readonly profile?: string;
  readonly picture?: string;
  readonly website?: string;
  readonly gender?: string;
  readonly birthdate?: string;
  readonly zoneinfo?: string;
  readonly locale?: string;
  readonly phone_number?: string;
  readonly phone_number_verified?: boolean;
  readonly address?: AddressClaim;
}

export const ADDRESS_FIELDS = ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'] as const;

/**
 * A text a person reads (in tokens, the console, applications' pages): like custom attributes'
 * values (src/accounts/custom-attributes.ts), no control or invisible format character — a U+202E
 * would reverse the text around it. `lines`: line breaks stay (address.formatted, Core §5.1.1).
 */
const text = (max: number, { lines = false }: { readonly lines?: boolean } = {}) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !hasHiddenCharacter(lines ? value.replace(/\r?\n/g, '') : value), says('hidden_character'));

/** http(s) URLs only: these end up in `<img src>` and links on relying parties' pages. */
const webUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => /^https?:\/\/\S+$/i.test(value) && URL.canParse(value), says('http_url'))
  .meta({ pattern: '^[Hh][Tt][Tt][Pp][Ss]?://\\S+$' });

/** YYYY-MM-DD, 0000-MM-DD (year withheld) or YYYY (only the year), as Core §5.1 allows. */
const birthdate = matching(z.string(), /^\d{4}(-\d{2}-\d{2})?$/, 'birthdate', { abort: true }).refine((value) => {
    if (value.length === 4) return value !== '0000';
    const [year, month, day] = value.split('-').map(Number) as [number, number, number];
    const date = new Date(Date.UTC(year === 0 ? 2000 : year, month - 1, day));
    return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  }, says('calendar_date'));

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function isLanguageTag(value: string): boolean {
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

/** An IANA time zone name such as Europe/Paris. */
const zoneinfo = matching(z.string().trim().max(64), /^[A-Za-z][A-Za-z0-9_+\-/]*$/, 'time_zone', { abort: true }).refine(isTimeZone, says('time_zone'));

/** A BCP 47 language tag such as en-US or zh-CN (Core §5.1 recommends this form). */
const locale = matching(z.string().trim().max(35), /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, 'language_tag', { abort: true }).refine(isLanguageTag, says('language_tag'));

/** E.164 (Core §5.1 recommends it), optionally with an RFC 3966 extension: +1 (604) 555-1234;ext=5678 is +16045551234;ext=5678. */
const phoneNumber = matching(z.string().trim(), /^\+[1-9]\d{1,14}(;ext=\d{1,10})?$/, 'phone_number');

export const addressSchema = z
  .object({
    formatted: text(1024, { lines: true }).optional(),
    street_address: text(512).optional(),
    locality: text(256).optional(),
    region: text(256).optional(),
    postal_code: text(32).optional(),
    country: text(256).optional(),
  })
  .strict()
  .refine((address) => Object.keys(address).length > 0, says('address_empty'));

/**
 * What an operator may send for each attribute: a valid value sets it, null clears it,
 * absent leaves it as it is.
 */
export const profileAttributesInput = {
  middle_name: text(256).nullable().optional(),
  nickname: text(256).nullable().optional(),
  profile: webUrl.nullable().optional(),
  picture: webUrl.nullable().optional(),
  website: webUrl.nullable().optional(),
  gender: text(64).nullable().optional().describe('"female", "male" or any other value'),
  birthdate: birthdate.nullable().optional(),
  zoneinfo: zoneinfo.nullable().optional(),
  locale: locale.nullable().optional(),
  phone_number: phoneNumber.nullable().optional(),
  phone_number_verified: z.boolean().optional().describe('reset to false whenever phone_number changes without it'),
  address: addressSchema.nullable().optional(),
};

export type ProfileAttributesPatch = { -readonly [K in keyof ProfileAttributes]?: ProfileAttributes[K] | null };

export const PROFILE_ATTRIBUTE_NAMES = Object.keys(profileAttributesInput) as (keyof ProfileAttributes)[];

/** The stored shape (what `gatehouse export` writes and `import` reads back). */
export const storedProfileAttributes = z
  .object({
    middle_name: z.string().optional(),
    nickname: z.string().optional(),
    profile: z.string().optional(),
    picture: z.string().optional(),
    website: z.string().optional(),
    gender: z.string().optional(),
    birthdate: z.string().optional(),
    zoneinfo: z.string().optional(),
    locale: z.string().optional(),
    phone_number: z.string().optional(),
    phone_number_verified: z.boolean().optional(),
    address: z.object(Object.fromEntries(ADDRESS_FIELDS.map((field) => [field, z.string().optional()])) as Record<(typeof ADDRESS_FIELDS)[number], z.ZodOptional<z.ZodString>>).strict().optional(),
  })
  .strict() satisfies z.ZodType<ProfileAttributes>;

/**
 * What a patch does to each attribute it touches: a value to store, or null to remove it.
 * A verification belongs to a number: a patch that sets or clears phone_number without saying
 * phone_number_verified leaves the number unverified (as email does). Only `true` is stored.
 */
export function attributeChanges(patch: ProfileAttributesPatch): Map<keyof ProfileAttributes, ProfileAttributes[keyof ProfileAttributes] | null> {
  const changes = new Map<keyof ProfileAttributes, ProfileAttributes[keyof ProfileAttributes] | null>();
  for (const name of PROFILE_ATTRIBUTE_NAMES) {
    const value = patch[name];
    if (value !== undefined) changes.set(name, value);
  }
  if (patch.phone_number !== undefined && patch.phone_number_verified === undefined) changes.set('phone_number_verified', null);
  if (patch.phone_number === null || changes.get('phone_number_verified') === false) changes.set('phone_number_verified', null);
  return changes;
}

/** The attributes of a new user. */
export function initialAttributes(patch: ProfileAttributesPatch): ProfileAttributes {
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of attributeChanges(patch)) if (value !== null) attributes[name] = value;
  return attributes as ProfileAttributes;
}
