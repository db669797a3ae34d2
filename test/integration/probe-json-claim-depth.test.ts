import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): a `json_type: json` mapper gives a user attribute's JSON text as the claim — an
 * attribute value is up to 1,024 characters, enough for 500 levels of nested lists or 160 of
 * objects. MongoDB-wire servers refuse documents nested over 100 levels; tokens kept there (no
 * Redis) or in Redis, their JWTs and introspection answers must still be issued: the deep value
 * in the tokens or left out, never a 500 for the user's sign-in.
 */
for (const redis of [false, true]) {
  describe(`probe: a json-typed claim nested hundreds of levels deep (${redis ? 'Redis' : 'no Redis: tokens in FerretDB'})`, function () {
    this.timeout(90_000);
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let token: string;
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

    before(async () => {
      deploy = await deployment(`probe_jsondepth_${redis ? 'r' : 'm'}`, { redis });
      gatehouse = await deploy.start();
      token = await (await adminClient(gatehouse)).token();
    });
    after(async () => {
      await gatehouse.close();
      await deploy.drop();
    });

    it('the code flow, userinfo, introspection and a refresh answer; each shows the value whole or leaves it out', async () => {
      const lists = `${'['.repeat(500)}${']'.repeat(500)}`;
      const objects = `${'{"a":'.repeat(160)}1${'}'.repeat(160)}`;
      const scope = await call('POST', '/claim-scopes', {
        name: 'deepjson',
        mappers: [
          { type: 'user_attribute', attribute: 'lists', claim: 'deep_lists', json_type: 'json' },
          { type: 'user_attribute', attribute: 'objects', claim: 'deep.objects', json_type: 'json' },
          { type: 'user_attribute', attribute: 'plain', claim: 'plain' },
        ],
      });
      expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
      const user = await call('POST', '/users', { username: 'deepjson', password: PASSWORD, attributes: { lists, objects, plain: 'p' } });
      expect(user.status, JSON.stringify(user.body)).to.equal(201);
      const client = await call('POST', '/clients', { name: 'Deep app', redirect_uris: [REDIRECT_URI], scope: 'openid offline_access deepjson', first_party: true, grant_types: ['authorization_code', 'refresh_token'] });
      expect(client.status, JSON.stringify(client.body)).to.equal(201);
      const clientId = client.body.client_id as string;
      const secret = client.body.client_secret as string;
      const config = await relyingParty(deploy.issuer, clientId, secret);
      const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid offline_access deepjson', prompt: 'consent' });
      const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username: 'deepjson', password: PASSWORD });
      const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
      const shows = (claims: Record<string, unknown>, where: string, whole = false) => {
        expect(claims.plain, where).to.equal('p');
        // The ID token and userinfo are never stored: they carry the value whole.
        if (whole) expect(claims, where).to.include.keys('deep_lists', 'deep');
        if (claims.deep_lists !== undefined) expect(JSON.stringify(claims.deep_lists), where).to.equal(lists);
        if (claims.deep !== undefined) expect(JSON.stringify((claims.deep as Record<string, unknown>).objects), where).to.equal(objects);
      };
      shows(decodeJwt(tokens.id_token!) as Record<string, unknown>, 'id_token', true);
      shows((await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck)) as Record<string, unknown>, 'userinfo', true);
      const introspection = await fetch(`${gatehouse.url}/token/introspection`, {
        method: 'POST',
        headers: { authorization: clientSecretBasic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token }).toString(),
      });
      expect(introspection.status).to.equal(200);
      const introspected = (await introspection.json()) as Record<string, unknown>;
      expect(introspected.active).to.equal(true);
      shows(introspected, 'introspection');
      expect(tokens.refresh_token).to.be.a('string');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      shows(decodeJwt(refreshed.id_token!) as Record<string, unknown>, 'refreshed id_token');
    });
  });
}
