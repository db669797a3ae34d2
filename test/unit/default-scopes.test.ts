import { expect } from 'chai';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { defaultScopesAtAuthorization, defaultScopesAtRefresh, defaultScopesOf, withDefaultScopes } from '../../src/oidc/default-scopes.ts';
import { isOidcScope } from '../../src/oidc/claims.ts';

/** The provider's OpenID scopes with one claim scope, `department`. */
const known = (scope: string) => isOidcScope(scope) || scope === 'department';

/** An authorization request as the validator sees it: the client and the parameters the library has checked. */
function request(client: object | undefined, scope: string | undefined) {
  const params: { scope?: string | undefined } = { scope };
  return { ctx: { oidc: { client, params } } as unknown as KoaContextWithOIDC, params };
}

describe('client default scopes (src/oidc/default-scopes.ts)', () => {
  it("a client's default scopes are the ones it may ask for and the provider knows, never openid or offline_access", () => {
    expect(defaultScopesOf({ scope: 'openid profile department', default_scopes: ['department', 'profile'] }, known)).to.deep.equal(['department', 'profile']);
    // No longer in its scope, deleted since, or one that changes what kind of request it is: skipped, not an error.
    expect(defaultScopesOf({ scope: 'openid profile', default_scopes: ['department', 'profile'] }, known)).to.deep.equal(['profile']);
    expect(defaultScopesOf({ default_scopes: ['department', 'gone', 'email'] }, known)).to.deep.equal(['department', 'email']);
    expect(defaultScopesOf({ scope: 'openid offline_access email', default_scopes: ['openid', 'offline_access', 'email'] }, known)).to.deep.equal(['email']);
    expect(defaultScopesOf({ scope: 'openid profile' }, known)).to.deep.equal([]);
  });

  it("a first-party client with Keycloak's claims and no default_scopes of its own keeps Keycloak's built-in profile and email; default_scopes replaces them", () => {
    const keycloak = { first_party: true, token_claims: 'keycloak' };
    expect(defaultScopesOf({ ...keycloak, scope: 'openid profile email' }, known)).to.deep.equal(['profile', 'email']);
    expect(defaultScopesOf({ ...keycloak, scope: 'openid email' }, known)).to.deep.equal(['email']);
    expect(defaultScopesOf({ ...keycloak, scope: 'openid profile email department', default_scopes: ['department'] }, known)).to.deep.equal(['department']);
    expect(defaultScopesOf({ ...keycloak, scope: 'openid profile email', default_scopes: [] }, known)).to.deep.equal([]);
    // A third-party client with Keycloak's claims gets nothing unasked unless it names its defaults.
    expect(defaultScopesOf({ token_claims: 'keycloak', scope: 'openid profile email' }, known)).to.deep.equal([]);
  });

  it('widens a scope with the defaults after what it asks, each once; no scope at all gets the defaults alone', () => {
    expect(withDefaultScopes('openid', ['department'])).to.equal('openid department');
    expect(withDefaultScopes('openid department profile', ['department', 'email'])).to.equal('openid department profile email');
    expect(withDefaultScopes(undefined, ['department'])).to.equal('department');
    expect(withDefaultScopes('openid', [])).to.equal('openid');
    expect(withDefaultScopes(undefined, [])).to.equal(undefined);
  });

  it("at the authorization endpoints the request's scope parameter is widened (openid is never added to an OAuth-only request)", () => {
    const widen = defaultScopesAtAuthorization(known);
    const app = { scope: 'openid profile department', default_scopes: ['department'] };
    const asked = request(app, 'openid');
    widen(asked.ctx);
    expect(asked.params.scope).to.equal('openid department');
    const oauthOnly = request(app, 'profile');
    widen(oauthOnly.ctx);
    expect(oauthOnly.params.scope).to.equal('profile department');
    const other = request({ scope: 'openid profile' }, 'openid');
    widen(other.ctx);
    expect(other.params.scope).to.equal('openid');
    const noClient = request(undefined, 'openid');
    widen(noClient.ctx);
    expect(noClient.params.scope).to.equal('openid');
  });

  it('at a refresh naming a narrower scope, the defaults the presented refresh token holds are added back; one it does not hold, never', () => {
    const keep = defaultScopesAtRefresh(known);
    const app = { scope: 'openid profile email department', default_scopes: ['department', 'profile'] };
    const refresh = (client: object | undefined, scope: string | undefined, held: string | undefined) => {
      const params: { scope?: string | undefined } = { scope };
      const RefreshToken = held === undefined ? undefined : { scopes: new Set(held.split(' ')) };
      keep({ oidc: { client, params, entities: { RefreshToken } } } as unknown as KoaContextWithOIDC);
      return params.scope;
    };
    expect(refresh(app, 'openid', 'openid email department profile')).to.equal('openid department profile');
    // profile became a default after this token was issued: naming it would be invalid_scope.
    expect(refresh(app, 'openid email', 'openid email department')).to.equal('openid email department');
    expect(refresh(app, 'openid', 'openid email')).to.equal('openid');
    // No scope named: the library gives everything the token holds already.
    expect(refresh(app, undefined, 'openid department')).to.equal(undefined);
    expect(refresh(app, '', 'openid department')).to.equal('');
    expect(refresh({ scope: 'openid department' }, 'openid', 'openid department')).to.equal('openid');
    expect(refresh(app, 'openid', undefined)).to.equal('openid');
    expect(refresh(undefined, 'openid', 'openid department')).to.equal('openid');
  });

  it("a refresh naming held scopes but not openid: a client with Keycloak's claims keeps openid when the token held it (Keycloak 26), another client narrows", () => {
    const keep = defaultScopesAtRefresh(known);
    const refresh = (client: object, scope: string, held: string) => {
      const params: { scope?: string | undefined } = { scope };
      keep({ oidc: { client, params, entities: { RefreshToken: { scopes: new Set(held.split(' ')) } } } } as unknown as KoaContextWithOIDC);
      return params.scope;
    };
    const keycloak = { token_claims: 'keycloak', scope: 'openid profile department', default_scopes: ['department'] };
    expect(refresh(keycloak, 'profile', 'openid profile department')).to.equal('profile openid department');
    expect(refresh({ token_claims: 'keycloak' }, 'profile', 'openid profile')).to.equal('profile openid');
    // A token without openid (an OAuth-only sign-in) gets none.
    expect(refresh({ token_claims: 'keycloak' }, 'profile', 'profile email')).to.equal('profile');
    expect(refresh({ scope: 'openid profile department', default_scopes: ['department'] }, 'profile', 'openid profile department')).to.equal('profile department');
    expect(refresh({ token_claims: 'gatehouse' }, 'profile', 'openid profile')).to.equal('profile');
  });
});
