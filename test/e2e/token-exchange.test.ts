import { expect } from 'chai';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { Connection } from 'mongoose';
import type { RunningGatehouse } from '../../src/server.ts';
import { AUDIT_COLLECTION } from '../../src/observability/audit-trail.ts';
import { clientOperations } from '../../src/operations/clients.ts';
import { userOperations } from '../../src/operations/users.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { within } from '../helpers/poll.ts';
import { API, deployment, oauthError, PASSWORD, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

const ORDERS = 'https://orders.example.com';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

describe('token exchange, RFC 8693 (openid-client against a real Gatehouse)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let mongo: Connection;
  /** Signs users in with the password grant: the subject tokens' client. */
  let gateway: oidc.Configuration;
  /** Exchanges the gateway's user tokens for tokens to the orders API. */
  let exchanger: oidc.Configuration;
  let exchangerId: string;
  let gatewayId: string;
  let discoveryBefore: string[];
  // The server's clock (StartOptions.clock) runs this far ahead of the wall clock when a test says so.
  let ahead = 0;
  const grantTypesSupported = async () =>
    ((await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] }).grant_types_supported;

  const signIn = (params: Record<string, string>) => oidc.genericGrantRequest(gateway, 'password', { username: cast.user.username, password: PASSWORD, ...params });
  const exchange = (config: oidc.Configuration, subjectToken: string, params: Record<string, string> = {}) =>
    oidc.genericGrantRequest(config, EXCHANGE, { subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, resource: ORDERS, ...params });
  const introspect = (config: oidc.Configuration, token: string) => oidc.tokenIntrospection(config, token);
  /** Another exchanging client (services layer: its record is written as given, as an old record or a direct write could be). */
  const exchangingClient = async (displayName: string, allowedApis: string[], metadata: Record<string, unknown>, admin = false) => {
    const created = await gatehouse.services.clients.create({
      displayName,
      allowedApis,
      admin,
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', ...metadata },
    });
    return relyingParty(deploy.issuer, created.client.clientId, created.secret);
  };

  before(async () => {
    deploy = await deployment('token_exchange', { clock: { now: () => Date.now() + ahead } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    const { clients, apis } = gatehouse.services;
    discoveryBefore = await grantTypesSupported();
    await apis.create({ identifier: ORDERS, scopes: ['read', 'write'] });
    const gw = await clients.create({
      displayName: 'Gateway',
      firstParty: true,
      allowedApis: [API, `${API}/opaque`],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    gatewayId = gw.client.clientId;
    gateway = await relyingParty(deploy.issuer, gatewayId, gw.secret);
    const ex = await clients.create({
      displayName: 'Orders caller',
      allowedApis: [API, ORDERS, `${API}/opaque`],
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        default_api: API,
        token_exchange: { apis: [ORDERS, API], trusted_clients: [gw.client.clientId] },
      },
    });
    exchangerId = ex.client.clientId;
    exchanger = await relyingParty(deploy.issuer, exchangerId, ex.secret);
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo.close();
    await gatehouse.close();
    await deploy.drop();
  });

  it('exchanges a user JWT for a JWT of another API with the scopes narrowed', async () => {
    const subject = await signIn({ scope: 'read write', resource: API });
    const exchanged = await exchange(exchanger, subject.access_token);
    expect(exchanged.issued_token_type).to.equal(ACCESS_TOKEN);
    const { payload } = await jwtVerify(exchanged.access_token, createRemoteJWKSet(new URL(`${deploy.issuer}/jwks`)), { issuer: deploy.issuer, audience: ORDERS, typ: 'at+jwt' });
    expect(payload).to.include({ sub: cast.user.id, client_id: exchangerId, scope: 'read write' });
    const narrowed = await exchange(exchanger, subject.access_token, { scope: 'read' });
    expect(decodeJwt(narrowed.access_token).scope).to.equal('read');
    expect(decodeJwt(narrowed.access_token).exp).to.be.at.most(decodeJwt(subject.access_token).exp!);
  });

  it('exchanges an opaque user token too', async () => {
    const subject = await signIn({ scope: 'read', resource: `${API}/opaque` });
    expect(subject.access_token).to.not.include('.');
    const exchanged = await exchange(exchanger, subject.access_token, { scope: 'read' });
    expect(decodeJwt(exchanged.access_token)).to.include({ aud: ORDERS, scope: 'read', sub: cast.user.id });
  });

  it('answers requested_token_type jwt with a JWT for a JWT API, and refuses it for an API that takes opaque tokens (never an opaque token instead)', async () => {
    const opaqueExchanger = await gatehouse.services.clients.create({
      displayName: 'Opaque caller',
      allowedApis: [API, `${API}/opaque`],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', default_api: API, token_exchange: { apis: [`${API}/opaque`, API], trusted_clients: [gatewayId] } },
    });
    const caller = await relyingParty(deploy.issuer, opaqueExchanger.client.clientId, opaqueExchanger.secret);
    const subject = await signIn({ scope: 'read', resource: API });
    const jwt = await exchange(caller, subject.access_token, { resource: API, requested_token_type: 'urn:ietf:params:oauth:token-type:jwt' });
    expect(decodeJwt(jwt.access_token)).to.include({ aud: API });
    const refusal = await oauthError(exchange(caller, subject.access_token, { resource: `${API}/opaque`, requested_token_type: 'urn:ietf:params:oauth:token-type:jwt' }));
    expect(refusal.error).to.equal('invalid_request');
    // Without asking for a JWT, the API's own format.
    expect((await exchange(caller, subject.access_token, { resource: `${API}/opaque` })).access_token).to.not.include('.');
  });

  it('adds act from the actor token (delegation)', async () => {
    const subject = await signIn({ scope: 'read', resource: API });
    const actor = await oidc.clientCredentialsGrant(exchanger, { scope: 'read' });
    const exchanged = await exchange(exchanger, subject.access_token, { actor_token: actor.access_token, actor_token_type: ACCESS_TOKEN });
    expect(decodeJwt(exchanged.access_token).act).to.deep.equal({ sub: exchangerId, client_id: exchangerId });
    const answer = await introspect(exchanger, exchanged.access_token);
    expect(answer.active).to.equal(true);
    expect(answer.act).to.deep.equal({ sub: exchangerId, client_id: exchangerId });
  });

  it('refuses widening, other APIs, untrusted issuers, refresh and ID tokens, and revoked subjects', async () => {
    const subject = await signIn({ scope: 'openid read', resource: API });
    const refused = async (promise: Promise<unknown>) => (await oauthError(promise)).error;
    // Widening a token of the same API; an API outside the policy; one outside the client's APIs.
    expect(await refused(exchange(exchanger, subject.access_token, { resource: API, scope: 'read write' }))).to.equal('invalid_scope');
    expect(await refused(exchange(exchanger, subject.access_token, { resource: `${API}/opaque` }))).to.equal('invalid_target');
    expect(await refused(exchange(exchanger, subject.access_token, { resource: 'https://elsewhere.example.com' }))).to.equal('invalid_target');
    expect(await refused(exchange(exchanger, subject.refresh_token!, { subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }))).to.equal('invalid_request');
    expect(await refused(exchange(exchanger, subject.refresh_token!))).to.equal('invalid_grant');
    expect(await refused(exchange(exchanger, subject.id_token!, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }))).to.equal('invalid_request');
    expect(await refused(exchange(exchanger, subject.id_token!))).to.equal('invalid_grant');
    expect(await refused(exchange(exchanger, `${subject.access_token.slice(0, -4)}AAAA`))).to.equal('invalid_grant');
    // A token of a client the policy does not trust (the exchanger's own service token).
    const service = await oidc.clientCredentialsGrant(exchanger, { scope: 'read' });
    expect(await refused(exchange(exchanger, service.access_token))).to.equal('invalid_grant');
    // A client without a policy may not exchange at all.
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    expect(await refused(exchange(web, subject.access_token))).to.be.oneOf(['invalid_request', 'unauthorized_client']);
    // Revoked subject.
    await oidc.tokenRevocation(gateway, subject.access_token);
    expect(await refused(exchange(exchanger, subject.access_token))).to.equal('invalid_grant');
  });

  it('exchanged tokens introspect and revoke, and end with the original grant', async () => {
    const subject = await signIn({ scope: 'read', resource: API });
    const first = await exchange(exchanger, subject.access_token);
    const second = await exchange(exchanger, subject.access_token);
    expect((await introspect(exchanger, first.access_token)).active).to.equal(true);
    await oidc.tokenRevocation(exchanger, first.access_token);
    expect((await introspect(exchanger, first.access_token)).active).to.equal(false);
    expect((await introspect(exchanger, second.access_token)).active).to.equal(true);
    // Revoking the gateway's refresh token revokes its grant: the exchanged token goes with it.
    await oidc.tokenRevocation(gateway, subject.refresh_token!);
    expect((await introspect(gateway, subject.access_token)).active).to.equal(false);
    expect((await introspect(exchanger, second.access_token)).active).to.equal(false);
  });

  it('links the exchange to the original grant in the audit trail', async () => {
    const subject = await signIn({ scope: 'read', resource: API });
    await exchange(exchanger, subject.access_token);
    await gatehouse.audit.flush();
    const event = await mongo.collection(AUDIT_COLLECTION).findOne({ type: 'token.exchanged', 'actor.id': exchangerId }, { sort: { at: -1 } });
    expect(event).to.not.equal(null);
    const details = event!.details as { subjectGrantId: string; grantId: string; api: string };
    expect(details.api).to.equal(ORDERS);
    expect(details.grantId.startsWith(details.subjectGrantId)).to.equal(true);
    // The user consented to nothing here: the exchange's own grant is no consent.granted of theirs.
    const consent = await mongo.collection(AUDIT_COLLECTION).findOne({ type: 'consent.granted', 'target.id': exchangerId });
    expect(consent, 'a consent.granted event for the exchanging client').to.equal(null);
  });

  it('lets operators set the policy (admin API / CLI operations), refusing unknown APIs and public clients by field', async () => {
    const operations = clientOperations(gatehouse.services);
    const ctx = { actor: { type: 'cli' as const, id: 'test' } };
    for (const [body, path] of [
      [{ name: 'Bad API', token_exchange: { apis: ['https://nowhere.example.com'], trusted_clients: [gatewayId] } }, 'token_exchange.apis.0'],
      [{ name: 'Public', type: 'public', redirect_uris: ['https://x.example.com/cb'], token_exchange: { apis: [ORDERS], trusted_clients: [gatewayId] } }, 'token_exchange'],
      // An exchange target must be one of the client's APIs (the grant refuses the others).
      [{ name: 'Beyond its APIs', apis: [API], token_exchange: { apis: [ORDERS], trusted_clients: [gatewayId] } }, 'token_exchange.apis.0'],
    ] as const) {
      const error = await operations.create(ctx, body).then(() => undefined, (e: unknown) => e as { status?: number; details?: Array<{ path: string }> });
      expect(error?.status).to.equal(400);
      expect(error?.details?.[0]?.path).to.equal(path);
    }
    const created = await operations.create(ctx, { name: 'Exchanger 2', apis: [ORDERS], token_exchange: { apis: [ORDERS], trusted_clients: [gatewayId] } });
    // Dropping the target from the client's APIs while the policy names it: refused, by entry.
    const narrowed = await operations.update(ctx, created.client.clientId, { apis: [API] }).then(() => undefined, (e: unknown) => e as { status?: number; details?: Array<{ path: string; code: string }> });
    expect(narrowed?.status).to.equal(400);
    expect(narrowed?.details?.[0]).to.include({ path: 'token_exchange.apis.0', code: 'not_in_apis' });
    const config = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    const subject = await signIn({ scope: 'read', resource: API });
    expect(decodeJwt((await exchange(config, subject.access_token)).access_token).aud).to.equal(ORDERS);
  });

  it('is listed in discovery only once some client has a token exchange policy', async () => {
    expect(discoveryBefore).to.include('client_credentials').and.not.include(EXCHANGE);
    // A "no" is cached for 2 s (discovery is public; each lookup reads every client).
    await within(10_000, async () => (await grantTypesSupported()).includes(EXCHANGE));
  });

  it('refuses an expired subject token, JWT or opaque (server clock moved past its exp)', async () => {
    const jwt = await signIn({ scope: 'read', resource: API });
    const opaque = await signIn({ scope: 'read', resource: `${API}/opaque` });
    const expiry = decodeJwt(jwt.access_token).exp!;
    ahead = (expiry + 5) * 1000 - Date.now();
    try {
      for (const subject of [jwt.access_token, opaque.access_token]) {
        const refused = await oauthError(exchange(exchanger, subject));
        expect(refused).to.include({ error: 'invalid_grant', description: 'subject_token is not an active access token' });
      }
    } finally {
      ahead = 0;
    }
    expect(decodeJwt((await exchange(exchanger, jwt.access_token)).access_token).aud, 'the same token before its exp').to.equal(ORDERS);
  });

  it('refuses the token of a disabled user: while disabled, and for good once an operator disabled them (grants revoked)', async () => {
    const { accounts } = gatehouse.services;
    const notActive = { error: 'invalid_grant', description: 'subject_token is not an active access token' };
    const user = await accounts.createUser({ username: `tx-disabled-${Date.now()}`, password: PASSWORD });
    const subject = await oidc.genericGrantRequest(gateway, 'password', { username: user.username, password: PASSWORD, scope: 'read', resource: API });
    expect((await exchange(exchanger, subject.access_token)).access_token).to.be.a('string');
    // The account flag alone: the exchange looks the user up and finds nobody active.
    await accounts.disable(user.id);
    expect(await oauthError(exchange(exchanger, subject.access_token))).to.include(notActive);
    await accounts.enable(user.id);
    expect((await exchange(exchanger, subject.access_token)).access_token, 'the grant still stands').to.be.a('string');
    // The operator's disable (admin API, CLI) also revokes the user's grants: enabling does not bring the token back.
    const ctx = { actor: { type: 'cli' as const, id: 'test' } };
    await userOperations(gatehouse.services).disable(ctx, user.id);
    expect(await oauthError(exchange(exchanger, subject.access_token))).to.include(notActive);
    await userOperations(gatehouse.services).enable(ctx, user.id);
    expect(await oauthError(exchange(exchanger, subject.access_token))).to.include(notActive);
  });
  it('keeps the admin API to admin clients, as the other grants do (invalid_target, even when the policy names it)', async () => {
    const admin = gatehouse.services.adminAudience;
    const client = await exchangingClient('Would-be admin', [admin, ORDERS], { token_exchange: { apis: [admin, ORDERS], trusted_clients: [gatewayId] } });
    const atClientCredentials = await oauthError(oidc.clientCredentialsGrant(client, { resource: admin }));
    expect(atClientCredentials).to.include({ error: 'invalid_target', description: 'only admin clients may request tokens for the admin API' });
    const subject = await signIn({ scope: 'read', resource: API });
    expect(await oauthError(exchange(client, subject.access_token, { resource: admin }))).to.include({ error: 'invalid_target', description: atClientCredentials.description });
    expect(await oauthError(exchange(client, subject.access_token, { audience: admin, resource: '' }))).to.include({ error: 'invalid_target', description: atClientCredentials.description });
    expect(decodeJwt((await exchange(client, subject.access_token)).access_token).aud, 'its other API').to.equal(ORDERS);
  });

  it("gives an admin client invalid_scope for a non-admin user's token at the admin API, saying why; an admin's token exchanges", async () => {
    const { accounts } = gatehouse.services;
    const admin = gatehouse.services.adminAudience;
    const client = await exchangingClient('Admin exchanger', [admin, ORDERS], { token_exchange: { apis: [admin, ORDERS], trusted_clients: [gatewayId] } }, true);
    const notAdmin = { error: 'invalid_scope', description: "the user does not have the admin role, which the admin API's scope needs" };
    const subject = await signIn({ scope: 'read', resource: API });
    expect(await oauthError(exchange(client, subject.access_token, { resource: admin })), 'without scope').to.include(notAdmin);
    expect(await oauthError(exchange(client, subject.access_token, { resource: admin, scope: 'admin' })), 'asking for admin').to.include(notAdmin);
    const operator = await accounts.createUser({ username: `tx-admin-${Date.now()}`, password: PASSWORD, roles: ['admin'] });
    const adminSubject = await oidc.genericGrantRequest(gateway, 'password', { username: operator.username, password: PASSWORD, scope: 'read', resource: API });
    expect(decodeJwt((await exchange(client, adminSubject.access_token, { resource: admin })).access_token)).to.include({ aud: admin, scope: 'admin', sub: operator.id });
  });

  it('takes subject tokens of this Gatehouse only: a JWT of another issuer, may_act or not, is not an active access token', async () => {
    // may_act (RFC 8693 §4.4) could only come from such a token: Gatehouse's own tokens never carry it.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'partner' };
    const foreign = (issuer: string) =>
      new SignJWT({ client_id: gatewayId, scope: 'read', may_act: { sub: exchangerId } })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
        .setIssuer(issuer)
        .setSubject(cast.user.id)
        .setAudience(API)
        .setJti(`partner-${issuer.length}`)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    const notActive = { error: 'invalid_grant', description: 'subject_token is not an active access token' };
    expect(await oauthError(exchange(exchanger, await foreign('https://partner.example.com'))), 'another issuer').to.include(notActive);
    expect(await oauthError(exchange(exchanger, await foreign(deploy.issuer))), "this issuer's name, another key").to.include(notActive);
  });

  it("applies the client's allowed APIs to the exchange target (invalid_target, as at client_credentials)", async () => {
    const client = await exchangingClient('Policy beyond its APIs', [API], { token_exchange: { apis: [ORDERS], trusted_clients: [gatewayId] } });
    const atClientCredentials = await oauthError(oidc.clientCredentialsGrant(client, { resource: ORDERS }));
    expect(atClientCredentials).to.include({ error: 'invalid_target', description: 'the client is not allowed to request tokens for this resource' });
    const subject = await signIn({ scope: 'read', resource: API });
    expect(await oauthError(exchange(client, subject.access_token))).to.include({ error: 'invalid_target', description: atClientCredentials.description });
    expect(await oauthError(exchange(client, subject.access_token, { resource: '', audience: ORDERS }))).to.include({ error: 'invalid_target', description: atClientCredentials.description });
  });

  it("takes scopes from the target API: another API's scopes never count by name; the same API's narrow", async () => {
    const subject = await signIn({ scope: 'write', resource: API });
    // The subject's `write` is the example API's; `read` at the orders API is the client's policy for that API.
    expect(decodeJwt((await exchange(exchanger, subject.access_token, { scope: 'read' })).access_token)).to.include({ aud: ORDERS, scope: 'read' });
    expect(decodeJwt((await exchange(exchanger, subject.access_token)).access_token)).to.include({ aud: ORDERS, scope: 'read write' });
    // A client limited to `read` at the orders API gets `read` whatever the subject's other API carried.
    const limited = await exchangingClient('Read-only orders caller', [ORDERS], {
      allowed_api_scopes: [{ api: ORDERS, scopes: ['read'] }],
      token_exchange: { apis: [ORDERS], trusted_clients: [gatewayId] },
    });
    expect(decodeJwt((await exchange(limited, subject.access_token)).access_token)).to.include({ aud: ORDERS, scope: 'read' });
    expect(await oauthError(exchange(limited, subject.access_token, { scope: 'write' }))).to.include({
      error: 'invalid_scope',
      description: `the client is not allowed this scope of ${ORDERS}`,
    });
    // A scope the target API does not define, or an OpenID scope, is not the API's.
    expect(await oauthError(exchange(exchanger, subject.access_token, { scope: 'audit' }))).to.include({ error: 'invalid_scope', description: `scope not defined by ${ORDERS}` });
    expect(await oauthError(exchange(exchanger, subject.access_token, { scope: 'openid read' }))).to.include({ error: 'invalid_scope' });
    // The subject's own API: the new token narrows the subject's scopes, never widens them.
    expect(decodeJwt((await exchange(exchanger, subject.access_token, { resource: API })).access_token)).to.include({ aud: API, scope: 'write' });
    expect(await oauthError(exchange(exchanger, subject.access_token, { resource: API, scope: 'read' }))).to.include({
      error: 'invalid_scope',
      description: "token exchange cannot widen the subject token's scope",
    });
  });

  it('refuses actor_token_type without actor_token, and an actor token of another client (delegation, RFC 8693 §2.1, §4.1)', async () => {
    const subject = await signIn({ scope: 'read', resource: API });
    expect(await oauthError(exchange(exchanger, subject.access_token, { actor_token_type: ACCESS_TOKEN }))).to.include({
      error: 'invalid_request',
      description: 'actor_token_type is only allowed with actor_token',
    });
    const web = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
    const someoneElse = await oidc.clientCredentialsGrant(web, { scope: 'read' });
    expect(await oauthError(exchange(exchanger, subject.access_token, { actor_token: someoneElse.access_token, actor_token_type: ACCESS_TOKEN }))).to.include({
      error: 'invalid_grant',
      description: 'actor_token must be issued to the client making the exchange',
    });
  });

  it("refuses a user actor token of a disabled user or a revoked grant, as it does such a subject", async () => {
    const { accounts } = gatehouse.services;
    const notActive = { error: 'invalid_grant', description: 'actor_token is not an active access token' };
    const subject = await signIn({ scope: 'read', resource: API });
    // A user token issued to the exchanger: its own exchange of another user's token.
    const acting = await accounts.createUser({ username: `tx-actor-${Date.now()}`, password: PASSWORD });
    const actingSignIn = await oidc.genericGrantRequest(gateway, 'password', { username: acting.username, password: PASSWORD, scope: 'read', resource: API });
    const actor = (await exchange(exchanger, actingSignIn.access_token)).access_token;
    const withActor = { actor_token: actor, actor_token_type: ACCESS_TOKEN };
    expect(decodeJwt((await exchange(exchanger, subject.access_token, withActor)).access_token).act).to.deep.equal({ sub: acting.id, client_id: exchangerId });
    // The account flag alone: the actor is looked up like the subject and nobody active is found.
    await accounts.disable(acting.id);
    expect(await oauthError(exchange(exchanger, subject.access_token, withActor)), 'disabled actor').to.include(notActive);
    await accounts.enable(acting.id);
    expect(decodeJwt((await exchange(exchanger, subject.access_token, withActor)).access_token).act, 'enabled again').to.deep.include({ sub: acting.id });
    // The grant the actor token was exchanged from, revoked (the user's refresh token at the gateway).
    await oidc.tokenRevocation(gateway, actingSignIn.refresh_token!);
    expect(await oauthError(exchange(exchanger, subject.access_token, withActor)), "the actor's original grant revoked").to.include(notActive);
  });

  it("exchanges a DPoP-bound subject only with a proof of its key, and binds the new token to the request's DPoP key", async () => {
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    const signedIn = await signIn({ scope: 'read', resource: API });
    const bound = await oidc.refreshTokenGrant(gateway, signedIn.refresh_token!, { resource: API }, { DPoP: oidc.getDPoPHandle(gateway, keyPair) });
    expect(bound.token_type.toLowerCase()).to.equal('dpop');
    const params = { subject_token: bound.access_token, subject_token_type: ACCESS_TOKEN, resource: ORDERS };
    const notProven = { error: 'invalid_grant', description: 'subject_token is bound to a DPoP key: the request must carry a DPoP proof made with that key' };
    expect(await oauthError(exchange(exchanger, bound.access_token)), 'no proof').to.include(notProven);
    const otherKey = oidc.getDPoPHandle(exchanger, await oidc.randomDPoPKeyPair('ES256'));
    expect(await oauthError(oidc.genericGrantRequest(exchanger, EXCHANGE, params, { DPoP: otherKey })), 'a proof with another key').to.include(notProven);

    const exchanged = await oidc.genericGrantRequest(exchanger, EXCHANGE, params, { DPoP: oidc.getDPoPHandle(exchanger, keyPair) });
    expect(exchanged.token_type.toLowerCase()).to.equal('dpop');
    expect(decodeJwt(exchanged.access_token)).to.deep.include({ aud: ORDERS, cnf: { jkt } });
    // A bearer subject exchanged with a proof: the new token is bound to the proof's key.
    const bearer = await signIn({ scope: 'read', resource: API });
    const boundNow = await oidc.genericGrantRequest(exchanger, EXCHANGE, { ...params, subject_token: bearer.access_token }, { DPoP: oidc.getDPoPHandle(exchanger, keyPair) });
    expect(boundNow.token_type.toLowerCase()).to.equal('dpop');
    expect(decodeJwt(boundNow.access_token).cnf).to.deep.equal({ jkt });
    // A DPoP-bound actor token (the exchanger's own, got with a proof) needs its proof as well.
    const actor = await oidc.clientCredentialsGrant(exchanger, { scope: 'read' }, { DPoP: oidc.getDPoPHandle(exchanger, await oidc.randomDPoPKeyPair('ES256')) });
    expect(await oauthError(exchange(exchanger, bearer.access_token, { actor_token: actor.access_token, actor_token_type: ACCESS_TOKEN }))).to.include({
      error: 'invalid_grant',
      description: 'actor_token is bound to a DPoP key: the request must carry a DPoP proof made with that key',
    });
    // Without a proof it stays a bearer token, as at the other grants.
    expect(decodeJwt((await exchange(exchanger, bearer.access_token)).access_token).cnf).to.equal(undefined);
    await gatehouse.audit.flush();
    const event = await mongo.collection(AUDIT_COLLECTION).findOne({ type: 'token.exchanged', 'actor.id': exchangerId, 'details.dpop': true });
    expect(event, 'the audit event says the token is DPoP-bound').to.not.equal(null);
  });
});
