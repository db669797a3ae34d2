import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AdapterFactory } from 'oidc-provider';
import type { Accounts, User } from '../accounts/accounts.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText, type ProblemCode } from '../errors/problems.ts';

/** A sign-in this recent may change second factors; older ones sign in again first. */
export const RECENT_SIGN_IN_SECONDS = 300;

/** What the account API knows about the caller once the token checks out. */
export interface AccountCaller {
  readonly user: User;
  readonly sessionUid: string | undefined;
  /** When the user last proved who they are in the token's session (seconds since the epoch). */
  readonly authTime: number | undefined;
}

/** A refused account API token (401 with the RFC 6750 / RFC 9470 challenge), named by its problem code. */
export class AccountAuthError extends GatehouseError {
  constructor(status: 401 | 403, error: 'invalid_token' | 'insufficient_user_authentication', code: ProblemCode, extra = '') {
    const description = problemText(code);
    super(description, { status, code: error, expose: true, problem: { code }, headers: { 'WWW-Authenticate': `Bearer error="${error}", error_description="${description}"${extra}` } });
  }
}

/** RFC 9470 step-up: the client signs the user in again (max_age) and retries. */
export const signInAgain = () => new AccountAuthError(401, 'insufficient_user_authentication', 'sign_in_again', `, max_age=${RECENT_SIGN_IN_SECONDS}`);

export interface AccountAuthDeps {
  readonly provider: () => Provider;
  /** oidc-provider's storage: the session the token is bound to. */
  readonly adapter: AdapterFactory;
  readonly accounts: Pick<Accounts, 'findById'>;
}

/**
 * The account API takes only the account page's own access tokens: opaque tokens issued to
 * `gatehouse-account`, found in the provider's store (a revoked token, or one of an ended grant,
 * is gone), bound to a live session, for an enabled user. They travel in the Authorization
 * header, never in a cookie, so another site cannot make the browser send one (no CSRF), and
 * sender-constrained (DPoP) tokens are refused rather than used as bearer tokens.
 */
export function accountAuth(deps: AccountAuthDeps): Middleware {
  async function authenticate(header: string | undefined): Promise<AccountCaller | AccountAuthError> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? '');
    if (match === null) return new AccountAuthError(401, 'invalid_token', 'account_token_missing');
    const token = await deps.provider().AccessToken.find(match[1]!);
    if (token === undefined || token.isExpired) return new AccountAuthError(401, 'invalid_token', 'account_token_invalid');
    if (token.clientId !== ACCOUNT_CLIENT_ID) return new AccountAuthError(401, 'invalid_token', 'account_token_other_client');
    if (token.jkt !== undefined || token['x5t#S256'] !== undefined) return new AccountAuthError(401, 'invalid_token', 'token_sender_constrained');
    if (typeof token.accountId !== 'string') return new AccountAuthError(401, 'invalid_token', 'token_no_user');
    let authTime: number | undefined;
    if (typeof token.sessionUid === 'string') {
      const session = await deps.adapter('Session').findByUid(token.sessionUid);
      if (session === undefined || session === null) {
        if (token.expiresWithSession === true) return new AccountAuthError(401, 'invalid_token', 'token_session_ended');
      } else if (typeof session.loginTs === 'number') {
        authTime = session.loginTs;
      }
    }
    const user = await deps.accounts.findById(token.accountId);
    if (user === undefined || user.disabled) return new AccountAuthError(401, 'invalid_token', 'token_user_gone');
    return { user, sessionUid: token.sessionUid, authTime };
  }

  return async (ctx, next) => {
    const outcome = await authenticate(ctx.get('authorization') || undefined);
    if (outcome instanceof AccountAuthError) throw outcome;
    ctx.state.caller = outcome;
    await next();
  };
}
