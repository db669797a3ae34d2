import { expect } from 'chai';
import type { UpstreamProvider } from '../../src/upstream/directory.ts';
import { profileOf, syncedLabels } from '../../src/upstream/linking.ts';
import { claimAt, presetValues, upstreamCreateSchema } from '../../src/upstream/spec.ts';

const provider = (extra: Partial<UpstreamProvider> = {}): UpstreamProvider => ({
  alias: 'kc',
  kind: 'oidc',
  display_name: 'Keycloak',
  icon_url: null,
  issuer: 'https://kc.example.com/realms/staff',
  authorization_endpoint: null,
  token_endpoint: null,
  userinfo_endpoint: null,
  client_id: 'gatehouse',
  token_endpoint_auth_method: 'client_secret_basic',
  scopes: ['openid'],
  claims: { subject: 'sub', username: 'preferred_username', email: 'email', email_verified: 'email_verified', name: 'name', picture: 'picture' },
  role_mappings: [{ claim: 'realm_access.roles', value: 'admin', role: 'admin' }, { claim: 'groups', value: '/finance', role: 'ledger' }],
  group_mappings: [{ claim: 'hd', value: 'corp.example', group: 'staff' }],
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
  has_secret: true,
  has_private_key: false,
  created_at: new Date(0),
  updated_at: new Date(0),
  ...extra,
});

describe('upstream claim mapping and role rules', () => {
  it('reads dotted claim paths, a claim whose own name has dots first', () => {
    const claims = { realm_access: { roles: ['admin'] }, 'https://example.com/roles': ['x'] };
    expect(claimAt(claims, 'realm_access.roles')).to.deep.equal(['admin']);
    expect(claimAt(claims, 'https://example.com/roles')).to.deep.equal(['x']);
    expect(claimAt(claims, 'realm_access.missing.deeper')).to.equal(undefined);
  });

  it('maps claims, roles and groups; email counts as verified only when the upstream says so or trust_email is on', () => {
    const identity = { subject: 's-1', claims: { sub: 's-1', preferred_username: 'kim', email: 'kim@corp.example', email_verified: false, realm_access: { roles: ['admin', 'user'] }, groups: ['/finance'], hd: 'corp.example' }, amr: ['pwd'], idToken: undefined };
    const profile = profileOf(provider(), identity);
    expect(profile).to.deep.include({ username: 'kim', email: 'kim@corp.example', emailVerified: false });
    expect(profile.roles).to.deep.equal(['admin', 'ledger']);
    expect(profile.groups).to.deep.equal(['staff']);
    expect(profileOf(provider({ trust_email: true }), identity).emailVerified).to.equal(true);
    expect(profileOf(provider(), { ...identity, claims: { ...identity.claims, email_verified: true } }).emailVerified).to.equal(true);
  });

  it('syncs only the roles the rules name, at every sign-in or on the first one only', () => {
    const managed = ['admin', 'ledger'];
    // Upstream dropped "admin": taken away; "editor" (no rule names it) stays.
    expect(syncedLabels(['admin', 'editor'], managed, ['ledger'], 'every_sign_in', false)).to.deep.equal(['editor', 'ledger']);
    expect(syncedLabels(['admin', 'editor'], managed, ['admin'], 'every_sign_in', false)).to.equal(undefined);
    expect(syncedLabels(['editor'], managed, ['ledger'], 'first_sign_in', false)).to.equal(undefined);
    expect(syncedLabels(['editor'], managed, ['ledger'], 'first_sign_in', true)).to.deep.equal(['editor', 'ledger']);
    expect(syncedLabels(['editor'], [], [], 'every_sign_in', true)).to.equal(undefined);
  });

  it('fills presets, and what the operator sends keeps its own claims', () => {
    expect(presetValues('microsoft', { tenant: 'contoso.com' }).issuer).to.equal('https://login.microsoftonline.com/contoso.com/v2.0');
    expect(presetValues('github', {})).to.deep.include({ kind: 'oauth2', userinfo_endpoint: 'https://api.github.com/user' });
    expect(() => presetValues('keycloak', {})).to.throw(/realm URL/);
    // A partial mapping carries no defaults that would override a preset's.
    expect(upstreamCreateSchema.parse({ alias: 'gh', client_id: 'x', claims: { name: 'display' } }).claims).to.deep.equal({ name: 'display' });
  });
});
