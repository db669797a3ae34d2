import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): a mapper's *claim* name (not the attribute it reads, probe-claim-mapper-prototype)
 * named after a member every object has — `constructor`, `toString`, `hasOwnProperty`, `valueOf` —
 * at the top of the token or inside a nested name (`meta.constructor`, `constructor.prototype`).
 * A name the rule takes must reach the tokens like any other: never a 500, never silently lost,
 * never an inherited function. A top-level `constructor` was taken and made the token endpoint
 * answer 500 for every user with the attribute (oidc-provider tells plain objects by their
 * `constructor`): now refused when the scope is saved, and left out when stored before.
 */
describe('probe: claim names that are Object.prototype members, at the top and nested', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const PROTO_NAMES = ['toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable'];

  before(async () => {
    deploy = await deployment('probe_claimproto');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function tokensFor(username: string, scope: string) {
    const client = await call('POST', '/clients', { name: 'Proto claims app', redirect_uris: [REDIRECT_URI], scope, first_party: true });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    const clientId = client.body.client_id as string;
    const secret = client.body.client_secret as string;
    const config = await relyingParty(deploy.issuer, clientId, secret);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    const introspection = await fetch(`${gatehouse.url}/token/introspection`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    });
    expect(introspection.status).to.equal(200);
    const introspected = (await introspection.json()) as Record<string, unknown>;
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    return { id: decodeJwt(tokens.id_token!) as Record<string, unknown>, userinfo: userinfo as Record<string, unknown>, introspected };
  }

  it('a claim whose top level is constructor (alone or with levels under it) is refused: 400 naming the mapper\'s claim', async () => {
    for (const claim of ['constructor', 'constructor.unit']) {
      const refused = await call('POST', '/claim-scopes', { name: 'ctorscope', mappers: [{ type: 'user_attribute', attribute: 'pa', claim }] });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(400);
      expect(JSON.stringify(refused.body)).to.include('claim');
    }
    const hardcoded = await call('POST', '/claim-scopes', { name: 'ctorscope', mappers: [{ type: 'hardcoded', claim: 'constructor', value: 'x' }] });
    expect(hardcoded.status, JSON.stringify(hardcoded.body)).to.equal(400);
  });

  it('a scope stored with a top-level constructor claim before it was refused: tokens are issued without it (no 500)', async () => {
    const created = await call('POST', '/claim-scopes', { name: 'oldctor', mappers: [{ type: 'user_attribute', attribute: 'pa', claim: 'ctorsoon' }, { type: 'user_attribute', attribute: 'pb', claim: 'kept' }] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const connection = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const updated = await connection.collection('claim_scopes').updateOne({ _id: 'oldctor' as never }, { $set: { 'mappers.0.claim': 'constructor' } });
      expect(updated.modifiedCount).to.equal(1);
    } finally {
      await connection.close();
    }
    // A fresh start reads the scope as stored.
    await gatehouse.close();
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse, 'ops2')).token();
    const user = await call('POST', '/users', { username: 'oldctor', password: PASSWORD, attributes: { pa: 'c', pb: 'k' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    const { id, userinfo, introspected } = await tokensFor('oldctor', 'openid oldctor');
    for (const [where, claims] of Object.entries({ id, userinfo, introspected })) {
      expect(claims.kept, where).to.equal('k');
      expect(Object.hasOwn(claims, 'constructor'), where).to.equal(false);
    }
  });

  it('top-level claims named toString, hasOwnProperty, valueOf, isPrototypeOf reach the ID token, userinfo and introspection', async () => {
    const created = await call('POST', '/claim-scopes', {
      name: 'protoclaims',
      mappers: PROTO_NAMES.map((name, index) => ({ type: 'user_attribute', attribute: `pa${index}`, claim: name })),
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const attributes = Object.fromEntries(PROTO_NAMES.map((name, index) => [`pa${index}`, `value-of-${name}`]));
    const user = await call('POST', '/users', { username: 'protoclaims', password: PASSWORD, attributes });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);

    const { id, userinfo, introspected } = await tokensFor('protoclaims', 'openid protoclaims');
    for (const [where, claims] of Object.entries({ id, userinfo, introspected })) {
      for (const name of PROTO_NAMES) {
        expect(Object.hasOwn(claims, name) ? claims[name] : undefined, `${where}.${name}`).to.equal(`value-of-${name}`);
      }
    }
  });

  it('nested names through such members (meta.constructor, constructor.prototype.x) are objects of their own in every token', async () => {
    const created = await call('POST', '/claim-scopes', {
      name: 'protonested',
      mappers: [
        { type: 'user_attribute', attribute: 'nest1', claim: 'meta.constructor' },
        { type: 'user_attribute', attribute: 'nest2', claim: 'ctorlike.constructor.prototype.x' },
        { type: 'hardcoded', claim: 'meta.toString', value: 'fixed' },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const user = await call('POST', '/users', { username: 'protonested', password: PASSWORD, attributes: { nest1: 'one', nest2: 'two' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);

    const { id, userinfo, introspected } = await tokensFor('protonested', 'openid protonested');
    for (const [where, claims] of Object.entries({ id, userinfo, introspected })) {
      expect(claims.meta, where).to.deep.equal({ constructor: 'one', toString: 'fixed' });
      expect(claims.ctorlike, where).to.deep.equal({ constructor: { prototype: { x: 'two' } } });
    }
    // Nothing leaked onto the objects every other object inherits from.
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });
});
