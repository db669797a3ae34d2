import { expect } from 'chai';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { Connection } from 'mongoose';
import type { RunningGatehouse } from '../../src/server.ts';
import { AUDIT_COLLECTION } from '../../src/observability/audit-trail.ts';
import { clientOperations } from '../../src/operations/clients.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { enrolmentKeeper } from '../../src/mfa/enrolment.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { within } from '../helpers/poll.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { API, deployment, oauthError, PASSWORD, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

describe('password grant (openid-client against a real Gatehouse)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let mongo: Connection;
  let gateway: oidc.Configuration;
  let gatewayClient: { clientId: string; secret: string };
  // The second-factor service's clock: TOTP codes computed here match what it expects.
  const mfaNow = new Date('2026-03-01T10:00:10Z');
  /** Gatehouse's clock (StartOptions.clock): the wall clock, or standing still where a test sets it. */
  let fixedNow: number | undefined;

  let discoveryBefore: string[];
  const grantTypesSupported = async () =>
    ((await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] }).grant_types_supported;
  const passwordGrant = (config: oidc.Configuration, params: Record<string, string>) => oidc.genericGrantRequest(config, 'password', params);

  /** The raw token endpoint answer, for status and headers openid-client does not surface. */
  async function rawToken(client: { clientId: string; secret: string }, params: Record<string, string>): Promise<Response> {
    return fetch(`${deploy.issuer}/token`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(client.clientId, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', ...params }),
    });
  }

  before(async () => {
    deploy = await deployment('password_grant', { settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', GATEHOUSE_MFA_REQUIRED_GROUPS: 'ops' }, secondFactorClock: () => mfaNow, clock: { now: () => fixedNow ?? Date.now() } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    discoveryBefore = await grantTypesSupported();
    const created = await gatehouse.services.clients.create({
      displayName: 'API gateway',
      firstParty: true,
      allowedApis: [API],
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: ['refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        allow_password_grant: true,
      },
    });
    gatewayClient = { clientId: created.client.clientId, secret: created.secret! };
    gateway = await relyingParty(deploy.issuer, gatewayClient.clientId, gatewayClient.secret);
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo.close();
    await gatehouse.close();
    await deploy.drop();
  });

  it("takes auth_time from Gatehouse's clock (src/clock.ts); a client with require_auth_time gets it in every ID token, refreshed ones too", async () => {
    const created = await gatehouse.services.clients.create({
      displayName: 'Needs auth_time',
      firstParty: true,
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true, require_auth_time: true },
    });
    const needsAuthTime = await relyingParty(deploy.issuer, created.client.clientId, created.secret!);
    // Ten minutes ahead of the wall clock, standing still: nothing issued here has expired by it.
    const signedInAt = Math.floor(Date.now() / 1000) + 600;
    fixedNow = signedInAt * 1000;
    try {
      const tokens = await passwordGrant(needsAuthTime, { username: cast.user.username, password: PASSWORD, scope: 'openid' });
      expect(decodeJwt(tokens.id_token!).auth_time).to.equal(signedInAt);
      fixedNow += 60_000;
      const refreshed = await oidc.refreshTokenGrant(needsAuthTime, tokens.refresh_token!);
      expect(decodeJwt(refreshed.id_token!).auth_time).to.equal(signedInAt);
      // Without require_auth_time the ID token carries none, as the library's own flows issue it.
      expect(decodeJwt((await passwordGrant(gateway, { username: cast.user.username, password: PASSWORD, scope: 'openid' })).id_token!).auth_time).to.equal(undefined);
    } finally {
      fixedNow = undefined;
    }
  });

  it('signs a user in: ID token with amr ["pwd"], an opaque token for userinfo, and a refresh token that refreshes', async () => {
    const tokens = await passwordGrant(gateway, { username: cast.user.username, password: PASSWORD, scope: 'openid profile' });
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken).to.include({ sub: cast.user.id, aud: gatewayClient.clientId, acr: 'password', name: 'Alice Liddell' });
    expect(idToken.amr).to.deep.equal(['pwd']);
    expect(tokens.scope).to.equal('openid profile');
    const userinfo = await oidc.fetchUserInfo(gateway, tokens.access_token, cast.user.id);
    expect(userinfo.preferred_username).to.equal(cast.user.username);

    const refreshed = await oidc.refreshTokenGrant(gateway, tokens.refresh_token!);
    expect(refreshed.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    expect(decodeJwt(refreshed.id_token!).amr).to.deep.equal(['pwd']);
  });

  it('issues an RFC 9068 JWT for an API the client may use, with the roles claim', async () => {
    const tokens = await passwordGrant(gateway, { username: cast.user.username, password: PASSWORD, scope: 'read', resource: API });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${deploy.issuer}/jwks`)), { issuer: deploy.issuer, audience: API, typ: 'at+jwt' });
    expect(payload).to.include({ sub: cast.user.id, client_id: gatewayClient.clientId, scope: 'read' });
    expect(payload.roles).to.deep.equal(['editor']);
    expect((await oauthError(passwordGrant(gateway, { username: cast.user.username, password: PASSWORD, scope: 'delete', resource: API }))).error).to.equal('invalid_scope');
    expect((await oauthError(passwordGrant(gateway, { username: cast.user.username, password: PASSWORD, resource: 'https://unknown.example.com' }))).error).to.equal('invalid_target');
  });

  it('binds the tokens to a DPoP key when the request carries a proof (RFC 9449), as the code flow does', async () => {
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    const dpop = oidc.getDPoPHandle(gateway, keyPair);
    const credentials = { username: cast.user.username, password: PASSWORD };
    const tokens = await oidc.genericGrantRequest(gateway, 'password', { ...credentials, scope: 'openid profile' }, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).to.equal('dpop');
    // Userinfo takes the bound token only with a proof of its key.
    expect((await oidc.fetchUserInfo(gateway, tokens.access_token, cast.user.id, { DPoP: dpop })).sub).to.equal(cast.user.id);
    expect((await oauthError(oidc.fetchUserInfo(gateway, tokens.access_token, cast.user.id))).error, 'as a bearer token').to.equal('invalid_token');
    const otherKey = oidc.getDPoPHandle(gateway, await oidc.randomDPoPKeyPair('ES256'));
    expect((await oauthError(oidc.fetchUserInfo(gateway, tokens.access_token, cast.user.id, { DPoP: otherKey }))).error, 'with another key').to.equal('invalid_token');
    // A JWT for an API carries the key's thumbprint.
    const forApi = await oidc.genericGrantRequest(gateway, 'password', { ...credentials, scope: 'read', resource: API }, { DPoP: dpop });
    expect(forApi.token_type.toLowerCase()).to.equal('dpop');
    expect(decodeJwt(forApi.access_token).cnf).to.deep.equal({ jkt });
    // Refreshing with a proof keeps the binding (the library's refresh grant).
    const refreshed = await oidc.refreshTokenGrant(gateway, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type.toLowerCase()).to.equal('dpop');
    // Without a proof: a bearer token, as at the other grants.
    expect((await passwordGrant(gateway, { ...credentials, scope: 'openid' })).token_type.toLowerCase()).to.equal('bearer');
  });

  it('refuses a malformed DPoP proof (invalid_dpop_proof) and a replayed one (invalid_grant), as the code flow does', async () => {
    const malformed = await fetch(`${deploy.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: clientSecretBasic(gatewayClient.clientId, gatewayClient.secret),
        'content-type': 'application/x-www-form-urlencoded',
        dpop: 'not.a.proof',
      },
      body: new URLSearchParams({ grant_type: 'password', username: cast.user.username, password: PASSWORD, scope: 'openid' }),
    });
    expect(malformed.status).to.equal(400);
    expect(((await malformed.json()) as { error: string }).error).to.equal('invalid_dpop_proof');

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const proof = await new SignJWT({ htm: 'POST', htu: `${deploy.issuer}/token`, jti: `replay-${Date.now()}` })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
      .setIssuedAt()
      .sign(privateKey);
    const send = () =>
      fetch(`${deploy.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: clientSecretBasic(gatewayClient.clientId, gatewayClient.secret),
          'content-type': 'application/x-www-form-urlencoded',
          dpop: proof,
        },
        body: new URLSearchParams({ grant_type: 'password', username: cast.user.username, password: PASSWORD, scope: 'openid' }),
      });
    const first = await send();
    expect(first.status).to.equal(200);
    expect(((await first.json()) as { token_type: string }).token_type).to.equal('DPoP');
    const replayed = await send();
    expect(replayed.status).to.equal(400);
    expect(await replayed.json()).to.include({ error: 'invalid_grant', error_description: 'DPoP proof JWT Replay detected' });
  });

  it('requires a DPoP proof from a client registered with dpop_bound_access_tokens', async () => {
    const created = await gatehouse.services.clients.create({
      displayName: 'DPoP gateway',
      firstParty: true,
      allowedApis: [API],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true, dpop_bound_access_tokens: true },
    });
    const config = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    const credentials = { username: cast.user.username, password: PASSWORD, scope: 'openid' };
    expect(await oauthError(passwordGrant(config, credentials))).to.include({ error: 'invalid_grant', description: 'DPoP proof JWT not provided' });
    const bound = await oidc.genericGrantRequest(config, 'password', credentials, { DPoP: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256')) });
    expect(bound.token_type.toLowerCase()).to.equal('dpop');
  });

  it('gives the same invalid_grant for a wrong password, an unknown user, a disabled user and a locked account', async () => {
    const victim = await gatehouse.services.accounts.createUser({ username: 'pg-victim', password: PASSWORD });
    const disabled = await gatehouse.services.accounts.createUser({ username: 'pg-disabled', password: PASSWORD });
    await gatehouse.services.accounts.disable(disabled.id);
    const answers: unknown[] = [];
    for (const params of [
      { username: 'pg-victim', password: 'wrong password!' },
      { username: 'nobody-here', password: PASSWORD },
      { username: 'pg-disabled', password: PASSWORD },
    ]) {
      const response = await rawToken(gatewayClient, params);
      expect(response.status).to.equal(400);
      answers.push(await response.json());
    }
    // Five failures from one IP lock the (account, IP) pair; then even the right password fails alike.
    for (let i = 0; i < 5; i += 1) await rawToken(gatewayClient, { username: 'pg-victim', password: 'wrong password!' });
    const locked = await rawToken(gatewayClient, { username: 'pg-victim', password: PASSWORD });
    expect(locked.status).to.equal(400);
    answers.push(await locked.json());
    for (const answer of answers) expect(answer).to.deep.equal(answers[0]);
    expect(answers[0]).to.include({ error: 'invalid_grant' });
    await gatehouse.services.accounts.unlock(victim.id);
  });

  it('signs in a service account whose backend sends 12 password grants at once: all get tokens, nothing is locked', async () => {
    const service = await gatehouse.services.accounts.createUser({ username: `svc${Date.now().toString(36)}`, password: PASSWORD, email: `svc${Date.now().toString(36)}@example.com` });
    const grants = await Promise.all(Array.from({ length: 12 }, () => rawToken(gatewayClient, { username: service.username, password: PASSWORD, scope: 'openid' })));
    expect(grants.map((response) => response.status)).to.deep.equal(grants.map(() => 200));
    expect((await gatehouse.services.accounts.listLockouts()).filter((lock) => lock.subject === service.id)).to.deep.equal([]);
  });

  it('refuses missing credentials with invalid_request naming the parameter', async () => {
    const response = await rawToken(gatewayClient, { username: cast.user.username });
    expect(response.status).to.equal(400);
    expect(await response.json()).to.deep.equal({ error: 'invalid_request', error_description: "missing required parameter 'password'" });
  });

  it('is off for clients that did not opt in', async () => {
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const refused = await oauthError(passwordGrant(web, { username: cast.user.username, password: PASSWORD }));
    expect(refused.error).to.equal('unauthorized_client');
    expect(refused.description).to.equal('requested grant type is not allowed for this client');
  });

  it('marks the audit events with the grant type', async () => {
    await passwordGrant(gateway, { username: cast.user.username, password: PASSWORD, scope: 'openid' });
    await gatehouse.audit.flush();
    const events = mongo.collection(AUDIT_COLLECTION);
    const signin = await events.findOne({ type: 'signin.success', 'actor.id': cast.user.id, 'details.grantType': 'password' });
    expect(signin, 'signin.success marked password').to.not.equal(null);
    const failure = await events.findOne({ type: 'signin.failure', 'details.grantType': 'password' });
    expect(failure, 'signin.failure marked password').to.not.equal(null);
    const issued = await events.findOne({ type: 'token.issued', 'actor.id': gatewayClient.clientId, 'details.grantType': 'password' });
    expect(issued, 'token.issued marked password').to.not.equal(null);
  });

  it('lets operators enable it only for confidential first-party clients (400 naming the field)', async () => {
    const operations = clientOperations(gatehouse.services);
    const ctx = { actor: { type: 'cli' as const, id: 'test' } };
    for (const body of [
      { name: 'Public', type: 'public', redirect_uris: ['https://x.example.com/cb'], first_party: true, allow_password_grant: true },
      { name: 'Third party', type: 'confidential', first_party: false, allow_password_grant: true },
    ]) {
      try {
        await operations.create(ctx, body);
        expect.fail('expected a refusal');
      } catch (error) {
        expect((error as { status?: number }).status).to.equal(400);
        expect((error as { details?: Array<{ path: string }> }).details?.[0]?.path).to.equal('allow_password_grant');
      }
    }
    const created = await operations.create(ctx, { name: 'Gateway 2', type: 'confidential', first_party: true, allow_password_grant: true });
    const config = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    const tokens = await passwordGrant(config, { username: cast.user.username, password: PASSWORD, scope: 'openid' });
    expect(tokens.id_token).to.be.a('string');
  });

  it('turned off for a client: no new password grants; the refresh tokens it issued keep working (as Keycloak\'s direct access grants), until revoked', async () => {
    const operations = clientOperations(gatehouse.services);
    const ctx = { actor: { type: 'cli' as const, id: 'test' } };
    const created = await operations.create(ctx, { name: 'Gateway 3', type: 'confidential', first_party: true, allow_password_grant: true, grant_types: ['refresh_token'] });
    const config = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    const tokens = await passwordGrant(config, { username: cast.user.username, password: PASSWORD, scope: 'openid' });
    await operations.update(ctx, created.client.clientId, { allow_password_grant: false });
    const refused = await rawToken({ clientId: created.client.clientId, secret: created.secret! }, { username: cast.user.username, password: PASSWORD, scope: 'openid' });
    expect(refused.status).to.equal(400);
    const refusal = (await refused.json()) as { error: string; error_description: string };
    // RFC 6749 §5.2's answer for a grant type the client does not have (src/oidc/unauthorized-client.ts).
    expect(refusal).to.deep.equal({ error: 'unauthorized_client', error_description: 'requested grant type is not allowed for this client' });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).to.be.a('string');
  });

  it('is listed in discovery only once some client may use it', async () => {
    expect(discoveryBefore).to.include('client_credentials').and.not.include('password');
    // A "no" is cached for 2 s (discovery is public; each lookup reads every client).
    await within(30_000, async () => (await grantTypesSupported()).includes('password'));
  });

  describe('users who must use a second factor', () => {
    const SECOND_FACTOR = 'this user must sign in with a second factor, which the password grant cannot ask for: use the authorization code flow';
    const refusal = async (client: { clientId: string; secret: string }, username: string) => {
      const response = await rawToken(client, { username, password: PASSWORD, scope: 'openid' });
      expect(response.status).to.equal(400);
      return response.json();
    };

    it('refuses a user with an authenticator app enrolled (invalid_grant saying why), and records it', async () => {
      const { accounts, factors, passkeys } = gatehouse.services;
      const user = await accounts.createUser({ username: 'pg-totp', password: PASSWORD });
      expect((await rawToken(gatewayClient, { username: 'pg-totp', password: PASSWORD })).status, 'before enrolment').to.equal(200);
      const secret = (await factors.beginTotp(user.id)).secret;
      expect((await factors.confirmTotp(user.id, totpCode(secret, mfaNow), '127.0.0.1')).ok).to.equal(true);
      await enrolmentKeeper({ factors, passkeys, accounts })(user.id);

      expect(await refusal(gatewayClient, 'pg-totp')).to.deep.equal({ error: 'invalid_grant', error_description: SECOND_FACTOR });
      await gatehouse.audit.flush();
      const event = await mongo.collection(AUDIT_COLLECTION).findOne({ type: 'signin.failure', 'actor.id': user.id, 'details.reason': 'second_factor_required' });
      expect(event, 'signin.failure with reason second_factor_required').to.not.equal(null);
      expect(event!.details).to.deep.equal({ reason: 'second_factor_required', grantType: 'password' });
      expect(event!.client).to.equal(gatewayClient.clientId);
    });

    it('refuses users whose role or group requires one (GATEHOUSE_MFA_REQUIRED_ROLES / _GROUPS)', async () => {
      await gatehouse.services.accounts.createUser({ username: 'pg-finance', password: PASSWORD, roles: ['finance'] });
      await gatehouse.services.accounts.createUser({ username: 'pg-ops', password: PASSWORD, groups: ['ops'] });
      expect(await refusal(gatewayClient, 'pg-finance')).to.deep.equal({ error: 'invalid_grant', error_description: SECOND_FACTOR });
      expect(await refusal(gatewayClient, 'pg-ops')).to.deep.equal({ error: 'invalid_grant', error_description: SECOND_FACTOR });
    });

    it('refuses everyone at a client with require_mfa', async () => {
      const created = await gatehouse.services.clients.create({
        displayName: 'Strict gateway',
        firstParty: true,
        metadata: { redirect_uris: [], response_types: [], grant_types: [], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true, require_mfa: true },
      });
      const strict = { clientId: created.client.clientId, secret: created.secret! };
      expect(await refusal(strict, cast.user.username)).to.deep.equal({ error: 'invalid_grant', error_description: SECOND_FACTOR });
      expect((await rawToken(gatewayClient, { username: cast.user.username, password: PASSWORD })).status, 'the same user elsewhere').to.equal(200);
    });

    it('still answers a wrong password for such a user with the usual refusal (the second-factor answer needs the right password)', async () => {
      const wrong = await rawToken(gatewayClient, { username: 'pg-finance', password: 'wrong password!' });
      expect(wrong.status).to.equal(400);
      expect(await wrong.json()).to.deep.equal({
        error: 'invalid_grant',
        error_description: 'invalid username or password',
      });
    });
  });
});

describe('password grant and GATEHOUSE_REQUIRE_VERIFIED_EMAIL (a real SMTP server, so confirmation mail can go out)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let mongo: Connection;
  let gateway: { clientId: string; secret: string };
  const token = (username: string, password = PASSWORD) =>
    fetch(`${deploy.issuer}/token`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(gateway.clientId, gateway.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username, password, scope: 'openid' }),
    });

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('password_grant_verified', {
      settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'no-reply@example.com', GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'self-registered' },
    });
    gatehouse = await deploy.start();
    const created = await gatehouse.services.clients.create({
      displayName: 'API gateway',
      firstParty: true,
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    gateway = { clientId: created.client.clientId, secret: created.secret! };
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo?.close();
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('refuses a user the rule covers with invalid_grant saying why, audited; a wrong password still gets the usual answer', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'pg-unconfirmed', password: PASSWORD, email: 'unconfirmed@example.com', emailVerified: false, selfRegistered: true });
    const refused = await token('pg-unconfirmed');
    expect(refused.status).to.equal(400);
    const body = (await refused.json()) as { error: string; error_description: string };
    expect(body.error).to.equal('invalid_grant');
    expect(body.error_description).to.match(/confirm.*email/i);
    expect(await (await token('pg-unconfirmed', 'wrong password!')).json()).to.deep.equal({ error: 'invalid_grant', error_description: 'invalid username or password' });
    await gatehouse.audit.flush();
    const event = await mongo.collection(AUDIT_COLLECTION).findOne({ type: 'signin.failure', 'actor.id': user.id, 'details.reason': 'email_unverified' });
    expect(event, 'signin.failure with reason email_unverified').to.not.equal(null);
    expect(event!.details).to.include({ grantType: 'password' });
    // Once the address is confirmed, the same request succeeds.
    await gatehouse.services.accounts.verifyEmail(user.id, 'unconfirmed@example.com');
    expect((await token('pg-unconfirmed')).status).to.equal(200);
  });

  it('lets through users the rule does not cover (self-registered: an operator-created user with an unconfirmed address)', async () => {
    await gatehouse.services.accounts.createUser({ username: 'pg-imported', password: PASSWORD, email: 'imported@example.com', emailVerified: false });
    expect((await token('pg-imported')).status).to.equal(200);
  });
});
