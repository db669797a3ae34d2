import { oidcLibrary } from './oidc-library.ts';

/**
 * oidc-provider checks `consumed` on the payload it found and then calls `consume()`, so two
 * concurrent redemptions both pass its check. The adapters make `consume` the real gate: the
 * loser gets the error the library would have raised had it seen the token consumed, which
 * becomes a normal OAuth error response instead of a second set of tokens.
 */
export function alreadyConsumed(model: string): Error {
  const { errors } = oidcLibrary();
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return Object.assign(new errors.InvalidGrant(`${model} already consumed`), { [CONSUMED]: true });
}

const CONSUMED = Symbol('gatehouse.alreadyConsumed');
const REVOKED_GRANT = Symbol('gatehouse.revokedGrant');

/**
 * The records a grant's tokens are issued from at the token endpoint. oidc-provider revokes the
 * grant when it finds one of them consumed (lib/helpers/grant_source.js, RFC 6749 §4.1.2); a
 * redemption that got past that check and lost at the adapter's gate must do the same
 * (adapter-factory.ts), or the winner's tokens outlive a code that was used twice.
 */
export const GRANT_SOURCE_MODELS: ReadonlySet<string> = new Set(['AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/** Whether `error` is the refusal of a consume that another one won (alreadyConsumed). */
export function isAlreadyConsumed(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { [CONSUMED]?: boolean })[CONSUMED] === true;
}

/** Marks a lost consume's error with the grant that was revoked for it, for the `grant.revoked` event (src/oidc/events.ts). */
export function withRevokedGrant(error: unknown, grantId: string): unknown {
  if (typeof error === 'object' && error !== null) (error as { [REVOKED_GRANT]?: string })[REVOKED_GRANT] = grantId;
  return error;
}

/** The grant a lost consume revoked, if the error is one (withRevokedGrant). */
export function revokedGrantOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { [REVOKED_GRANT]?: string })[REVOKED_GRANT] : undefined;
}

export function consumedTargetMissing(model: string): Error {
  const { errors } = oidcLibrary();
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${model} not found`);
}
