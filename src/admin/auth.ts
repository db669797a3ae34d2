import { jwtVerify, type JSONWebKeySet } from 'jose';
import type { Middleware } from 'koa';
import type { AdapterFactory } from 'oidc-provider';
import type { Accounts } from '../accounts/accounts.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText, type ProblemCode, type ProblemParams } from '../errors/problems.ts';
import type { ClientRepository } from '../clients/repository.ts';
import { ADMIN_ROLE, ADMIN_SCOPE } from '../oidc/admin-scope.ts';
import type { JwtRecords } from '../oidc/jwt-records.ts';
import { localKeys } from '../oidc/jwt-verifier.ts';
import type { AuditActor } from '../observability/audit-trail.ts';

export { ADMIN_ROLE, ADMIN_SCOPE };

export interface AdminAuthDeps {
  readonly issuer: string;
  /** The admin API's identifier: the `aud` its tokens must carry. */
  readonly audience: string;
  /** Gatehouse's current public keys (next, active and still-published retired ones). */
  readonly publicJwks: () => JSONWebKeySet;
  /** The record of a verified JWT access token, as introspection sees it (src/oidc/jwt-records.ts); undefined once revoked. */
  readonly findRecord: JwtRecords['findRecord'];
  /** oidc-provider's storage: the sessions access tokens are bound to. */
  readonly adapter: AdapterFactory;
  readonly clients: Pick<ClientRepository, 'get'>;
  readonly accounts: Pick<Accounts, 'findById'>;
}

/** The problem codes of the admin API's refusals, by status (the OpenAPI document lists them). */
export const ADMIN_AUTH_PROBLEMS = {
  401: ['token_missing', 'token_invalid', 'token_malformed', 'token_sender_constrained', 'token_revoked', 'token_session_ended', 'token_client_gone', 'token_user_gone'],
  403: ['scope_missing', 'not_admin_client', 'role_missing'],
} as const satisfies Record<401 | 403, readonly ProblemCode[]>;

type AdminAuthProblem<S extends 401 | 403> = (typeof ADMIN_AUTH_PROBLEMS)[S][number];

/** A refused admin API token: 401/403 with the RFC 6750 challenge, named by its problem code. */
export class AdminAuthError extends GatehouseError {
  constructor(status: 401 | 403, error: 'invalid_token' | 'insufficient_scope', code: ProblemCode, params?: ProblemParams) {
    const description = problemText(code, params);
    super(description, {
      status,
      code: error,
      expose: true,
      problem: { code, params },
      headers: { 'WWW-Authenticate': `Bearer error="${error}", error_description="${description}"` },
    });
  }
}

function fail(status: 401, error: 'invalid_token', code: AdminAuthProblem<401>): AdminAuthError;
function fail(status: 403, error: 'insufficient_scope', code: AdminAuthProblem<403>, params?: ProblemParams): AdminAuthError;
function fail(status: 401 | 403, error: 'invalid_token' | 'insufficient_scope', code: ProblemCode, params?: ProblemParams): AdminAuthError {
  return new AdminAuthError(status, error, code, params);
}

/**
 * Admin API authentication with Gatehouse's own access tokens. A token is accepted when it
 * verifies against the published keys for the admin audience, its record still exists (a
 * revoked token's record, or its grant's, is gone), its client still exists, it carries the
 * `admin` scope, and its principal is allowed now: an admin client (client_credentials), or
 * an enabled user who holds the `admin` role (checked per request, so taking the role away
 * works at once).
 */
export function adminAuth(deps: AdminAuthDeps): Middleware {
  const keys = localKeys(deps.publicJwks);
  async function authenticate(header: string | undefined): Promise<{ actor: AuditActor; client: string } | AdminAuthError> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? '');
    if (match === null) return fail(401, 'invalid_token', 'token_missing');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1]!, keys(), {
        issuer: deps.issuer,
        audience: deps.audience,
        typ: 'at+jwt',
      }));
    } catch {
      return fail(401, 'invalid_token', 'token_invalid');
    }
    if (typeof payload.jti !== 'string' || typeof payload.client_id !== 'string') return fail(401, 'invalid_token', 'token_malformed');
    // The admin API takes Bearer tokens only: a DPoP-bound token used without its proof must
    // not become a bearer credential here.
    if (payload.cnf !== undefined) return fail(401, 'invalid_token', 'token_sender_constrained');
    const record = await deps.findRecord(payload);
    if (record === undefined) return fail(401, 'invalid_token', 'token_revoked');
    // Like the library at userinfo and introspection: a token bound to a session dies with it.
    if (record.expiresWithSession === true && typeof record.sessionUid === 'string') {
      if ((await deps.adapter('Session').findByUid(record.sessionUid)) === undefined) {
        return fail(401, 'invalid_token', 'token_session_ended');
      }
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(ADMIN_SCOPE)) return fail(403, 'insufficient_scope', 'scope_missing', { scope: ADMIN_SCOPE });
    const client = await deps.clients.get(payload.client_id);
    if (client === undefined) return fail(401, 'invalid_token', 'token_client_gone');
    const accountId = typeof record.accountId === 'string' ? record.accountId : undefined;
    if (accountId === undefined) {
      if (!client.admin) return fail(403, 'insufficient_scope', 'not_admin_client');
      return { actor: { type: 'client', id: client.clientId }, client: client.clientId };
    }
    const user = await deps.accounts.findById(accountId);
    if (user === undefined || user.disabled) return fail(401, 'invalid_token', 'token_user_gone');
    if (!user.roles.includes(ADMIN_ROLE)) return fail(403, 'insufficient_scope', 'role_missing', { role: ADMIN_ROLE });
    return { actor: { type: 'user', id: user.id, username: user.username }, client: client.clientId };
  }

  return async (ctx, next) => {
    const outcome = await authenticate(ctx.get('authorization') || undefined);
    if (outcome instanceof AdminAuthError) throw outcome;
    ctx.state.actor = outcome.actor;
    ctx.state.client = outcome.client;
    await next();
  };
}
