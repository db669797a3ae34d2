import { pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { verifyStoredHash } from '../../src/accounts/password-verifier.ts';
import { KeycloakExportError, NO_USABLE_PASSWORD, planKeycloakImport } from '../../src/keycloak/realm-import.ts';
import { keycloakTokenClaims } from '../../src/oidc/keycloak-claims.ts';
import { keycloakTotp } from '../../src/keycloak/otp-credential.ts';
import { totpCode } from '../../src/mfa/totp.ts';

const salt = Buffer.from('0123456789abcdef');
const pbkdf2Credential = (password: string, algorithm: string, digest: string, iterations: number) => ({
  type: 'password',
  createdDate: 1_700_000_000_000,
  secretData: JSON.stringify({ value: pbkdf2Sync(password, salt, iterations, 64, digest).toString('base64'), salt: salt.toString('base64'), additionalParameters: {} }),
  credentialData: JSON.stringify({ hashIterations: iterations, algorithm, additionalParameters: {} }),
});

/** A hand-made realm covering the mapping rules (the real Keycloak export is in test/fixtures/keycloak). */
const REALM = {
  realm: 'demo',
  defaultRole: { name: 'default-roles-demo' },
  roles: {
    realm: [
      { name: 'default-roles-demo', composite: true, composites: { realm: ['offline_access', 'member'] } },
      { name: 'member' },
      { name: 'admin', composite: true, composites: { realm: ['member'], client: { shop: ['refund'] } } },
      { name: 'offline_access' },
    ],
    client: { shop: [{ name: 'refund' }, { name: 'view' }], account: [{ name: 'manage-account' }] },
  },
  groups: [{ name: 'ops', path: '/ops', realmRoles: ['admin'], clientRoles: {}, subGroups: [{ name: 'night', path: '/ops/night', clientRoles: { shop: ['view'] }, subGroups: [] }] }],
  clients: [
    { clientId: 'shop', enabled: true, publicClient: false, secret: 'shop-secret-0123456789', standardFlowEnabled: true, directAccessGrantsEnabled: true, rootUrl: 'https://shop.example', redirectUris: ['/callback', 'https://shop.example/other/*'], webOrigins: ['+', '*'], attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': '+', 'user.info.response.signature.alg': 'ES256' }, protocolMappers: [{ name: 'tenant', protocolMapper: 'oidc-hardcoded-claim-mapper' }], defaultClientScopes: ['profile', 'email', 'web-origins'], optionalClientScopes: ['offline_access'] },
    { clientId: 'signed', publicClient: false, clientAuthenticatorType: 'client-jwt', standardFlowEnabled: true, redirectUris: ['https://signed.example/cb'] },
    { clientId: 'hmac-signed', publicClient: false, clientAuthenticatorType: 'client-secret-jwt', secret: 'hmac-secret-0123456789', serviceAccountsEnabled: true },
    { clientId: 'resource', bearerOnly: true },
    { clientId: 'tv', publicClient: true, standardFlowEnabled: false, attributes: { 'oauth2.device.authorization.grant.enabled': 'true' } },
    { clientId: 'account', publicClient: true, standardFlowEnabled: true },
    { clientId: 'mobile', publicClient: true, standardFlowEnabled: true, redirectUris: ['com.example.app:/callback', 'https://app.example/native', 'http://app.example/cb', 'myapp://cb'], webOrigins: ['+'], attributes: { 'post.logout.redirect.uris': 'com.example.app:/signed-out##http://app.example/bye' } },
    { clientId: 'desktop', publicClient: true, standardFlowEnabled: true, redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'] },
    { clientId: 'devweb', publicClient: true, standardFlowEnabled: true, redirectUris: ['http://localhost:3000/cb', 'http://127.0.0.1/cb'], webOrigins: ['+'], attributes: { 'user.info.response.signature.alg': 'PS256' } },
    { clientId: 'plain-userinfo', publicClient: true, standardFlowEnabled: true, redirectUris: ['https://plain.example/cb'], attributes: { 'user.info.response.signature.alg': 'unsigned' } },
    { clientId: 'only-app-scheme', publicClient: true, standardFlowEnabled: true, redirectUris: ['myapp://cb'] },
    { clientId: 'cli-tool', publicClient: true, standardFlowEnabled: true, redirectUris: ['http://localhost:*'] },
  ],
  users: [
    { id: 'u-1', username: 'night-owl', email: 'Owl@Example.com', emailVerified: true, enabled: true, firstName: 'Night', groups: ['/ops/night'], realmRoles: ['default-roles-demo'], attributes: { locale: ['de'], shoeSize: ['44'] }, credentials: [pbkdf2Credential('owl password', 'pbkdf2-sha256', 'sha256', 1000), { type: 'otp' }], requiredActions: ['UPDATE_PASSWORD'] },
    { id: 'u-2', username: 'legacy', enabled: true, credentials: [{ type: 'password', secretData: '{"value":"x","salt":"eA=="}', credentialData: '{"algorithm":"bcrypt","hashIterations":10}' }] },
    { id: 'u-3', username: 'federated', enabled: true, credentials: [], federatedIdentities: [{ identityProvider: 'github' }] },
  ],
  identityProviders: [{ alias: 'github' }],
  authenticationFlows: [{ alias: 'browser', builtIn: true }, { alias: 'my-flow', builtIn: false }],
};

describe('Keycloak realm mapping (pure)', () => {
  const plan = planKeycloakImport(REALM, new Date('2026-01-01T00:00:00Z'));
  const unmapped = (kind: string, name: string) => plan.unmapped.filter((item) => item.kind === kind && item.name === name).map((item) => item.reason);

  it('maps roles (client roles as client:role, Keycloak built-ins skipped) and groups by path', () => {
    // A realm role named admin is an application's role in Keycloak; in Gatehouse it would open the admin console and API.
    expect(plan.roles.map((role) => role.name)).to.have.members(['member', 'shop:refund', 'shop:view']);
    expect(unmapped('role', 'admin').join(' ')).to.match(/^Gatehouse's administrator role \(admin console and API\): not given to anyone by an import/);
    expect(plan.groups.map((group) => group.name)).to.have.members(['/ops', '/ops/night']);
  });

  it('gives users their effective roles: default role, groups and parent groups, composites', () => {
    const owl = plan.users.find((planned) => planned.user.username === 'night-owl')!.user;
    // /ops gives the composite admin: its members (member, shop:refund), never admin itself.
    expect(owl.roles).to.have.members(['member', 'shop:refund', 'shop:view']);
    expect(owl).to.include({ _id: 'u-1', email: 'owl@example.com', emailVerified: true, givenName: 'Night', familyName: null, name: 'Night' });
    expect(owl.attributes).to.deep.equal({ locale: 'de' });
    // An attribute that is not a standard claim becomes a custom attribute (one value: a text).
    expect(owl.customAttributes).to.deep.equal({ shoeSize: '44' });
    const notes = unmapped('user', 'night-owl').join(' ');
    expect(notes).to.match(/authenticator without its secret/);
    expect(notes).to.not.match(/shoeSize/);
    expect(notes).to.not.match(/UPDATE_PASSWORD/);
    expect(owl.requiredActions).to.deep.equal(['update_password']);
  });

  it("carries the realm's default role over as default_roles (Keycloak's own roles left out), which new users get; default groups are reported", () => {
    expect(plan.settings.settings.find((one) => one.setting === 'default_roles')).to.deep.equal({ group: 'sign-in', setting: 'default_roles', value: ['member'], keycloak: 'defaultRole default-roles-demo' });
    expect(plan.unmapped.filter((item) => item.name === 'default-roles-demo')).to.deep.equal([]);
    const groups = planKeycloakImport({ ...REALM, defaultGroups: ['/ops', '/ops/night'] }).unmapped.filter((item) => item.kind === 'group');
    expect(groups).to.have.length(1);
    expect(groups[0]).to.deep.include({ name: '/ops, /ops/night' });
    expect(groups[0]!.reason).to.match(/^the realm's default groups: Keycloak put every new user in them/);
    // Keycloak 26.7.3's own default role holds only its built-ins (offline_access, uma_authorization, account's): no role.
    const defaults = planKeycloakImport(JSON.parse(readFileSync(new URL('../fixtures/keycloak/realm-export.json', import.meta.url), 'utf8')));
    // Nothing to carry: default_roles is left as it is, and nothing is said (it set [] and reported `["staff"] → []`).
    expect(defaults.settings.settings.find((one) => one.setting === 'default_roles')).to.equal(undefined);
    expect(defaults.unmapped.filter((item) => item.name.startsWith('defaultRole'))).to.deep.equal([]);
    // More than the setting takes: reported, left as it is.
    const many = Array.from({ length: 101 }, (_, index) => `r${index}`);
    const crowded = planKeycloakImport({ ...REALM, roles: { realm: [{ name: 'default-roles-demo', composite: true, composites: { realm: many } }, ...many.map((name) => ({ name }))] } });
    expect(crowded.settings.settings.find((one) => one.setting === 'default_roles')).to.equal(undefined);
    expect(crowded.unmapped.find((item) => item.name === 'defaultRole default-roles-demo')?.reason).to.match(/^not applied: Gatehouse's default_roles takes at most 100 roles/);
  });

  it("carries a hard-coded role or group of an OpenID Connect provider over as a rule on its issuer; a preset's, or an attribute, is reported", () => {
    const brokered = planKeycloakImport({
      ...REALM,
      identityProviders: [
        { alias: 'corp', providerId: 'oidc', enabled: true, config: { issuer: 'https://id.corp.test', clientId: 'gh', clientSecret: 'corp-secret-0123456789' } },
        { alias: 'github', providerId: 'github', enabled: true, config: { clientId: 'gh', clientSecret: 'gh-secret-0123456789' } },
      ],
      identityProviderMappers: [
        { name: 'everyone-ops', identityProviderAlias: 'corp', identityProviderMapper: 'oidc-hardcoded-group-idp-mapper', config: { group: '/ops' } },
        { name: 'everyone-refunds', identityProviderAlias: 'corp', identityProviderMapper: 'hardcoded-role-idp-mapper', config: { role: 'shop.refund' } },
        { name: 'tenant', identityProviderAlias: 'corp', identityProviderMapper: 'hardcoded-attribute-idp-mapper', config: { attribute: 'tenant', 'attribute.value': 'corp' } },
        { name: 'everyone-member', identityProviderAlias: 'github', identityProviderMapper: 'hardcoded-role-idp-mapper', config: { role: 'member' } },
      ],
    });
    const corp = brokered.upstreamProviders.find((one) => one.settings.alias === 'corp')!.settings;
    expect(corp.group_mappings).to.deep.equal([{ claim: 'iss', value: 'https://id.corp.test', group: '/ops' }]);
    expect(corp.role_mappings).to.deep.equal([{ claim: 'iss', value: 'https://id.corp.test', role: 'shop:refund' }]);
    expect(brokered.upstreamProviders.find((one) => one.settings.alias === 'github')!.settings.role_mappings).to.deep.equal([]);
    const reason = (name: string) => brokered.unmapped.find((item) => item.kind === 'identity provider mapper' && item.name === name)?.reason;
    expect(reason('github/everyone-member')).to.match(/needs an OpenID Connect provider with an issuer of its own/);
    expect(reason('corp/tenant')).to.match(/hard-coded attributes are not mapped/);
    expect(reason('corp/everyone-ops')).to.equal(undefined);
  });

  it("says a user of user federation (LDAP) has no password because the directory holds it, not that Keycloak had none", () => {
    const federated = planKeycloakImport({ realm: 'demo', users: [{ id: 'u-9', username: 'ldap-lee', enabled: true, federationLink: 'ldap-1', credentials: [] }, { id: 'u-8', username: 'social-sam', enabled: true }] });
    const notes = (name: string) => federated.unmapped.filter((item) => item.kind === 'user' && item.name === name).map((item) => item.reason);
    expect(notes('ldap-lee')).to.have.length(1);
    expect(notes('ldap-lee')[0]).to.match(/^stored in user federation ldap-1 \(LDAP\/Kerberos\), which holds the password: imported without a usable password/);
    expect(notes('social-sam')).to.deep.equal(['no password in Keycloak (e.g. signs in through an identity provider): imported without a usable password']);
    expect(federated.users.find((one) => one.user.username === 'ldap-lee')!.user.passwordHash).to.equal(NO_USABLE_PASSWORD);
  });

  it('keeps PBKDF2 hashes verifiable and marks unknown algorithms unusable', () => {
    const owl = plan.users.find((planned) => planned.user.username === 'night-owl')!;
    expect(owl.passwordAlgorithm).to.equal('pbkdf2-sha256');
    expect(owl.passwordSetAt.getTime()).to.equal(1_700_000_000_000);
    expect(verifyStoredHash(owl.user.passwordHash!, 'owl password')).to.equal(true);
    expect(verifyStoredHash(owl.user.passwordHash!, 'owl passwore')).to.equal(false);
    const legacy = plan.users.find((planned) => planned.user.username === 'legacy')!;
    expect(legacy.user.passwordHash).to.equal(NO_USABLE_PASSWORD);
    expect(verifyStoredHash(NO_USABLE_PASSWORD, '')).to.equal(false);
    expect(unmapped('user', 'legacy').join(' ')).to.match(/bcrypt/);
    expect(unmapped('user', 'federated').join(' ')).to.match(/github/);
  });

  it('maps clients: relative URIs against the root URL, + origins, flows, PKCE; reports what it drops', () => {
    const shop = plan.clients.find((client) => client.clientId === 'shop')!;
    expect(shop.secret).to.equal('shop-secret-0123456789');
    expect(shop.metadata).to.deep.include({
      redirect_uris: ['https://shop.example/callback'],
      post_logout_redirect_uris: ['https://shop.example/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      require_pkce: true,
      scope: 'openid profile email offline_access',
      // Keycloak's default client scopes it maps (web-origins needs none); the optional offline_access stays asked-for.
      default_scopes: ['profile', 'email'],
    });
    expect(shop.webOrigins).to.deep.equal(['https://shop.example']);
    expect(unmapped('client', 'shop').join(' ')).to.match(/wildcards/).and.match(/any origin/).and.match(/password grant/).and.match(/tenant/);
    const tv = plan.clients.find((client) => client.clientId === 'tv')!;
    expect(tv.metadata).to.deep.include({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none' });
    // An export without the lists leaves the defaults unset.
    expect(tv.metadata).not.to.have.property('default_scopes');
    expect(plan.clients.map((client) => client.clientId)).to.not.include.members(['signed', 'resource', 'account']);
    // Keycloak's own clients: skipped on purpose and named apart (only those the export has), never "not mapped".
    expect(plan.builtInClients).to.deep.equal(['account']);
    expect(unmapped('client', 'account')).to.deep.equal([]);
    expect(unmapped('client', 'signed').join(' ')).to.match(/client-jwt/);
    // Keycloak's "Signed JWT with client secret": Gatehouse serves no client_secret_jwt, so such a
    // client would be stored and then refused at every request (invalid_client_metadata).
    expect(plan.clients.map((client) => client.clientId)).to.not.include('hmac-signed');
    expect(unmapped('client', 'hmac-signed').join(' ')).to.match(/client-secret-jwt/);
    // A secret works by HTTP Basic and in the form here as in Keycloak: nothing to report about it.
    expect(unmapped('client', 'shop').join(' ')).to.not.match(/client secret/);
    // The password grant exists here as an opt-in: the report says how, never "not supported".
    expect(unmapped('client', 'shop').join(' ')).to.match(/password grant.*--allow-password-grant/).and.not.match(/password grant\) are not supported/);
    expect(unmapped('client', 'resource').join(' ')).to.match(/bearer-only/);
    expect(unmapped('identity provider', 'github')).to.have.length(1);
    expect(unmapped('authentication flow', 'my-flow')).to.have.length(1);
    expect(unmapped('authentication flow', 'browser')).to.have.length(0);
  });

  it("keeps Keycloak's userinfo signature algorithm when Gatehouse signs with it, and reports the others", () => {
    const client = (id: string) => plan.clients.find((entry) => entry.clientId === id)!;
    expect(client('shop').metadata.userinfo_signed_response_alg).to.equal('ES256');
    expect(client('devweb').metadata).not.to.have.property('userinfo_signed_response_alg');
    expect(unmapped('client', 'devweb').join(' ')).to.match(/userinfo signed with PS256/);
    expect(client('plain-userinfo').metadata).not.to.have.property('userinfo_signed_response_alg');
    expect(unmapped('client', 'plain-userinfo')).to.deep.equal([]);
  });

  it('maps apps with private-use schemes or port-less loopback URIs to native clients (RFC 8252), and reports it', () => {
    const mobile = plan.clients.find((client) => client.clientId === 'mobile')!;
    expect(mobile.metadata).to.deep.include({
      application_type: 'native',
      redirect_uris: ['com.example.app:/callback', 'https://app.example/native'],
      post_logout_redirect_uris: ['com.example.app:/signed-out'],
      token_endpoint_auth_method: 'none',
    });
    expect(mobile.webOrigins, 'only http(s) redirect URIs give an origin').to.deep.equal(['https://app.example']);
    expect(unmapped('client', 'mobile').join(' ')).to.match(/http:\/\/app\.example\/cb: .*loopback/).and.match(/myapp:\/\/cb: .*reverse domain/).and.match(/http:\/\/app\.example\/bye/);
    expect(plan.nativeClients.mobile!.join(' ')).to.match(/com\.example\.app:\/callback/).and.match(/private-use scheme/);

    // Keycloak lets a loopback URI registered without a port match any port, as native clients do here.
    const desktop = plan.clients.find((client) => client.clientId === 'desktop')!;
    expect(desktop.metadata).to.deep.include({ application_type: 'native', redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'] });
    expect(plan.nativeClients.desktop!.join(' ')).to.match(/loopback, any port/);

    // A web app in development on a fixed port stays a web client, with its exact URIs.
    const devweb = plan.clients.find((client) => client.clientId === 'devweb')!;
    expect(devweb.metadata.application_type).to.equal(undefined);
    expect(devweb.metadata.redirect_uris).to.deep.equal(['http://localhost:3000/cb', 'http://127.0.0.1/cb']);
    expect(devweb.webOrigins).to.deep.equal(['http://localhost:3000', 'http://127.0.0.1']);
    expect(plan.nativeClients).to.not.have.property('devweb');
    expect(plan.nativeClients).to.not.have.property('shop');

    expect(plan.clients.map((client) => client.clientId)).to.not.include('only-app-scheme');
    expect(unmapped('client', 'only-app-scheme').join(' ')).to.match(/reverse domain/).and.match(/no usable redirect URI/);
    // Keycloak's any-port-any-path loopback wildcard cannot be matched exactly: reported with the way out.
    expect(unmapped('client', 'cli-tool').join(' ')).to.match(/wildcards/).and.match(/http:\/\/127\.0\.0\.1\/<its path> without a port/);
  });

  it('derives usernames from email addresses the same way whatever the order of the export, and keeps the ones an earlier import gave', () => {
    const jo = [
      { id: 'k-1', username: 'jo@one.test', enabled: true },
      { id: 'k-2', username: 'JO@two.test', enabled: true },
      { id: 'k-3', username: 'jo@three.test', enabled: true },
      { id: 'k-4', username: 'jo-2', enabled: true },
    ];
    const usernames = (users: readonly object[], current: ReadonlyArray<{ _id: string; username: string }> = []) =>
      Object.fromEntries(planKeycloakImport({ realm: 'jo', users }, new Date(0), current).users.map(({ user }) => [user._id, user.username]));
    const forward = usernames(jo);
    // In the order of the addresses; jo-2 is a Keycloak user's own name.
    expect(forward).to.deep.equal({ 'k-1': 'jo', 'k-3': 'jo-3', 'k-2': 'jo-4', 'k-4': 'jo-2' });
    expect(usernames([...jo].reverse())).to.deep.equal(forward);
    expect(usernames([jo[2], jo[0], jo[3], jo[1]] as object[])).to.deep.equal(forward);

    // A re-import after an earlier one (users named in whatever order it gave, here the export's
    // at the time): everyone keeps their name, whatever the order; a user added sorting first
    // takes the next free name, not one of theirs.
    const earlier = [
      { _id: 'k-2', username: 'jo' },
      { _id: 'k-1', username: 'jo-3' },
      { _id: 'k-3', username: 'jo-4' },
      { _id: 'k-4', username: 'jo-2' },
      { _id: 'someone', username: 'jo-5' },
    ];
    const added = [{ id: 'k-0', username: 'jo@aaa.test', enabled: true }, ...jo];
    const again = { 'k-2': 'jo', 'k-1': 'jo-3', 'k-3': 'jo-4', 'k-4': 'jo-2', 'k-0': 'jo-6' };
    expect(usernames(added, earlier)).to.deep.equal(again);
    expect(usernames([...added].reverse(), earlier)).to.deep.equal(again);
    // A kept name is one derived from the same address's local part; anything else is derived afresh.
    expect(usernames([jo[0]] as object[], [{ _id: 'k-1', username: 'joanna' }])).to.deep.equal({ 'k-1': 'jo' });
  });

  it('ends the walk up a group\'s parents when the export\'s group paths loop (a hostile file hung the server: admin API import, dry run too)', () => {
    // Paths come from the file: a subgroup may claim its parent's path, or two groups each other's.
    const looping = planKeycloakImport({
      realm: 'loop',
      roles: { realm: [{ name: 'a-role' }, { name: 'y-role' }] },
      groups: [
        { name: 'a', path: '/a', subGroups: [{ name: 'b', path: '/a', realmRoles: ['a-role'] }] },
        { name: 'top', path: '/top', subGroups: [{ name: 'x', path: '/x', subGroups: [{ name: 'y', path: '/y', realmRoles: ['y-role'], subGroups: [{ name: 'x', path: '/x' }] }] }] },
      ],
      users: [
        { id: 'u-a', username: 'in-a', groups: ['/a'] },
        { id: 'u-x', username: 'in-x', groups: ['/x'] },
      ],
    });
    expect(looping.users.map((planned) => planned.user.username)).to.have.members(['in-a', 'in-x']);
    const roles = (username: string) => looping.users.find((planned) => planned.user.username === username)!.user.roles;
    expect(roles('in-a')).to.have.members(['a-role']);
    expect(roles('in-x')).to.have.members(['y-role']);
  });

  it('refuses groups nested deeper than it keeps, naming `groups`, and expands a composite chain of any length (a deep hostile file answered 500 after writing the realm part)', () => {
    // 20,000 nested subGroups: refused by the plan, before anything is written.
    let nested: Record<string, unknown> = { name: 'g0', path: '/g0' };
    const root = nested;
    for (let depth = 1; depth < 20_000; depth += 1) {
      const inner = { name: `g${depth}`, path: `${String(nested.path)}/g${depth}` };
      nested.subGroups = [inner];
      nested = inner;
    }
    let refusal: unknown;
    try {
      planKeycloakImport({ realm: 'deep', groups: [root], users: [] });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).to.be.instanceOf(KeycloakExportError);
    expect((refusal as KeycloakExportError).details).to.deep.equal([{ path: 'groups', message: 'nested more than 100 levels deep', code: 'keycloak_too_deep', params: { max: 100 } }]);
    // 100 levels are kept.
    let kept: Record<string, unknown> = { name: 'k0', path: '/k0' };
    const keptRoot = kept;
    for (let depth = 1; depth < 100; depth += 1) {
      const inner = { name: `k${depth}`, path: `${String(kept.path)}/k${depth}` };
      kept.subGroups = [inner];
      kept = inner;
    }
    expect(planKeycloakImport({ realm: 'deep', groups: [keptRoot], users: [] }).groups).to.have.length(100);

    // A chain of 20,000 composite roles: a user holding the first holds them all.
    const realmRoles = Array.from({ length: 20_000 }, (_, index) => ({ name: `r${index}`, composite: index < 19_999, ...(index < 19_999 ? { composites: { realm: [`r${index + 1}`] } } : {}) }));
    const chain = planKeycloakImport({ realm: 'chain', roles: { realm: realmRoles }, users: [{ id: 'u-1', username: 'holder', realmRoles: ['r0'] }] });
    expect(chain.users[0]!.user.roles).to.have.length(20_000);
    expect(chain.users[0]!.user.roles).to.include.members(['r0', 'r19999']);
  });

  it("gives a service account's effective roles to its client (service_account_roles), never admin; one of a client not imported is reported", () => {
    const realm = {
      ...REALM,
      clients: [...REALM.clients, { clientId: 'worker', enabled: true, publicClient: false, secret: 'worker-secret-0123456789', serviceAccountsEnabled: true }],
      users: [
        { id: 'sa-1', username: 'service-account-worker', enabled: true, serviceAccountClientId: 'worker', realmRoles: ['default-roles-demo', 'admin'], clientRoles: { shop: ['view'] }, groups: ['/ops'] },
        { id: 'sa-2', username: 'service-account-hmac-signed', enabled: true, serviceAccountClientId: 'hmac-signed', realmRoles: ['default-roles-demo'] },
      ],
    };
    const withAccounts = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));
    // Default role (member), direct (shop:view), /ops's composite admin: its members, never admin itself.
    expect(withAccounts.serviceAccounts).to.deep.equal([{ username: 'service-account-worker', clientId: 'worker', roles: ['member', 'shop:refund', 'shop:view'] }]);
    expect(withAccounts.users).to.deep.equal([]);
    const reported = withAccounts.unmapped.filter((item) => item.kind === 'service account');
    expect(reported).to.deep.equal([{ kind: 'service account', name: 'service-account-hmac-signed', reason: 'its client hmac-signed is not imported: its roles (member) are not carried over' }]);
  });

  it("reports a client with Keycloak's lightweight access tokens (its access tokens here carry every claim; it said nothing)", () => {
    const realm = { ...REALM, clients: [...REALM.clients, { clientId: 'light', enabled: true, publicClient: true, standardFlowEnabled: true, redirectUris: ['https://light.example/cb'], attributes: { 'client.use.lightweight.access.token.enabled': 'true' } }] };
    const light = planKeycloakImport(realm).unmapped.filter((item) => item.kind === 'client' && item.name === 'light');
    expect(light).to.have.length(1);
    expect(light[0]!.reason).to.match(/^lightweight access tokens \(client\.use\.lightweight\.access\.token\.enabled\): not carried over/);
    expect(plan.unmapped.filter((item) => item.reason.startsWith('lightweight access tokens'))).to.deep.equal([]);
  });

  it('refuses a document that is not a realm export', () => {
    expect(() => planKeycloakImport({ users: [] })).to.throw(KeycloakExportError, /realm export/);
    expect(() => planKeycloakImport('x')).to.throw(KeycloakExportError);
  });

  it('shapes access-token claims like Keycloak', () => {
    const claims = keycloakTokenClaims({ profile: { preferred_username: 'owl', email: 'o@x', roles: ['member', 'shop:refund', 'shop:view', 'odd:'], groups: ['/ops'] }, clientId: 'shop', sid: 's-1' });
    expect(claims).to.deep.equal({
      typ: 'Bearer',
      azp: 'shop',
      sid: 's-1',
      realm_access: { roles: ['member', 'odd:'] },
      resource_access: { shop: { roles: ['refund', 'view'] } },
      preferred_username: 'owl',
      email: 'o@x',
      groups: ['/ops'],
    });
  });

  describe('OTP credentials', () => {
    const otp = (data: Record<string, unknown>, value = 'abcDEF123xyz') => ({ type: 'otp', createdDate: 1_700_000_000_000, secretData: JSON.stringify({ value }), credentialData: JSON.stringify(data) });
    const map = (credential: ReturnType<typeof otp>) => keycloakTotp(credential, JSON.parse(credential.secretData) as Record<string, unknown>, JSON.parse(credential.credentialData) as Record<string, unknown>);

    it('keeps Keycloak’s algorithm, digits and period; the secret is the base32 of its UTF-8 bytes, as in Keycloak’s QR code', () => {
      const mapped = map(otp({ subType: 'totp', digits: 8, period: 60, algorithm: 'HmacSHA512', counter: 0 }));
      expect(mapped.ok).to.equal(true);
      if (!mapped.ok) return;
      expect(mapped.totp.parameters).to.deep.equal({ algorithm: 'SHA512', digits: 8, period: 60 });
      expect(mapped.totp.secret).to.equal('MFRGGRCFIYYTEM3YPF5A');
      expect(mapped.totp.enrolledAt.getTime()).to.equal(1_700_000_000_000);
      // RFC 6238 Appendix B's SHA-1 vector through the same path: secret "12345678901234567890", T = 59 s.
      const vector = map(otp({ subType: 'totp', digits: 8, period: 30, algorithm: 'HmacSHA1' }, '12345678901234567890'));
      expect(vector.ok && totpCode(vector.totp.secret, new Date(59_000), vector.totp.parameters)).to.equal('94287082');
    });

    it('takes a secret Keycloak holds in base32 (secretEncoding BASE32) as it is', () => {
      const mapped = map(otp({ subType: 'totp', digits: 6, period: 30, algorithm: 'HmacSHA1', secretEncoding: 'BASE32' }, 'jbsw y3dp ehpk 3pxp'));
      expect(mapped.ok && mapped.totp.secret).to.equal('JBSWY3DPEHPK3PXP');
    });

    it('reports what it cannot take: counter-based codes, odd digits or algorithms, a missing secret', () => {
      const reason = (credential: ReturnType<typeof otp>) => {
        const mapped = map(credential);
        return mapped.ok ? '' : mapped.reason;
      };
      expect(reason(otp({ subType: 'hotp', digits: 6, counter: 3, algorithm: 'HmacSHA1' }))).to.match(/counter-based/);
      expect(reason(otp({ subType: 'totp', digits: 10, period: 30, algorithm: 'HmacSHA1' }))).to.match(/10 digits/);
      expect(reason(otp({ subType: 'totp', digits: 6, period: 30, algorithm: 'HmacMD5' }))).to.match(/HmacMD5/);
      expect(reason(otp({ subType: 'totp', digits: 6, period: 30, algorithm: 'HmacSHA1' }, ''))).to.match(/without its secret/);
    });

    it('takes the first authenticator of a user with several, reports the others, and marks the user as having a second factor', () => {
      const realm = {
        realm: 'otp',
        users: [
          { id: 'u-9', username: 'two-phones', enabled: true, credentials: [otp({ subType: 'totp', digits: 6, period: 30, algorithm: 'HmacSHA1' }, 'first'), { ...otp({ subType: 'totp', digits: 6, period: 30, algorithm: 'HmacSHA1' }, 'second'), userLabel: 'old phone' }] },
          { id: 'u-10', username: 'no-app', enabled: true, credentials: [] },
        ],
      };
      const otpPlan = planKeycloakImport(realm);
      const twoPhones = otpPlan.users.find((planned) => planned.user.username === 'two-phones')!;
      expect(twoPhones.totp?.secret).to.equal('MZUXE43U');
      expect(twoPhones.user.secondFactor).to.equal(true);
      expect(otpPlan.users.find((planned) => planned.user.username === 'no-app')!.user.secondFactor).to.equal(false);
      expect(otpPlan.unmapped.filter((item) => item.name === 'two-phones').map((item) => item.reason).join(' ')).to.match(/authenticator "old phone": not imported \(Gatehouse keeps one/);
    });
  });
});
