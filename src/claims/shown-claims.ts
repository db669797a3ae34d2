import type { Configuration } from 'oidc-provider';
import type { ClaimMapping } from './mapped-claims.ts';

type JwtCustomizer = NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;
type AllowedPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;

/**
 * An access token's record keeps the mapped claims of its JWT and of its introspection answer
 * together (`access_token_record`, src/claims/mapped-claims.ts); each shows only its own
 * (Keycloak's *Add to access token* and *Add to token introspection*). Nothing is wrapped when no
 * mapper goes into one of the two only.
 */

/** The JWT access token without the claims that go to introspection only (its record keeps them). */
export function jwtWithoutIntrospectionOnly(inner: JwtCustomizer | undefined, mapping: ClaimMapping): JwtCustomizer | undefined {
  if (!mapping.strips('access_token')) return inner;
  return async (ctx, token, jwt) => {
    await inner?.(ctx, token, jwt);
    // A new payload object: the JWT's top claims are the record's own objects (`...extra`).
    const shown = mapping.strip('access_token', jwt.payload as Record<string, unknown>);
    if (shown !== jwt.payload) {
      for (const name of Object.keys(jwt.payload)) if (!Object.hasOwn(shown, name)) delete (jwt.payload as Record<string, unknown>)[name];
      Object.assign(jwt.payload, shown);
    }
  };
}

/**
 * Introspection without the claims that go to the JWT only. The library builds its answer (JSON
 * or a signed JWT) from the token's `extra` right after asking the allowed policy: the token in
 * hand (read for this request) is given the extra its answer shows.
 */
export function introspectionWithoutAccessOnly(inner: AllowedPolicy, mapping: ClaimMapping): AllowedPolicy {
  if (!mapping.strips('introspection')) return inner;
  return async (ctx, client, token) => {
    const allowed = await inner(ctx, client, token);
    const holder = token as { extra?: Record<string, unknown> };
    if (allowed && holder.extra !== undefined && holder.extra !== null) holder.extra = mapping.strip('introspection', holder.extra);
    return allowed;
  };
}
