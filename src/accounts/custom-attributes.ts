import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { hasHiddenCharacter } from './normalize.ts';
import { isReservedClaim } from './reserved-claims.ts';

/**
 * Operator-defined user attributes (Keycloak's user attributes, Auth0's app_metadata): a name and
 * a text or a list of texts, kept apart from the standard claims (`customAttributes` in the user
 * document), so none can shadow one. They reach tokens only through a claim mapper
 * (src/claims/claim-scopes.ts); the user never sees or edits them on the account page.
 */
export type CustomAttributeValue = string | readonly string[];
export type CustomAttributes = Readonly<Record<string, CustomAttributeValue>>;
/** A change: a value sets the attribute, null removes it. */
export type CustomAttributesPatch = Readonly<Record<string, CustomAttributeValue | null>>;

/** The limits that keep the user document, the profile cache and the tokens small. */
export const CUSTOM_ATTRIBUTE_LIMITS = {
  /** Attributes per user. */
  attributes: 50,
  /** Characters of one value (each entry of a list). */
  valueLength: 1024,
  /** Entries of one list. */
  values: 50,
  /** All of a user's attributes together, as UTF-8 JSON. */
  totalBytes: 16 * 1024,
} as const;

/**
 * A letter, then letters, digits, `_` or `-`: no `.` or `$` (they are path syntax in the store),
 * nothing a token reader would need to escape.
 */
export const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * Names every plain object already has (Object.prototype's members that pass ATTRIBUTE_NAME) and
 * `prototype`: the store drops `constructor` and `prototype` from a free-form document without a
 * word (mongoose's special properties), and a claim mapper reading one of them of a user who
 * lacks it would find the inherited function instead of nothing.
 */
export const BUILT_IN_NAMES: ReadonlySet<string> = new Set(['constructor', 'prototype', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']);

/** Why a name is refused, or undefined when it may be used. */
export function attributeNameProblem(name: string): 'attribute_name' | 'reserved_claim_name' | 'builtin_name' | undefined {
  if (!ATTRIBUTE_NAME.test(name)) return 'attribute_name';
  if (isReservedClaim(name)) return 'reserved_claim_name';
  if (BUILT_IN_NAMES.has(name)) return 'builtin_name';
  return undefined;
}

/**
 * Why a value is refused, or undefined; `at` is the entry of a list that is wrong. Values reach
 * the console, tokens and whatever pages an application shows them on: like every name someone
 * picks (src/accounts/normalize.ts hasHiddenCharacter), no control or invisible format character
 * (a U+202E would reverse the text around it). `hidden: false` skips that rule: values stored
 * before it existed must still restore from an export file.
 */
export function attributeValueProblem(
  value: unknown,
  { hidden = true }: { readonly hidden?: boolean } = {},
): { code: 'attribute_value' | 'too_long' | 'too_many' | 'too_few' | 'nul_character' | 'hidden_character'; at?: number } | undefined {
  const text = (entry: unknown) => {
    if (typeof entry !== 'string' || entry.length === 0) return 'attribute_value' as const;
    if (entry.length > CUSTOM_ATTRIBUTE_LIMITS.valueLength) return 'too_long' as const;
    if (entry.includes('\u0000')) return 'nul_character' as const;
    if (hidden && hasHiddenCharacter(entry)) return 'hidden_character' as const;
    return undefined;
  };
  if (!Array.isArray(value)) {
    const code = text(value);
    return code === undefined ? undefined : { code };
  }
  if (value.length === 0) return { code: 'too_few' };
  if (value.length > CUSTOM_ATTRIBUTE_LIMITS.values) return { code: 'too_many' };
  for (const [at, entry] of value.entries()) {
    const code = text(entry);
    if (code !== undefined) return { code, at };
  }
  return undefined;
}

const PARAMS = { too_long: { max: CUSTOM_ATTRIBUTE_LIMITS.valueLength }, too_many: { max: CUSTOM_ATTRIBUTE_LIMITS.values }, too_few: { min: 1 } } as const;

function checkEntries(entries: Readonly<Record<string, unknown>>, ctx: z.RefinementCtx, allowNull: boolean, hidden: boolean): void {
  for (const [name, value] of Object.entries(entries)) {
    const nameProblem = attributeNameProblem(name);
    if (nameProblem !== undefined) {
      ctx.addIssue({ code: 'custom', path: [name], ...says(nameProblem) });
      continue;
    }
    if (value === null && allowNull) continue;
    const problem = attributeValueProblem(value, { hidden });
    if (problem !== undefined) {
      const params = problem.code in PARAMS ? PARAMS[problem.code as keyof typeof PARAMS] : {};
      ctx.addIssue({ code: 'custom', path: problem.at === undefined ? [name] : [name, problem.at], ...says(problem.code, params) });
    }
  }
}

/** The size rule over a whole set of attributes (after a change is applied). */
export function attributesProblem(attributes: CustomAttributes): { code: 'too_many'; params: { max: number } } | { code: 'attributes_too_large'; params: { max: number } } | undefined {
  if (Object.keys(attributes).length > CUSTOM_ATTRIBUTE_LIMITS.attributes) return { code: 'too_many', params: { max: CUSTOM_ATTRIBUTE_LIMITS.attributes } };
  if (Buffer.byteLength(JSON.stringify(attributes)) > CUSTOM_ATTRIBUTE_LIMITS.totalBytes) return { code: 'attributes_too_large', params: { max: CUSTOM_ATTRIBUTE_LIMITS.totalBytes } };
  return undefined;
}

const valueSchema = z.union([z.string(), z.array(z.string())]);

/**
 * A `__proto__` member (JSON.parse keeps it as an own member; so do the CLI's and the console's
 * bodies) never reaches the record: zod skips it, and an assignment would set the prototype. So
 * it would be dropped without a word; it is refused by name instead, before the record is read.
 */
function refuseProtoMember(input: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) ctx.addIssue({ code: 'custom', path: ['__proto__'], input, ...says('attribute_name') });
  return input;
}

function attributesSchema<T extends z.ZodType>(value: T, allowNull: boolean, hidden = true) {
  const record = z
    .record(z.string(), value)
    .superRefine((entries, ctx) => {
      checkEntries(entries as Record<string, unknown>, ctx, allowNull, hidden);
      const problem = attributesProblem(Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== null)) as CustomAttributes);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [], ...says(problem.code, problem.params) });
    })
    .meta({
      description: `Custom attributes: name (${ATTRIBUTE_NAME.source}, not a standard or protocol claim) → text or list of texts (no control or invisible format characters); at most ${CUSTOM_ATTRIBUTE_LIMITS.attributes} attributes, ${CUSTOM_ATTRIBUTE_LIMITS.values} entries per list, ${CUSTOM_ATTRIBUTE_LIMITS.valueLength} characters per value, ${CUSTOM_ATTRIBUTE_LIMITS.totalBytes} bytes in all${allowNull ? '; null removes one' : ''}`,
    });
  return z.preprocess(refuseProtoMember, record);
}

/** What an operator sends when creating a user. */
export const customAttributesInput = attributesSchema(valueSchema, false);
/** What an operator sends when updating one: null removes an attribute, a name left out stays. */
export const customAttributesPatchInput = attributesSchema(valueSchema.nullable(), true);

/**
 * The stored shape (what `gatehouse export` writes and `import` reads back): the same rules, but
 * for hidden characters, which earlier versions stored and a restore must bring back.
 */
export const storedCustomAttributes = attributesSchema(valueSchema, false, false);

/** The attributes after a change (a copy; the inputs stay as they are). */
export function applyAttributeChanges(current: CustomAttributes, patch: CustomAttributesPatch): Record<string, CustomAttributeValue> {
  const next: Record<string, CustomAttributeValue> = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete next[name];
    else next[name] = Array.isArray(value) ? [...(value as string[])] : value;
  }
  return next;
}
