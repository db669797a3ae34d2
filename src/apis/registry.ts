import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import { insertValidated } from '../storage/validated-writes.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import { createBoundedCache } from '../cache/bounded-cache.ts';
import { SCOPE_TOKEN } from './scope-syntax.ts';
import type { ApiModel, StoredApi } from './model.ts';
import { hasHiddenCharacter } from '../accounts/normalize.ts';

export interface Api {
  readonly identifier: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly format: 'jwt' | 'opaque';
  readonly alg: 'RS256' | 'ES256';
  readonly accessTokenTtl: number;
  readonly includeRoles: boolean;
  readonly includeGroups: boolean;
  /** The claim set of its access tokens: Gatehouse's (roles, groups) or Keycloak's (realm_access, resource_access, ...). */
  readonly tokenClaims: TokenClaims;
  /** The client the API uses to call introspection. */
  readonly clientId: string | undefined;
}

export const TOKEN_CLAIMS = ['gatehouse', 'keycloak'] as const;
export type TokenClaims = (typeof TOKEN_CLAIMS)[number];

/** Access-token lifetime an operator may give an API, in seconds. */
export const API_TOKEN_TTL = { min: 5, max: 86_400, default: 600 } as const;

/** The one definition of each API field; the registry and the operator schemas (src/operations/apis.ts) share them. */
export const apiFields = {
  identifier: z.string().refine((value) => URL.canParse(value) && new URL(value).hash === '', {
    ...says('uri_example'),
  }),
  name: z.string().trim().min(1).max(200).refine((name) => !hasHiddenCharacter(name), says('hidden_character')),
  scopes: z.array(matching(z.string(), SCOPE_TOKEN, 'scope_tokens')),
  format: z.enum(['jwt', 'opaque']),
  alg: z.enum(['RS256', 'ES256']),
  accessTokenTtl: z.number().int().min(API_TOKEN_TTL.min).max(API_TOKEN_TTL.max),
  clientId: z.string().min(1).max(128),
  /** Gatehouse-shaped claims, or Keycloak-shaped ones (realm_access, resource_access, azp, ...). */
  tokenClaims: z.enum(TOKEN_CLAIMS),
};

/** What an operator may set when creating an API; identifiers are absolute URIs (RFC 8707). */
export const apiInputSchema = z.object({
  identifier: apiFields.identifier,
  name: apiFields.name.optional(),
  scopes: apiFields.scopes.default([]),
  format: apiFields.format.default('jwt'),
  alg: apiFields.alg.default('RS256'),
  accessTokenTtl: apiFields.accessTokenTtl.default(API_TOKEN_TTL.default),
  includeRoles: z.boolean().default(false),
  includeGroups: z.boolean().default(false),
  tokenClaims: apiFields.tokenClaims.default('gatehouse'),
  clientId: apiFields.clientId.optional(),
});

export type ApiInput = z.input<typeof apiInputSchema>;

/** What may change after creation (the identifier is the key and the tokens' audience). */
export const apiPatchSchema = z.object({
  name: apiFields.name.optional(),
  scopes: apiFields.scopes.optional(),
  format: apiFields.format.optional(),
  alg: apiFields.alg.optional(),
  accessTokenTtl: apiFields.accessTokenTtl.optional(),
  includeRoles: z.boolean().optional(),
  includeGroups: z.boolean().optional(),
  tokenClaims: apiFields.tokenClaims.optional(),
  /** null unbinds the introspecting client. */
  clientId: apiFields.clientId.nullable().optional(),
});

export type ApiPatch = z.input<typeof apiPatchSchema>;

export class ApiConflictError extends ConflictError {
  constructor(identifier: string) {
    super('api_exists', { identifier }, 'identifier');
  }
}

export interface ApiRegistry {
  create(input: ApiInput): Promise<Api>;
  find(identifier: string): Promise<Api | undefined>;
  list(): Promise<Api[]>;
  remove(identifier: string): Promise<boolean>;
  /** Undefined when there is no such API. */
  update(identifier: string, patch: ApiPatch): Promise<Api | undefined>;
  /** Binds (or unbinds) the client the API uses for introspection. */
  setClient(identifier: string, clientId: string | undefined): Promise<boolean>;
}

function toApi(doc: StoredApi): Api {
  return {
    identifier: doc._id,
    name: doc.name,
    scopes: doc.scopes,
    format: doc.format,
    alg: doc.alg,
    accessTokenTtl: doc.accessTokenTtl,
    includeRoles: doc.includeRoles,
    includeGroups: doc.includeGroups,
    tokenClaims: doc.tokenClaims ?? 'gatehouse',
    clientId: doc.clientId ?? undefined,
  };
}

/** APIs are few; the bound only guards memory. */
const CACHE_ENTRIES = 1_000;

export interface ApiRegistryDeps {
  readonly model: ApiModel;
  /** How long a looked-up API is reused before it is read again (token requests are hot). */
  readonly cacheTtlMs?: number;
  readonly now?: () => Date;
  /** Serialises edits of one API (FerretDB v1 rewrites the whole document: docs/STORAGE.md). */
  readonly locks?: DocumentLocks;
}

export function createApiRegistry({ model, cacheTtlMs = 5_000, now = () => new Date(), locks = documentLocks(model.db) }: ApiRegistryDeps): ApiRegistry {
  /** Every writer of an API document holds its lock, or an edit and a client assignment at once lose one. */
  const locked = <T>(identifier: string, work: () => Promise<T>) => locks.hold(lockKey('apis', identifier), work);
  // Misses are not cached: `resource` is request input.
  const cache = createBoundedCache<Api>({
    load: async (identifier) => {
      const doc = await model.findById(identifier).lean<StoredApi>().exec();
      return doc === null ? undefined : toApi(doc);
    },
    ttlMs: cacheTtlMs,
    maxEntries: CACHE_ENTRIES,
    cacheMisses: false,
    now: () => now().getTime(),
  });
  return {
    async create(input) {
      const parsed = apiInputSchema.parse(input);
      const at = now();
      const doc: StoredApi = {
        _id: parsed.identifier,
        name: parsed.name ?? parsed.identifier,
        scopes: [...new Set(parsed.scopes)],
        format: parsed.format,
        alg: parsed.alg,
        accessTokenTtl: parsed.accessTokenTtl,
        includeRoles: parsed.includeRoles,
        includeGroups: parsed.includeGroups,
        tokenClaims: parsed.tokenClaims,
        clientId: parsed.clientId ?? null,
        createdAt: at,
        updatedAt: at,
      };
      try {
        await insertValidated(model, doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ApiConflictError(parsed.identifier);
        throw error;
      }
      cache.invalidate(doc._id);
      return toApi(doc);
    },
    find: (identifier) => cache.get(identifier),
    async list() {
      const docs = await model.find().sort({ _id: 1 }).lean<StoredApi[]>().exec();
      return docs.map(toApi);
    },
    async setClient(identifier, clientId) {
      cache.invalidate(identifier);
      const result = await locked(identifier, () => model.updateOne({ _id: identifier }, { clientId: clientId ?? null, updatedAt: now() }).exec());
      // Again after the write: a lookup racing it may have cached the old document.
      cache.invalidate(identifier);
      return result.matchedCount === 1;
    },
    async update(identifier, patch) {
      const parsed = apiPatchSchema.parse(patch);
      const set: Partial<StoredApi> = { updatedAt: now() };
      for (const [key, value] of Object.entries(parsed)) {
        if (value !== undefined) (set as Record<string, unknown>)[key] = key === 'scopes' ? [...new Set(value as string[])] : value;
      }
      cache.invalidate(identifier);
      const doc = await locked(identifier, () => model.findOneAndUpdate({ _id: identifier }, { $set: set }, { returnDocument: 'after' }).lean<StoredApi>().exec());
      cache.invalidate(identifier);
      return doc === null ? undefined : toApi(doc);
    },
    async remove(identifier) {
      cache.invalidate(identifier);
      const result = await locked(identifier, () => model.deleteOne({ _id: identifier }).exec());
      cache.invalidate(identifier);
      return result.deletedCount === 1;
    },
  };
}
