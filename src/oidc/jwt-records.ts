import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import type { Middleware } from 'koa';
import type { AdapterFactory, AdapterPayload, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { revokedByClientMark } from '../clients/repository.ts';
import { deriveKey } from '../crypto/secret-box.ts';
import { JWT_REVOCATION_KIND } from '../storage/oidc/models.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';
import type { ProviderSettings } from './configuration.ts';
import { currentKeys, verifier, type VerifiedPayload } from './jwt-verifier.ts';

/** A step of the library's introspection / revocation action (src/oidc/opaque-token-check.ts). */
export type StructuredTokenSwap = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => unknown;

type JwtCustomizer = NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;

interface TokenModel {
  readonly kind: string;
  readonly constructor: {
    readonly IN_PAYLOAD: readonly string[];
    readonly adapter: { upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<unknown> };
  };
}

/** The `gty` claim that marks a client_credentials JWT (as Auth0 marks them); its record is derived, never stored at issuance. */
export const CLIENT_CREDENTIALS_GTY = 'client-credentials';

/** Claims the library puts in every JWT access token; anything else is the token's `extra`. */
const STANDARD_CLAIMS = new Set(['jti', 'sub', 'iat', 'exp', 'authorization_details', 'scope', 'client_id', 'iss', 'aud', 'cnf', 'gty']);
const MATERIALISED_MEMORY = 10_000;

export interface JwtRecordsDeps {
  readonly secret: string;
  /** oidc-provider's storage (src/storage/oidc): records and revocation tombstones live in the ClientCredentials / AccessToken models. */
  readonly adapter: AdapterFactory;
  readonly now?: () => number;
}

export interface SwapOptions {
  readonly issuer: string;
  readonly publicJwks: () => JSONWebKeySet;
  /** Where the introspection and revocation endpoints are. */
  readonly routes: RoutesTable;
}

export interface JwtRecords {
  /** `formats.customizers.jwt` */
  readonly customizer: JwtCustomizer;
  /**
   * Inside the library's introspection and revocation actions, in its structured-token check's
   * place (src/oidc/opaque-token-check.ts; the client is authenticated, `ctx.oidc.params`
   * assembled): swaps a verified JWT for its record id, any other JWT for an unknown id.
   */
  structuredTokenSwap(options: Omit<SwapOptions, 'routes'>): StructuredTokenSwap;
  /**
   * The record of a verified JWT access token's payload, or undefined when the token (or its
   * grant) was revoked. For the admin API, which checks the client itself.
   */
  findRecord(payload: JWTPayload): Promise<AdapterPayload | undefined>;
  /**
   * In front of the userinfo endpoint: a verified JWT access token whose record `accepts` (the
   * library refuses every token with an audience there) is presented to the library as its
   * userinfo twin — the same record without the audience, scoped to the grant's OpenID scopes —
   * so the library's own checks (expiry, session binding, grant, account, scope) answer.
   */
  swapForUserinfo(options: SwapOptions, accepts: (record: AdapterPayload) => boolean): Middleware;
  /** ProviderSettings.beforeRevocation */
  readonly beforeRevocation: NonNullable<ProviderSettings['beforeRevocation']>;
  /**
   * The stored record of an access token as presented (a JWT Gatehouse signed, or an opaque
   * token), or undefined when it is unknown, not ours, altered or revoked. Expiry is the
   * caller's to check. For token exchange (src/oidc/grants/token-exchange.ts).
   */
  resolver(options: Omit<SwapOptions, 'routes'>): (token: string) => Promise<AdapterPayload | undefined>;
}

/** Marks a request whose token was swapped for a derived client_credentials record (value: the record id). */
const DERIVED = Symbol('gatehouse.derivedJwtRecord');
const PRESENTED_JTI = Symbol('gatehouse.presentedJwtId');
type DerivedRequest = IncomingMessage & { [DERIVED]?: string; [PRESENTED_JTI]?: string };

/** The `jti` of the verified JWT a request presented at introspection or revocation, if any. */
export function presentedJwtId(req: IncomingMessage): string | undefined {
  return (req as DerivedRequest)[PRESENTED_JTI];
}

/**
 * Introspection and revocation for JWT access tokens (oidc-provider refuses JWTs there), in
 * two shapes chosen by what the token needs (docs/ARCHITECTURE.md, docs/PERFORMANCE.md):
 *
 * - User tokens (AccessToken): an awaited format customizer stores a record through the
 *   provider's own model at issuance, because the record carries what the JWT does not
 *   (grantId, sessionUid, expiresWithSession) and what revokeByGrantId and session binding need.
 * - client_credentials tokens: nothing is written at issuance (the hot path is write-free). The
 *   JWT carries `gty: "client-credentials"`; everything the record holds is in the signed JWT,
 *   so introspection and revocation materialise the record on demand, and a revocation leaves a
 *   tombstone until the token's `exp` so the token cannot come back.
 *
 * Record ids are an HMAC of the token's `jti` with a key derived from GATEHOUSE_SECRET (tombstones
 * use another derived key). The `jti` is public (it is inside the token), the ids are not:
 * presenting a bare `jti` finds nothing. Inside the two endpoints' actions, once the library has
 * authenticated the client, a step in place of its structured-token check verifies a presented
 * JWT against Gatehouse's own keys and swaps it for the record id, so the library's grant
 * checks, session binding, revocation and revokeByGrantId apply unchanged. An unverifiable or revoked JWT is swapped for a random id: inactive, never an error.
 */
export function createJwtRecords({ secret, adapter, now = Date.now }: JwtRecordsDeps): JwtRecords {
  const hmac = (purpose: string) => {
    const key = deriveKey(secret, purpose);
    // The same token is introspected again and again by its resource servers: its ids are remembered.
    const known = new Map<string, string>();
    return (jti: string) => {
      let id = known.get(jti);
      if (id === undefined) {
        id = createHmac('sha256', key).update(jti).digest('base64url');
        if (known.size >= MATERIALISED_MEMORY) known.delete(known.keys().next().value!);
        known.set(jti, id);
      }
      return id;
    };
  };
  const recordId = hmac('jwt-access-token-records');
  const twinId = hmac('jwt-access-token-userinfo');
  // Twins this instance has written (id → exp): a token read at userinfo again costs no write.
  const twins = new Map<string, number>();
  // Keyed by the record id: the library hands the revocation hook the record, not the JWT.
  const tombstoneId = hmac('jwt-access-token-revocations');
  const clientCredentials = () => adapter('ClientCredentials');
  // Records this instance has already written (id → exp), so repeated introspection of one
  // token costs one tombstone read plus the library's own read.
  const materialised = new Map<string, number>();
  const seconds = () => Math.floor(now() / 1000);

  const customizer: JwtCustomizer = async (_ctx, token, jwt) => {
    const model = token as unknown as TokenModel & Record<string, unknown>;
    if (model.kind === 'ClientCredentials') {
      jwt.payload.gty = CLIENT_CREDENTIALS_GTY;
      return;
    }
    const { jti, exp, iat } = jwt.payload as { jti: string; exp: number; iat: number };
    const payload: Record<string, unknown> = {};
    for (const name of model.constructor.IN_PAYLOAD) {
      if (model[name] !== undefined) payload[name] = model[name];
    }
    Object.assign(payload, { jti: recordId(jti), kind: model.kind, iat, exp });
    const expiresIn = Math.max(1, exp - seconds());
    await model.constructor.adapter.upsert(payload.jti as string, payload, expiresIn);
  };

  /** The ClientCredentials record that issuance would have stored, from the signed claims. */
  function derive(payload: JWTPayload & { jti: string; exp: number }, id: string): AdapterPayload {
    const { iat, exp, client_id: clientId, scope, aud, cnf, authorization_details: rar } = payload as Record<string, unknown>;
    const extra = Object.fromEntries(Object.entries(payload).filter(([name]) => !STANDARD_CLAIMS.has(name)));
    const confirmation = (cnf ?? {}) as Record<string, unknown>;
    const record: Record<string, unknown> = { jti: id, kind: 'ClientCredentials', iat, exp, clientId, aud, scope };
    if (typeof confirmation.jkt === 'string') record.jkt = confirmation.jkt;
    if (typeof confirmation['x5t#S256'] === 'string') record['x5t#S256'] = confirmation['x5t#S256'];
    if (rar !== undefined) record.rar = rar;
    if (Object.keys(extra).length > 0) record.extra = extra;
    return record as AdapterPayload;
  }

  /** Whether the token whose record id this is was revoked (its tombstone exists). */
  async function revoked(id: string): Promise<boolean> {
    return (await clientCredentials().find(tombstoneId(id))) !== undefined;
  }

  /**
   * Whether the client's tokens were revoked in bulk after this one was issued (the client's
   * `tokens_revoked_at`, src/clients/repository.ts): a revocation that deletes records cannot
   * reach a token that has none until introspection derives it. The client comes from the
   * Client model's cache (no store read); a deleted client is refused by the introspection
   * policy and the admin API.
   */
  async function revokedWithClient(payload: JWTPayload): Promise<boolean> {
    if (typeof payload.client_id !== 'string') return false;
    return revokedByClientMark((await adapter('Client').find(payload.client_id)) as Record<string, unknown> | undefined, payload.iat);
  }

  /**
   * Writes the derived record unless this instance already did; false when the token must not be
   * active. The client's bulk-revocation mark is checked here only before a write: a record this
   * instance already wrote is read by the library through the ClientCredentials model, whose
   * `admits` (src/oidc/storage.ts) refuses it against the same mark from the same client cache —
   * the same answer, without a second look-up of the client on every repeated introspection.
   * The tombstone too is looked for only before a write: a revocation (here or on another
   * instance) leaves the tombstone and destroys the record (the library's revocation), so a
   * record this instance wrote and still remembers is found gone by the library's own read —
   * inactive, the same answer — and is never written again while remembered; what the
   * tombstone prevents is a write bringing a revoked token's record back.
   */
  async function materialise(payload: JWTPayload & { jti: string; exp: number }, id: string): Promise<boolean> {
    if (wasMaterialised(id)) return true;
    // A deleted client's tokens are refused by the introspection policy (src/oidc/introspection-policy.ts).
    if (await revoked(id)) return false;
    if (await revokedWithClient(payload)) return false;
    await clientCredentials().upsert(id, derive(payload, id), Math.max(1, payload.exp - seconds()));
    if (materialised.size >= MATERIALISED_MEMORY) materialised.delete(materialised.keys().next().value!);
    materialised.set(id, payload.exp);
    return true;
  }

  /** Whether this instance wrote the record and remembers it unexpired (materialise answers true at once). */
  function wasMaterialised(id: string): boolean {
    return (materialised.get(id) ?? 0) > seconds();
  }

  /**
   * Revocation: the library's allowed policy passed (client authenticated, its own token), so
   * before it destroys the derived record, leave a tombstone that outlives the record until the
   * token expires. Written before the library answers, so a client that revokes and then asks
   * never sees the token active again.
   */
  const beforeRevocation: JwtRecords['beforeRevocation'] = async (ctx, token) => {
    if (token.kind !== 'ClientCredentials' || (ctx.req as DerivedRequest)[DERIVED] !== token.jti || token.exp === undefined) return;
    materialised.delete(token.jti);
    const expiresIn = token.exp - seconds();
    if (expiresIn <= 0) return;
    const tombstone = tombstoneId(token.jti);
    await clientCredentials().upsert(tombstone, { jti: tombstone, kind: JWT_REVOCATION_KIND, exp: token.exp }, expiresIn);
  };

  function structuredTokenSwap({ issuer, publicJwks }: Omit<SwapOptions, 'routes'>): StructuredTokenSwap {
    const verify = verifier(issuer, currentKeys(publicJwks), now);
    return (ctx, next) => {
      const params = ctx.oidc.params as Record<string, unknown>;
      // Without a hint the library looks for the token in all three models at once, the refresh
      // token in MongoDB included; with `access_token` it tries the access-token models first
      // and the refresh token only when they miss — the same answer (RFC 7662 §2.1), minus a
      // database read for the common case.
      if (params.token_type_hint === undefined) params.token_type_hint = 'access_token';
      const token = params.token;
      // An opaque token (no dot: not a JWT to the library's check either) goes on as it is.
      if (typeof token !== 'string' || !token.includes('.')) return next();
      // A token verified before (resource servers introspect the same one again and again) and a
      // record this instance already wrote are answered from memory, without a promise of their own.
      const known = verify.remembered(token);
      if (known !== undefined && (known.gty !== CLIENT_CREDENTIALS_GTY || wasMaterialised(recordId(known.jti)))) {
        swapped(ctx, params, known, recordId(known.jti));
        return next();
      }
      return swapVerified(ctx, next, params, token);
    };
    async function swapVerified(ctx: KoaContextWithOIDC, next: () => Promise<void>, params: Record<string, unknown>, token: string): Promise<void> {
      const payload = await verify(token);
      // Not a JWT (its header does not decode): not one to the library's check either.
      if (payload === 'not_a_jwt') return next();
      // Not ours, altered or expired: an unknown id, inactive.
      if (payload === undefined) {
        params.token = unknownId();
        return next();
      }
      const id = recordId(payload.jti);
      if (payload.gty === CLIENT_CREDENTIALS_GTY && !(wasMaterialised(id) || (await materialise(payload, id)))) {
        // Revoked (its tombstone, or its client's bulk mark): an unknown id, inactive.
        params.token = unknownId();
        (ctx.req as DerivedRequest)[PRESENTED_JTI] = payload.jti;
        return next();
      }
      swapped(ctx, params, payload, id);
      return next();
    }
  }

  /** The presented JWT swapped for its record id, and the request marked (beforeRevocation and the introspection claims read the marks). */
  function swapped(ctx: KoaContextWithOIDC, params: Record<string, unknown>, payload: VerifiedPayload, id: string): void {
    params.token = id;
    const req = ctx.req as DerivedRequest;
    if (payload.gty === CLIENT_CREDENTIALS_GTY) req[DERIVED] = id;
    req[PRESENTED_JTI] = payload.jti;
  }

  function swapForUserinfo({ issuer, publicJwks, routes }: SwapOptions, accepts: (record: AdapterPayload) => boolean): Middleware {
    const verify = verifier(issuer, currentKeys(publicJwks), now);
    return guarding(['userinfo'], (ctx, next) => {
      if (providerRouteAt(routes, ctx.path) !== 'userinfo') return next();
      const token = /^Bearer +([^\s]+)$/i.exec(ctx.get('authorization'))?.[1];
      // An opaque token (no dot: what verify answers 'not_a_jwt' first) goes on without an async step of its own.
      if (token === undefined || !token.includes('.')) return next();
      return swapJwt(ctx, next, token);
    });
    async function swapJwt(ctx: Parameters<Middleware>[0], next: () => Promise<unknown>, token: string): Promise<unknown> {
      // A token verified before (an app reads userinfo with the same token again) without the verifier's promise.
      const payload = verify.remembered(token) ?? (await verify(token));
      if (payload === 'not_a_jwt' || payload === undefined || payload.gty === CLIENT_CREDENTIALS_GTY) return next();
      const record = await findRecord(payload);
      // Unknown, revoked or sender-constrained tokens, and those not accepted, meet the library's refusal as they are.
      if (record === undefined || record.kind !== 'AccessToken' || typeof record.grantId !== 'string' || record.jkt !== undefined || record['x5t#S256'] !== undefined || !accepts(record)) {
        return next();
      }
      const id = twinId(payload.jti);
      if ((twins.get(id) ?? 0) <= seconds()) {
        const grant = (await adapter('Grant').find(record.grantId)) as { openid?: { scope?: unknown } } | undefined;
        const scope = typeof grant?.openid?.scope === 'string' ? grant.openid.scope : '';
        if (!scope.split(' ').includes('openid')) return next();
        const { aud: _aud, ...rest } = record;
        await adapter('AccessToken').upsert(id, { ...rest, jti: id, scope }, Math.max(1, payload.exp - seconds()));
        if (twins.size >= MATERIALISED_MEMORY) twins.delete(twins.keys().next().value!);
        twins.set(id, payload.exp);
      }
      ctx.req.headers.authorization = `Bearer ${id}`;
      return next();
    }
  }

  async function findRecord(payload: JWTPayload): Promise<AdapterPayload | undefined> {
    if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return undefined;
    const id = recordId(payload.jti);
    if (payload.gty === CLIENT_CREDENTIALS_GTY) {
      return (await revoked(id)) || (await revokedWithClient(payload)) ? undefined : derive(payload as JWTPayload & { jti: string; exp: number }, id);
    }
    // Records written before client_credentials records were derived live in ClientCredentials.
    return (await adapter('AccessToken').find(id)) ?? (await clientCredentials().find(id)) ?? undefined;
  }

  function resolver({ issuer, publicJwks }: Omit<SwapOptions, 'routes'>) {
    const verify = verifier(issuer, currentKeys(publicJwks), now);
    return async (token: string): Promise<AdapterPayload | undefined> => {
      const payload = await verify(token);
      if (payload !== 'not_a_jwt') return payload === undefined ? undefined : findRecord(payload);
      return (await adapter('AccessToken').find(token)) ?? (await clientCredentials().find(token)) ?? undefined;
    };
  }

  return { customizer, structuredTokenSwap, swapForUserinfo, findRecord, beforeRevocation, resolver };
}

function unknownId(): string {
  return randomBytes(32).toString('base64url');
}
