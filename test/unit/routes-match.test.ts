import { expect } from 'chai';
// The library's own router, to hold the matcher to exactly the way the provider matches.
// @ts-expect-error -- an internal module of oidc-provider without type declarations
import ProviderRouter from 'oidc-provider/lib/helpers/router.js';
import { isPath, providerLocalPath, providerRouteAt, underPath } from '../../src/routes/match.ts';
import { endpointPath, gatehouseRoutes, issuerOf, keycloakRoutes, PROVIDER_ROUTE_NAMES, type RoutesTable } from '../../src/routes/table.ts';

interface LibraryRouter {
  post(name: string, path: string, ...middleware: unknown[]): void;
  match(method: string, path: string): { route: { name: string } } | undefined;
}

function libraryRouter(table: RoutesTable): LibraryRouter {
  const router = new ProviderRouter() as LibraryRouter;
  for (const name of PROVIDER_ROUTE_NAMES) router.post(name, table.provider[name], () => {});
  return router;
}

const CANDIDATES = [
  '',
  '/',
  '//',
  '/token',
  '/token/',
  '/token//',
  '/TOKEN',
  '/Token/Introspection/',
  '/token/introspection',
  '/token/introspection/x',
  '/token%2Fintrospection',
  '/tokens',
  '/toke',
  '/ToKen/Revocation',
  '/device',
  '/DEVICE/',
  '/device/auth/',
  '/request',
  '/req',
  '/me',
  '/jwks',
  '/session/end/',
  '/to\u212Aen', // KELVIN SIGN folds to K under toUpperCase; the library refuses non-ASCII → ASCII
  '/tok\u0131en',
  '/\u017Fession/end', // LATIN SMALL LETTER LONG S → S
  '/protocol/openid-connect/token',
  '/protocol/openid-connect/Token/',
  '/protocol/openid-connect/token/introspect',
  '/protocol/openid-connect/token/introspect/',
  '/PROTOCOL/OPENID-CONNECT/REVOKE',
  '/protocol/openid-connect/auth/device',
  '/protocol/openid-connect/certs/',
  '/protocol/openid-connect/logout',
];

describe('routes table: matching', () => {
  for (const [label, table] of [
    ['Gatehouse layout', gatehouseRoutes('http://localhost:3000')],
    ['Keycloak layout', keycloakRoutes('http://localhost:3000', 'acme')],
  ] as const) {
    it(`names the same route as oidc-provider's router for every candidate path (${label})`, () => {
      const library = libraryRouter(table);
      for (const local of CANDIDATES) {
        const expected = library.match('POST', local)?.route.name;
        expect(providerRouteAt(table, `${table.providerBase}${local}`), `${table.providerBase}${local}`).to.equal(expected);
      }
    });
  }

  it('mounts the provider at the issuer’s path, whole segments only', () => {
    const table = keycloakRoutes('https://sso.example.com', 'acme');
    expect(providerLocalPath(table, '/realms/acme/protocol/openid-connect/token')).to.equal('/protocol/openid-connect/token');
    expect(providerLocalPath(table, '/REALMS/Acme/.well-known/openid-configuration')).to.equal('/.well-known/openid-configuration');
    expect(providerLocalPath(table, '/realms/acme')).to.equal('/');
    expect(providerLocalPath(table, '/realms/acmex/protocol/openid-connect/token')).to.equal(undefined);
    expect(providerLocalPath(table, '/realms/other/protocol/openid-connect/token')).to.equal(undefined);
    expect(providerRouteAt(table, '/protocol/openid-connect/token')).to.equal(undefined);
    expect(providerRouteAt(table, '/realms/acme/protocol/openid-connect/token/')).to.equal('token');
    expect(underPath('/interaction/abc', '/interaction')).to.equal(true);
    expect(underPath('/interactions', '/interaction')).to.equal(false);
    expect(isPath('/Healthz/', '/healthz')).to.equal(true);
  });

  it('puts every path under the public URL’s path', () => {
    const table = gatehouseRoutes('https://example.com/sso/');
    expect(issuerOf('https://example.com/sso', table)).to.equal('https://example.com/sso');
    expect(endpointPath(table, 'token')).to.equal('/sso/token');
    expect(table).to.include({ interaction: '/sso/interaction', assets: '/sso/assets', admin: '/sso/admin/api/v1', healthz: '/sso/healthz', readyz: '/sso/readyz', metrics: '/sso/metrics' });
    const keycloak = keycloakRoutes('https://example.com/auth', 'acme');
    expect(issuerOf('https://example.com/auth', keycloak)).to.equal('https://example.com/auth/realms/acme');
    expect(endpointPath(keycloak, 'jwks')).to.equal('/auth/realms/acme/protocol/openid-connect/certs');
    expect(keycloak.admin).to.equal('/auth/admin/api/v1');
    expect(() => keycloakRoutes('https://example.com', '../x')).to.throw(/invalid realm name/);
  });
});
