import { expect } from 'chai';
import { ZodError } from 'zod';
import { checkExport } from '../../src/transfer/import-file.ts';

/**
 * `gatehouse import` holds an upstream provider to the admin API's rules across fields
 * (src/upstream/spec.ts upstreamProblem): probe25 found files whose providers the admin API
 * refuses — an oidc one without `openid`, a secret method without a secret, private_key_jwt
 * without a key — passing the check (and the dry run): a provider that can sign nobody in.
 */
const provider = {
  alias: 'corp',
  kind: 'oidc',
  display_name: 'Corp',
  icon_url: null,
  issuer: 'https://idp.example.com',
  authorization_endpoint: null,
  token_endpoint: null,
  userinfo_endpoint: null,
  client_id: 'gatehouse',
  client_secret: 's3cret',
  private_key_jwk: null,
  token_endpoint_auth_method: 'client_secret_basic',
  scopes: ['openid'],
  claims: { subject: 'sub', username: 'preferred_username', email: 'email', email_verified: 'email_verified', name: 'name', picture: 'picture' },
  role_mappings: [],
  group_mappings: [],
  mapping_mode: 'every_sign_in',
  create_accounts: true,
  link_by_email: false,
  trust_email: false,
  allowed_domains: [],
  home_domains: [],
  clients: null,
  enabled: true,
  upstream_logout: false,
  hide_on_login: false,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

const file = (changes: object) => ({ format: 'gatehouse-export', version: 1, admin_audience: 'x', apis: [], roles: [], groups: [], clients: [], users: [], upstream_providers: [{ ...provider, ...changes }] });

/** The paths and codes the check refuses the file with. */
function refusal(changes: object): string[] {
  try {
    checkExport(file(changes), new Date('2026-12-02T12:00:00.000Z'));
  } catch (error) {
    if (error instanceof ZodError) return error.issues.map((issue) => `${issue.path.join('.')}: ${String((issue as { params?: { code?: string } }).params?.code)}`);
    throw error;
  }
  return [];
}

describe('gatehouse import: an upstream provider is held to the admin API’s rules across fields', () => {
  it('takes a provider the admin API would take', () => {
    expect(refusal({})).to.deep.equal([]);
    expect(refusal({ token_endpoint_auth_method: 'none', client_secret: null })).to.deep.equal([]);
  });

  it('refuses an oidc provider without openid in its scopes', () => {
    expect(refusal({ scopes: ['email'] })).to.deep.equal(['upstream_providers.0.scopes: openid_scope_required']);
  });

  it('takes a disabled provider without its secret or key (what a Keycloak import of a masked secret makes)', () => {
    expect(refusal({ enabled: false, client_secret: null })).to.deep.equal([]);
    expect(refusal({ enabled: false, token_endpoint_auth_method: 'private_key_jwt', client_secret: null })).to.deep.equal([]);
  });

  it('refuses an enabled provider with a secret method without a secret, and private_key_jwt without a key', () => {
    expect(refusal({ client_secret: null })).to.deep.equal(['upstream_providers.0.client_secret: client_secret_required']);
    expect(refusal({ token_endpoint_auth_method: 'client_secret_post', client_secret: null })).to.deep.equal(['upstream_providers.0.client_secret: client_secret_required']);
    expect(refusal({ token_endpoint_auth_method: 'private_key_jwt', client_secret: null })).to.deep.equal(['upstream_providers.0.private_key_jwk: private_key_required']);
  });

  it('still refuses an oidc provider without an issuer, and an oauth2 one without its endpoints', () => {
    expect(refusal({ issuer: null })).to.deep.equal(['upstream_providers.0.issuer: issuer_required']);
    expect(refusal({ kind: 'oauth2', issuer: null })).to.deep.equal([
      'upstream_providers.0.authorization_endpoint: required_for_oauth2',
      'upstream_providers.0.token_endpoint: required_for_oauth2',
      'upstream_providers.0.userinfo_endpoint: required_for_oauth2',
    ]);
  });
});
