import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import { ATTRIBUTE_NAME } from '../accounts/custom-attributes.ts';
import { isReservedClaim } from '../accounts/reserved-claims.ts';
import { HIDDEN_CHARACTER } from '../accounts/normalize.ts';

/**
 * Claim scopes: Keycloak's client scopes with "User Attribute" and "Hardcoded claim" mappers. A
 * client that asks for the scope (and may: its `scope` metadata, when set, lists it) gets the
 * mappers' claims in the tokens each mapper names.
 */
export const MAPPER_TYPES = ['user_attribute', 'hardcoded'] as const;
export type MapperType = (typeof MAPPER_TYPES)[number];

export interface ClaimMapper {
  readonly type: MapperType;
  /** The claim's name in the tokens. */
  readonly claim: string;
  /** user_attribute: the custom attribute it reads (src/accounts/custom-attributes.ts). */
  readonly attribute?: string | undefined;
  /** hardcoded: the value every token gets. */
  readonly value?: string | number | boolean | undefined;
  readonly idToken: boolean;
  /** JWT access tokens carry it; opaque access tokens show it at introspection. */
  readonly accessToken: boolean;
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
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The scopes Gatehouse defines itself (src/oidc/claims.ts OIDC_SCOPES, which imports from here would cycle). */
export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'roles', 'groups', 'offline_access', 'admin'] as const;

export const CLAIM_SCOPE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
export const MAX_MAPPERS = 20;

const scopeName = matching(z.string(), CLAIM_SCOPE_NAME, 'claim_scope_name', { abort: true }).refine((name) => !(STANDARD_SCOPES as readonly string[]).includes(name.toLowerCase()), says('reserved_scope_name'));
const claimName = matching(z.string(), ATTRIBUTE_NAME, 'attribute_name', { abort: true }).refine((name) => !isReservedClaim(name), says('reserved_claim_name'));
const attributeName = matching(z.string(), ATTRIBUTE_NAME, 'attribute_name');
/** Shown on consent pages: no control or invisible formatting characters (a bidi override would turn the sentence around). */
const descriptionText = z.string().trim().min(1).max(200).refine((text) => !HIDDEN_CHARACTER.test(text.replace(/[\u200C\u200D]/g, '')), says('hidden_character'));

export const descriptionSchema = z.object(Object.fromEntries(DESCRIPTION_LOCALES.map((locale) => [locale, descriptionText.optional()])) as Record<(typeof DESCRIPTION_LOCALES)[number], z.ZodOptional<typeof descriptionText>>).strict();

const uses = {
  id_token: z.boolean().default(true),
  access_token: z.boolean().default(true).describe('JWT access tokens carry the claim; opaque ones show it at introspection'),
  userinfo: z.boolean().default(true),
};

export const mapperSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('user_attribute'),
      claim: claimName,
      attribute: attributeName,
      multivalued: z.boolean().default(false).describe('true: always a list; false: the first value as a text'),
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

type MapperInput = z.output<typeof mapperSchema>;

function checkMappers(mappers: readonly MapperInput[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  mappers.forEach((mapper, index) => {
    if (seen.has(mapper.claim)) ctx.addIssue({ code: 'custom', path: [index, 'claim'], ...says('claim_twice') });
    seen.add(mapper.claim);
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
  const common = { claim: input.claim, idToken: input.id_token, accessToken: input.access_token, userinfo: input.userinfo };
  return input.type === 'user_attribute' ? { type: 'user_attribute', ...common, attribute: input.attribute, multivalued: input.multivalued } : { type: 'hardcoded', ...common, value: input.value, multivalued: false };
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
      /** hardcoded only. */
      value: mapper.type === 'hardcoded' ? (mapper.value ?? null) : null,
      id_token: mapper.idToken,
      access_token: mapper.accessToken,
      userinfo: mapper.userinfo,
    })),
    created_at: scope.createdAt.toISOString(),
    updated_at: scope.updatedAt.toISOString(),
  };
}

export type ClaimScopeResponse = ReturnType<typeof showClaimScope>;
