import { errors } from 'oidc-provider';

export const scopesOf = (value: unknown) => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []);

/**
 * The scopes of an exchanged token. A scope is its API's own: `write` at the orders API says
 * nothing about `write` at billing, however alike the names. So:
 * - the ceiling is what the client may use at the target API (`allowed`: the API's scopes within
 *   the client's api_scopes for it, as resource-servers.ts works them out for every grant);
 * - a subject token for the same API narrows that to what it carried (never widened);
 * - a subject token for another API does not: its scopes are not this API's. The exchanging
 *   client's policy for the target decides, as Keycloak's standard token exchange takes the new
 *   token's scopes from the requesting client's scopes.
 * `subject` is the subject token's scopes when it is for the target API, else undefined.
 * Without `scope`, everything the ceiling leaves; asking for more is invalid_scope.
 */
export function exchangeScopes(requestedParam: unknown, allowed: readonly string[], subject: readonly string[] | undefined): string[] {
  const available = allowed.filter((scope) => subject === undefined || subject.includes(scope));
  const requested = scopesOf(requestedParam);
  if (requested.length === 0) {
    if (available.length === 0) {
      throw new errors.InvalidScope(subject === undefined ? 'the client may use no scope of this API' : 'the subject token carries no scope of this API', undefined as unknown as string);
    }
    return available;
  }
  // Undefined and disallowed API scopes were refused by the resource server check; what is left
  // outside the ceiling are OpenID scopes, which an API token does not carry.
  const foreign = requested.filter((scope) => !allowed.includes(scope));
  if (foreign.length > 0) throw new errors.InvalidScope('token exchange issues scopes of the target API only', foreign.join(' '));
  const widened = requested.filter((scope) => !available.includes(scope));
  if (widened.length > 0) throw new errors.InvalidScope("token exchange cannot widen the subject token's scope", widened.join(' '));
  return requested;
}

/**
 * The claim scopes (src/claims/) an exchange asks for in `scope` beside the target API's scopes,
 * treated as at the code flow: the new token carries their claims, as an API token of the code
 * flow carries those of the claim scopes its request named (its `scope` stays the API's). Never
 * widened: each must be one the user allowed the subject token's client (its grant's OpenID
 * scopes: `granted`) and, when the exchanging client's `scope` metadata is set, one it lists.
 */
export function exchangeClaimScopes(requested: readonly string[], granted: readonly string[], clientScope: unknown): string[] {
  if (typeof clientScope === 'string') {
    const allowed = scopesOf(clientScope);
    const refused = requested.filter((scope) => !allowed.includes(scope));
    if (refused.length > 0) throw new errors.InvalidScope(`the client may not ask for claim scope ${refused.join(' ')}`, refused.join(' '));
  }
  const widened = requested.filter((scope) => !granted.includes(scope));
  if (widened.length > 0) {
    throw new errors.InvalidScope(`token exchange cannot widen the subject token's claim scopes: the user did not allow ${widened.join(' ')} to its client`, widened.join(' '));
  }
  return [...requested];
}
