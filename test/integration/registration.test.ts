import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import * as oidc from 'openid-client';
import { adminClient, callAdmin, clientCredentials } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, FAST_HASHING, PASSWORD, REDIRECT_URI, relyingParty, seed } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

describe('dynamic client registration (RFC 7591/7592) behind initial access tokens', () => {
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let adminToken: string;
  const register = (body: unknown, bearer?: string) =>
    fetch(`${gatehouse.url}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) },
      body: JSON.stringify(body),
    });
  const initialAccessToken = async () => (await callAdmin(gatehouse.url, adminToken, 'POST', '/initial-access-tokens', { expires_in: 600 })).body.initial_access_token as string;

  before(async () => {
    mongodbUri = emptyDatabaseUri('registration');
    // The issuer where the instance listens: a registered client goes through discovery and a code flow below.
    const port = await freePort();
    gatehouse = await startInstance({ mongodbUri, redisUrl: serviceUrls().redisUrl, secret: randomSecret(), issuer: `http://127.0.0.1:${port}`, settings: { ...FAST_HASHING, GATEHOUSE_REGISTRATION: 'true', PORT: String(port) } });
    adminToken = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  it('rejects registration without an initial access token', async () => {
    const response = await register({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    expect(response.status).to.equal(401);
    expect(((await response.json()) as { error: string }).error).to.equal('invalid_token');
  });

  it('registers with one; the new client completes client_credentials and can manage itself', async () => {
    const token = await initialAccessToken();
    const response = await register({ client_name: 'Self-registered', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }, token);
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).to.equal(201);
    const stored = await gatehouse.services.clients.get(body.client_id!);
    expect(stored).to.deep.include({ displayName: 'Self-registered', firstParty: false, admin: false, allowedApis: [] });
    const raw = JSON.stringify(stored);
    expect(raw).not.to.include(body.client_secret);

    const cc = await clientCredentials(gatehouse.url, body.client_id!, body.client_secret!);
    expect(cc.status, JSON.stringify(cc.body)).to.equal(200);

    const read = await fetch(new URL(new URL(body.registration_client_uri!).pathname, gatehouse.url), { headers: { authorization: `Bearer ${body.registration_access_token}` } });
    expect(read.status).to.equal(200);
    const events = await callAdmin(gatehouse.url, adminToken, 'GET', '/audit-events?type=registration.initial_access_token_created');
    expect(events.body.events).to.have.length(1);
  });

  it('client_name is what the consent page shows: at most 200 characters (as the admin API\'s name), no bidi controls or other invisible format characters — at registration and at its update', async () => {
    const token = await initialAccessToken();
    const refused = async (name: string, send: (body: Record<string, unknown>) => Promise<Response>) => {
      const response = await send({ client_name: name, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
      const body = (await response.json()) as Record<string, string>;
      expect(response.status, `${JSON.stringify(name.slice(0, 20))} ${JSON.stringify(body)}`).to.equal(400);
      expect(body.error).to.equal('invalid_client_metadata');
      expect(body.error_description).to.match(/^client_name /);
    };
    for (const name of ['W'.repeat(201), 'Payroll \u202e', 'Pay\u202droll', '\u2067Payroll', 'Pay\u200broll', 'Pay\u0007roll', '   ']) await refused(name, (body) => register(body, token));
    const hebrew = await register({ client_name: 'שכר · Payroll', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }, token);
    const created = (await hebrew.json()) as Record<string, string>;
    expect(hebrew.status, JSON.stringify(created)).to.equal(201);
    expect(created.client_name).to.equal('שכר · Payroll');
    const update = (body: Record<string, unknown>) =>
      fetch(new URL(new URL(created.registration_client_uri!).pathname, gatehouse.url), {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${created.registration_access_token}` },
        body: JSON.stringify({ ...body, client_id: created.client_id, client_secret: created.client_secret }),
      });
    await refused('Payroll \u202e', update);
    expect((await gatehouse.services.clients.get(created.client_id!))?.displayName).to.equal('שכר · Payroll');
  });

  it('registering (RFC 7591) is audited as client.created: the initial access token the actor (by a digest, never the token), the names of the fields it asked for, the caller\'s address', async () => {
    const token = await initialAccessToken();
    const response = await register({ client_name: 'Audited', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], jwks_uri: 'https://rp.example.com/jwks' }, token);
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).to.equal(201);
    const created = await callAdmin(gatehouse.url, adminToken, 'GET', `/audit-events?type=client.created&client=${body.client_id}`);
    expect(created.body.events, JSON.stringify(created.body)).to.have.length(1);
    const event = created.body.events[0] as Record<string, any>;
    expect(event.actor.type).to.equal('initial_access_token');
    expect(event.actor.id).to.be.a('string').and.not.equal(token);
    expect(event).to.deep.include({ client: body.client_id, target: { type: 'client', id: body.client_id } });
    expect(event.details.fields).to.deep.equal(['client_name', 'grant_types', 'jwks_uri', 'redirect_uris', 'response_types']);
    expect(event.ip).to.match(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    const raw = JSON.stringify(event);
    for (const secret of [token, body.client_secret!, body.registration_access_token!]) expect(raw).not.to.include(secret);
    // The operator who made the token: its creation names the same digest.
    const issued = await callAdmin(gatehouse.url, adminToken, 'GET', '/audit-events?type=registration.initial_access_token_created');
    const made = (issued.body.events as Array<Record<string, any>>).filter((candidate) => candidate.target?.id === event.actor.id);
    expect(made, JSON.stringify(issued.body)).to.have.length(1);
    expect(made[0]!.target).to.deep.equal({ type: 'initial_access_token', id: event.actor.id });
  });

  it('changing itself (RFC 7592 PUT) is audited as client.updated: the client its own actor, the names of the fields that changed', async () => {
    const created = (await (await register({ client_name: 'Before', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://rp.example.com/cb'] }, await initialAccessToken())).json()) as Record<string, unknown>;
    const { registration_client_uri: uri, registration_access_token: token, client_secret_expires_at: _expires, client_id_issued_at: _issued, ...metadata } = created as Record<string, string>;
    const response = await fetch(new URL(new URL(uri!).pathname, gatehouse.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ ...metadata, client_name: 'After', redirect_uris: ['https://rp.example.com/cb', 'https://rp.example.com/other'] }),
    });
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).to.equal(200);
    const updated = await callAdmin(gatehouse.url, adminToken, 'GET', `/audit-events?type=client.updated&client=${metadata.client_id}`);
    expect(updated.body.events, JSON.stringify(updated.body)).to.have.length(1);
    const event = updated.body.events[0] as Record<string, any>;
    expect(event).to.deep.include({ actor: { type: 'client', id: metadata.client_id, username: null }, client: metadata.client_id, target: { type: 'client', id: metadata.client_id } });
    expect(event.details).to.deep.equal({ fields: ['client_name', 'redirect_uris'] });
    expect(event.ip).to.match(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    const raw = JSON.stringify(event);
    for (const secret of [token!, body.registration_access_token!, metadata.client_secret!]) expect(raw).not.to.include(secret);
  });

  it('gives a self-registered client minimal ID tokens (OIDC Core 5.4) unless it asks for the profile claims there', async () => {
    const base = { client_name: 'Spec RP', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://rp.example.com/cb'] };
    const plain = (await (await register(base, await initialAccessToken())).json()) as Record<string, unknown>;
    expect(plain.minimal_id_token).to.equal(true);
    expect((await gatehouse.services.clients.get(plain.client_id as string))?.metadata.minimal_id_token).to.equal(true);
    const keycloakLike = (await (await register({ ...base, minimal_id_token: false }, await initialAccessToken())).json()) as Record<string, unknown>;
    expect(keycloakLike.minimal_id_token).to.equal(false);
  });

  it('registers a client that wants its userinfo signed (userinfo_signed_response_alg RS256 or ES256); other algorithms are refused naming the field', async () => {
    const base = { client_name: 'Signed userinfo RP', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://rp.example.com/cb'] };
    for (const alg of ['RS256', 'ES256']) {
      const response = await register({ ...base, userinfo_signed_response_alg: alg }, await initialAccessToken());
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status, JSON.stringify(body)).to.equal(201);
      expect(body.userinfo_signed_response_alg).to.equal(alg);
      expect((await gatehouse.services.clients.get(body.client_id as string))?.metadata.userinfo_signed_response_alg).to.equal(alg);
    }
    for (const alg of ['HS256', 'PS256', 'none']) {
      const response = await register({ ...base, userinfo_signed_response_alg: alg }, await initialAccessToken());
      const body = (await response.json()) as { error: string; error_description: string };
      expect(response.status, alg).to.equal(400);
      expect(body.error).to.equal('invalid_client_metadata');
      expect(body.error_description).to.include('userinfo_signed_response_alg');
    }
    const discovery = (await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.userinfo_signing_alg_values_supported).to.deep.equal(['RS256', 'ES256']);
  });

  for (const [property, value] of [
    ['first_party', true],
    ['admin_client', true],
    ['allowed_apis', ['https://api.example.com']],
    // Keycloak's claims put the user's roles and groups in every token: an operator's choice.
    ['token_claims', 'keycloak'],
    // Whose users' tokens a client may trade for tokens of which API: an operator's trust, never the client's own say.
    ['token_exchange', { apis: ['https://api.example.com'], trusted_clients: ['someone-else'] }],
    ['allow_password_grant', true],
  ] as const) {
    it(`never lets a client register itself with ${property}`, async () => {
      const response = await register({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [], [property]: value }, await initialAccessToken());
      const body = (await response.json()) as { error: string; error_description: string };
      expect(response.status).to.equal(400);
      expect(body.error).to.equal('invalid_client_metadata');
      expect(body.error_description).to.include(property);
    });
  }

  it('never lets a registered client give itself a token exchange policy through its configuration endpoint (RFC 7592 PUT)', async () => {
    const created = (await (await register({ client_name: 'Later', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }, await initialAccessToken())).json()) as Record<string, unknown>;
    // RFC 7592 §2.2: the PUT carries the metadata as read, less the server-managed fields.
    const { registration_client_uri: uri, registration_access_token: token, client_secret_expires_at: _expires, client_id_issued_at: _issued, ...metadata } = created as Record<string, string>;
    const response = await fetch(new URL(new URL(uri!).pathname, gatehouse.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ ...metadata, token_exchange: { apis: ['https://api.example.com'], trusted_clients: ['someone-else'] } }),
    });
    const body = (await response.json()) as { error: string; error_description: string };
    expect(response.status, JSON.stringify(body)).to.equal(400);
    expect(body, JSON.stringify(body)).to.include({ error: 'invalid_client_metadata' });
    expect(body.error_description).to.include('token_exchange');
    expect((await gatehouse.services.clients.get(metadata.client_id!))?.metadata.token_exchange).to.equal(undefined);
  });
  it("deleting itself (RFC 7592 DELETE) removes the users' consents to the client, as an operator's deletion does; others' stay", async () => {
    const base = { grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['https://rp.example.com/cb'] };
    const leaving = (await (await register({ ...base, client_name: 'Leaving' }, await initialAccessToken())).json()) as Record<string, string>;
    const staying = (await (await register({ ...base, client_name: 'Staying' }, await initialAccessToken())).json()) as Record<string, string>;
    const { consents } = gatehouse.services;
    // A user that exists: a consent of a user that does not is removed as it is written (src/accounts/deleted-user-rows.ts).
    const userOfBoth = (await gatehouse.services.accounts.createUser({ username: 'user-of-both' })).id;
    // What the consent page's Allow keeps (src/interactions/steps/consent.ts).
    for (const clientId of [leaving.client_id!, staying.client_id!]) await consents.add(userOfBoth, clientId, { scopes: ['openid', 'profile'], claims: [], resources: {} });

    const deleted = await fetch(new URL(new URL(leaving.registration_client_uri!).pathname, gatehouse.url), { method: 'DELETE', headers: { authorization: `Bearer ${leaving.registration_access_token}` } });
    expect(deleted.status).to.equal(204);
    expect(await gatehouse.services.clients.get(leaving.client_id!)).to.equal(undefined);
    expect(await consents.find(userOfBoth, leaving.client_id!), 'the deleted client: nobody consented to a client made again under its id').to.equal(undefined);
    expect((await consents.find(userOfBoth, staying.client_id!))?.scopes).to.deep.equal(['openid', 'profile']);
  });

  it("deleting itself (RFC 7592 DELETE) revokes the client's grants and tokens at once and is audited, as an operator's deletion is", async () => {
    const cast = await seed(gatehouse);
    const body = { client_name: 'Leaving with tokens', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT_URI] };
    const leaving = (await (await register(body, await initialAccessToken())).json()) as Record<string, string>;
    const app = await relyingParty(gatehouse.url, leaving.client_id!, leaving.client_secret!);
    const request = await authorizationRequest(app, REDIRECT_URI, { scope: 'openid profile' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(app, outcome.callback, request.checks);
    const userinfo = () => fetch(new URL('/me', gatehouse.url), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfo()).status).to.equal(200);
    const grantsOfLeaving = async () => (await gatehouse.services.revocation.listGrants(cast.user.id)).filter((grant) => grant.clientId === leaving.client_id);
    expect(await grantsOfLeaving()).to.have.length(1);

    const deleted = await fetch(new URL(new URL(leaving.registration_client_uri!).pathname, gatehouse.url), { method: 'DELETE', headers: { authorization: `Bearer ${leaving.registration_access_token}` } });
    expect(deleted.status).to.equal(204);
    const refused = await userinfo();
    expect(refused.status).to.equal(401);
    expect(refused.headers.get('www-authenticate')).to.include('invalid_token');
    expect(await grantsOfLeaving(), "the user's grant to the deleted client (the account page lists grants)").to.deep.equal([]);
    const events = await callAdmin(gatehouse.url, adminToken, 'GET', '/audit-events?type=client.deleted');
    const event = (events.body.events as Array<Record<string, any>>).find((candidate) => candidate.target?.id === leaving.client_id);
    expect(event, JSON.stringify(events.body)).to.not.equal(undefined);
    expect(event!.actor).to.deep.include({ type: 'client', id: leaving.client_id });
    expect(event!.details.revoked).to.deep.include({ grants: 1 });
  });
});
