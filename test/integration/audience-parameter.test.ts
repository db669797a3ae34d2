import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, basicAuthTokenRequest, PASSWORD, REDIRECT_URI, seededInstanceForSuite } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const OTHER_API = 'https://orders.example.com';

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { aud?: unknown; scope?: string };

/**
 * Auth0's `audience` parameter is taken as the RFC 8707 `resource` it names, at /auth and at
 * /token (every grant): an Auth0 migrant's token is for the API they asked for, or the request
 * is refused — never a token for another audience. `resource` and `audience` both given must
 * agree.
 */
describe('audience= (Auth0 style) as the resource indicator it names (real stores)', () => {
  const suite = seededInstanceForSuite('audience_param');
  let passwordClient: { clientId: string; secret: string };

  before(async () => {
    await suite.gatehouse.services.apis.create({ identifier: OTHER_API, scopes: ['buy'] });
    const created = await suite.gatehouse.services.clients.create({
      displayName: 'First-party CLI',
      firstParty: true,
      allowedApis: [API],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    passwordClient = { clientId: created.client.clientId, secret: created.secret! };
  });

  const token = (client: { clientId: string; secret: string }, params: Record<string, string>) => basicAuthTokenRequest(suite.gatehouse.url, client, params);

  async function code(extra: Record<string, string>) {
    const verifier = 'v'.repeat(64);
    const auth = new URL(`${suite.gatehouse.url}/auth`);
    auth.search = new URLSearchParams({
      client_id: suite.cast.web.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    const { callback } = await signIn(new UserAgent(), auth.toString(), REDIRECT_URI, { username: suite.cast.user.username, password: PASSWORD });
    return { callback, verifier };
  }

  it('client_credentials: audience names the API of the token; an unknown or unallowed one is invalid_target', async () => {
    const other = await suite.gatehouse.services.apis.create({ identifier: `${API}/second`, scopes: ['read'] });
    await suite.gatehouse.services.clients.update(suite.cast.service.clientId, { allowedApis: [API, `${API}/opaque`, other.identifier] });
    const tokens = await token(suite.cast.service, { grant_type: 'client_credentials', audience: `${API}/second`, scope: 'read' });
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    expect(payloadOf(tokens.body.access_token!).aud).to.equal(`${API}/second`);

    const unknown = await token(suite.cast.service, { grant_type: 'client_credentials', audience: 'https://unknown.example.com' });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error).to.equal('invalid_target');
    const unallowed = await token(suite.cast.service, { grant_type: 'client_credentials', audience: OTHER_API });
    expect(unallowed.body.error).to.equal('invalid_target');
  });

  it('resource and audience that disagree are refused (invalid_target naming both); the same value twice is fine', async () => {
    const disagree = await token(suite.cast.service, { grant_type: 'client_credentials', resource: API, audience: `${API}/opaque` });
    expect(disagree.status).to.equal(400);
    expect(disagree.body.error).to.equal('invalid_target');
    expect(disagree.body.error_description).to.include('resource').and.to.include('audience');
    const agree = await token(suite.cast.service, { grant_type: 'client_credentials', resource: API, audience: API });
    expect(agree.status, JSON.stringify(agree.body)).to.equal(200);
    expect(payloadOf(agree.body.access_token!).aud).to.equal(API);
  });

  it('resource and audience that disagree are refused after client authentication: a wrong secret is invalid_client', async () => {
    const wrong = await token({ clientId: suite.cast.service.clientId, secret: 'not-the-secret' }, { grant_type: 'client_credentials', resource: API, audience: `${API}/opaque` });
    expect(wrong.status, JSON.stringify(wrong.body)).to.equal(401);
    expect(wrong.body.error).to.equal('invalid_client');
  });

  it('resource and audience that disagree: a token error as the library answers them (its body, CORS for the client web origin), counted in gatehouse_token_errors_total', async () => {
    const origin = 'https://console.example.com';
    const created = await suite.gatehouse.services.clients.create({
      displayName: 'Browser-side service',
      allowedApis: [API, `${API}/opaque`],
      webOrigins: [origin],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const counted = async () => {
      const scrape = await (await fetch(`${suite.gatehouse.url}/metrics`)).text();
      return Number(/^gatehouse_token_errors_total\{error="invalid_target"\} (\d+)/m.exec(scrape)?.[1] ?? 0);
    };
    const before = await counted();
    const response = await fetch(`${suite.gatehouse.url}/token`, {
      method: 'POST',
      headers: { origin, authorization: clientSecretBasic(created.client.clientId, created.secret!), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, audience: `${API}/opaque` }).toString(),
    });
    expect(response.status).to.equal(400);
    expect(response.headers.get('access-control-allow-origin')).to.equal(origin);
    expect(await response.json()).to.deep.equal({ error: 'invalid_target', error_description: 'resource and audience name different APIs' });
    expect(await counted()).to.equal(before + 1);
  });

  it('password grant: audience names the API of the token', async () => {
    const tokens = await token(passwordClient, { grant_type: 'password', username: suite.cast.user.username, password: PASSWORD, scope: 'openid read', audience: API });
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    expect(payloadOf(tokens.body.access_token!).aud).to.equal(API);
  });

  it('authorization code: audience at /auth grants that API, and the code is redeemed for its JWT', async () => {
    const { callback, verifier } = await code({ audience: API });
    const value = callback.searchParams.get('code');
    expect(value, callback.toString()).to.be.a('string');
    const tokens = await token(suite.cast.web, { grant_type: 'authorization_code', code: value!, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    expect(payloadOf(tokens.body.access_token!).aud).to.equal(API);
    expect(payloadOf(tokens.body.access_token!).scope).to.equal('read');
  });

  it('authorization code: audience at /auth that names no API, or disagrees with resource, is refused at the redirect', async () => {
    const unknown = await code({ audience: 'https://unknown.example.com' });
    expect(unknown.callback.searchParams.get('error')).to.equal('invalid_target');
    const disagree = await code({ audience: API, resource: `${API}/opaque` });
    expect(disagree.callback.searchParams.get('error')).to.equal('invalid_target');
  });

  it('authorization code: audience at /token must be one the code was granted, as resource must', async () => {
    const { callback, verifier } = await code({});
    const refused = await token(suite.cast.web, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier, audience: API });
    expect(refused.status).to.equal(400);
    expect(refused.body.error).to.equal('invalid_target');
  });

  it('authorization code: audience at /token that disagrees with the resource the code was granted is refused', async () => {
    const { callback, verifier } = await code({ audience: API });
    const params = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier, resource: API };
    const refused = await token(suite.cast.web, { ...params, audience: `${API}/opaque` });
    expect(refused.status).to.equal(400);
    expect(refused.body).to.deep.equal({ error: 'invalid_target', error_description: 'resource and audience name different APIs' });
  });
});
