import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import { ATTRIBUTE_NAME } from '../accounts/custom-attributes.ts';
import { hasHiddenCharacter } from '../accounts/normalize.ts';
import type { ImportedFrom } from '../accounts/user-model.ts';
import { CLAIM_NAME, claimNameProblem, claimPath, MAX_CLAIM_NAME, overlaps } from './claim-path.ts';
import { JSON_TYPES, type JsonType } from './json-types.ts';

/**
 * Claim scopes: Keycloak's client scopes with "User Attribute" and "Hardcoded claim" mappers. A
 * client that asks for the scope (and may: its `scope` metadata, when set, lists it) gets the
 * mappers' claims in the tokens each mapper names.
 */
export const MAPPER_TYPES = ['user_attribute', 'hardcoded'] as const;
export type MapperType = (typeof MAPPER_TYPES)[number];

export interface ClaimMapper {
  readonly type: MapperType;
  /** The claim's name in the tokens; a `.` nests it in an object, `\.` is a literal dot (src/claims/claim-path.ts). */
  readonly claim: string;
  /** user_attribute: the custom attribute it reads (src/accounts/custom-attributes.ts). */
  readonly attribute?: string | undefined;
  /** user_attribute: the JSON type the claim is given (src/claims/json-types.ts); undefined: a text. */
  readonly jsonType?: JsonType | undefined;
  /** hardcoded: the value every token gets. */
  readonly value?: string | number | boolean | undefined;
  readonly idToken: boolean;
  /** JWT access tokens carry it. */
  readonly accessToken: boolean;
  /** The introspection answer shows it (for opaque and JWT access tokens alike). */
  readonly introspection: boolean;
  readonly userinfo: boolean;
  /** user_attribute: always a list (true), or the first value as a text (false). */
  readonly multivalued: boolean;
}

export const DESCRIPTION_LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
export type Descriptions = Readonly<Partial<Record<(typeof DESCRIPTION_LOCALES)[number], string>>>;

export interface ClaimScope {
  readonly name: string;
  /** What the consent page says the scope gives, per language (English when the reader's is missing; the name without any). */
  readonly description: Descriptions;
  readonly mappers: readonly ClaimMapper[];
  /** The Keycloak realm whose import created it: only a re-import of that realm replaces it (src/keycloak/apply-import.ts). Shown to operators as imported_from (showClaimScope). */
  readonly importedFrom?: ImportedFrom;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The scopes Gatehouse defines itself (src/oidc/claims.ts OIDC_SCOPES, which imports from here would cycle). */
export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'roles', 'groups', 'offline_access', 'admin'] as const;

export const CLAIM_SCOPE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
export const MAX_MAPPERS = 20;

const scopeName = matching(z.string(), CLAIM_SCOPE_NAME, 'claim_scope_name', { abort: true }).refine((name) => !(STANDARD_SCOPES as readonly string[]).includes(name.toLowerCase()), says('reserved_scope_name'));
const claimName = z
  .string()
  .superRefine((name, ctx) => {
    const problem = claimNameProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', ...says(problem) });
  })
  .meta({ pattern: CLAIM_NAME.source, maxLength: MAX_CLAIM_NAME, description: 'a "." nests the claim in an object (org.unit), "\\." is a literal dot' });
const attributeName = matching(z.string(), ATTRIBUTE_NAME, 'attribute_name');
/** Shown on consent pages: no control or invisible formatting characters (a bidi override would turn the sentence around). */
const descriptionText = z.string().trim().min(1).max(200).refine((text) => !hasHiddenCharacter(text), says('hidden_character'));

export const descriptionSchema = z.object(Object.fromEntries(DESCRIPTION_LOCALES.map((locale) => [locale, descriptionText.optional()])) as Record<(typeof DESCRIPTION_LOCALES)[number], z.ZodOptional<typeof descriptionText>>).strict();

const uses = {
  id_token: z.boolean().default(true),
  access_token: z.boolean().default(true).describe('JWT access tokens carry the claim'),
  introspection: z.boolean().optional().describe('the introspection answer shows the claim (opaque and JWT access tokens); default: as access_token'),
  userinfo: z.boolean().default(true),
};

export const mapperSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('user_attribute'),
      claim: claimName,
      attribute: attributeName,
      multivalued: z.boolean().default(false).describe('true: always a list; false: the first value'),
      json_type: z.enum(JSON_TYPES).default('string').describe('the claim as a text, a whole number (long, int), a boolean or the JSON the text holds; a value that does not convert is left out'),
      ...uses,
    })
    .strict(),
  z
    .object({
      type: z.literal('hardcoded'),
      claim: claimName,
      value: z.union([z.string().min(1).max(1024), z.number(), z.boolean()]),
      ...uses,
    })
    .strict(),
]);

export type MapperInput = z.output<typeof mapperSchema>;

function checkMappers(mappers: readonly MapperInput[], ctx: z.RefinementCtx): void {
  const seen: Array<{ claim: string; path: readonly string[] }> = [];
  mappers.forEach((mapper, index) => {
    const path = claimPath(mapper.claim);
    const other = seen.find((earlier) => overlaps(earlier.path, path));
    if (other !== undefined) {
      const same = other.path.length === path.length;
      ctx.addIssue({ code: 'custom', path: [index, 'claim'], ...(same ? says('claim_twice') : says('claim_overlaps', { claim: other.claim })) });
    }
    seen.push({ claim: mapper.claim, path });
  });
}

const mappersSchema = z.array(mapperSchema).max(MAX_MAPPERS).superRefine(checkMappers);

export const claimScopeCreateSchema = z
  .object({
    name: scopeName,
    description: descriptionSchema.default({}),
    mappers: mappersSchema.default([]),
  })
  .strict();

export const claimScopeUpdateSchema = z
  .object({
    description: descriptionSchema.optional(),
    mappers: mappersSchema.optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { ...says('nothing_to_change'), when: (payload) => payload.issues.length === 0 })
  .meta({ minProperties: 1 });

export type ClaimScopeInput = z.output<typeof claimScopeCreateSchema>;
export type ClaimScopePatch = z.output<typeof claimScopeUpdateSchema>;

/** A mapper as the API takes it → as Gatehouse keeps it. */
export function toMapper(input: MapperInput): ClaimMapper {
  // Without `introspection`, as access_token: Keycloak's rule for mappers without the setting.
  const common = { claim: input.claim, idToken: input.id_token, accessToken: input.access_token, introspection: input.introspection ?? input.access_token, userinfo: input.userinfo };
  if (input.type === 'hardcoded') return { type: 'hardcoded', ...common, value: input.value, multivalued: false };
  return { type: 'user_attribute', ...common, attribute: input.attribute, multivalued: input.multivalued, ...(input.json_type === 'string' ? {} : { jsonType: input.json_type }) };
}

/** A claim scope as the admin API and the CLI show it. */
export function showClaimScope(scope: ClaimScope) {
  return {
    name: scope.name,
    description: { ...scope.description },
    mappers: scope.mappers.map((mapper) => ({
      type: mapper.type,
      claim: mapper.claim,
      /** user_attribute only. */
      attribute: mapper.type === 'user_attribute' ? (mapper.attribute ?? null) : null,
      multivalued: mapper.type === 'user_attribute' && mapper.multivalued,
      /** user_attribute only. */
      json_type: mapper.type === 'user_attribute' ? (mapper.jsonType ?? 'string') : null,
      /** hardcoded only. */
      value: mapper.type === 'hardcoded' ? (mapper.value ?? null) : null,
      id_token: mapper.idToken,
      access_token: mapper.accessToken,
      introspection: mapper.introspection,
      userinfo: mapper.userinfo,
    })),
    /** The Keycloak realm whose import created it (only that realm's re-imports replace it); null: made here. */
    imported_from: scope.importedFrom === undefined ? null : { kind: scope.importedFrom.kind, realm: scope.importedFrom.realm },
    created_at: scope.createdAt.toISOString(),
    updated_at: scope.updatedAt.toISOString(),
  };
}

export type ClaimScopeResponse = ReturnType<typeof showClaimScope>;
