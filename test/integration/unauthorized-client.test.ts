import { expect } from 'chai';
import { basicAuthTokenRequest, seededInstanceForSuite } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * RFC 6749 §5.2: a client that is not registered for the grant type it uses gets
 * `unauthorized_client` (oidc-provider says `invalid_request`); other invalid requests keep
 * `invalid_request`.
 */
describe('unauthorized_client for a grant type the client is not registered for (real stores)', () => {
  const suite = seededInstanceForSuite('unauthorized_client');

  const token = (client: { clientId: string; secret: string }, params: Record<string, string>) => basicAuthTokenRequest(suite.gatehouse.url, client, params);

  const cases: Array<[string, 'web' | 'service', Record<string, string>]> = [
    ['authorization_code', 'service', { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.example.com/cb' }],
    ['refresh_token', 'service', { grant_type: 'refresh_token', refresh_token: 'x' }],
    ['client_credentials', 'web', { grant_type: 'client_credentials' }],
    ['device_code', 'web', { grant_type: DEVICE_GRANT, device_code: 'x' }],
    ['password', 'web', { grant_type: 'password', username: 'x', password: 'y' }],
  ];
  for (const [name, who, params] of cases) {
    it(`${name}: 400 unauthorized_client for a client not registered for it`, async () => {
      const answer = await token(suite.cast[who], params);
      expect(answer.status).to.equal(400);
      expect(answer.body.error, JSON.stringify(answer.body)).to.equal('unauthorized_client');
      expect(answer.body.error_description).to.equal('requested grant type is not allowed for this client');
    });
  }

  it('device authorization (RFC 8628 §3.2, whose errors are those of RFC 6749 §5.2): 400 unauthorized_client for a client without the device grant', async () => {
    const response = await fetch(`${suite.gatehouse.url}/device/auth`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(suite.cast.web.clientId, suite.cast.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ scope: 'openid' }).toString(),
    });
    expect(response.status).to.equal(400);
    expect(await response.json()).to.deep.equal({ error: 'unauthorized_client', error_description: `${DEVICE_GRANT} is not allowed for this client` });
  });

  it('is counted under the code the client got (gatehouse_token_errors_total)', async () => {
    const scrape = await (await fetch(`${suite.gatehouse.url}/metrics`)).text();
    expect(scrape).to.match(/^gatehouse_token_errors_total\{error="unauthorized_client"\} [1-9]/m);
  });

  it('other invalid requests stay invalid_request; an unknown grant type stays unsupported_grant_type', async () => {
    const missing = await token(suite.cast.web, { grant_type: 'authorization_code', redirect_uri: 'https://app.example.com/cb' });
    expect(missing.status).to.equal(400);
    expect(missing.body.error).to.equal('invalid_request');
    const noGrantType = await token(suite.cast.web, {});
    expect(noGrantType.body.error).to.equal('invalid_request');
    const unknown = await token(suite.cast.web, { grant_type: 'urn:example:unknown' });
    expect(unknown.body.error).to.equal('unsupported_grant_type');
  });

  it('authorization endpoint (RFC 6749 §4.1.2.1): a response_type the client is not registered for is unauthorized_client, at its redirect URI with state', async () => {
    const redirectUri = 'https://backend.example.com/cb';
    const created = await suite.gatehouse.services.clients.create({
      displayName: 'Backend with a callback',
      metadata: { redirect_uris: [redirectUri], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const auth = new URL(`${suite.gatehouse.url}/auth`);
    auth.search = new URLSearchParams({
      client_id: created.client.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid',
      state: 'st4te',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const response = await fetch(auth, { redirect: 'manual' });
    expect(response.status).to.be.oneOf([302, 303]);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(redirectUri);
    expect(location.searchParams.get('error')).to.equal('unauthorized_client');
    expect(location.searchParams.get('error_description')).to.equal('requested response_type is not allowed for this client');
    expect(location.searchParams.get('state')).to.equal('st4te');

    // A client registered for it goes on to sign-in as before.
    auth.searchParams.set('client_id', suite.cast.web.clientId);
    auth.searchParams.set('redirect_uri', 'https://app.example.com/cb');
    const allowed = await fetch(auth, { redirect: 'manual' });
    expect(allowed.headers.get('location')).to.match(/\/interaction\//);
  });
});
