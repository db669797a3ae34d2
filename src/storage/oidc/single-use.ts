import { errors } from 'oidc-provider';

/**
 * oidc-provider checks `consumed` on the payload it found and then calls `consume()`, so two
 * concurrent redemptions both pass its check. The adapters make `consume` the real gate: the
 * loser gets the error the library would have raised had it seen the token consumed, which
 * becomes a normal OAuth error response instead of a second set of tokens.
 */
export function alreadyConsumed(model: string): Error {
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${model} already consumed`);
}

export function consumedTargetMissing(model: string): Error {
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${model} not found`);
}
