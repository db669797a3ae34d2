import { expect } from 'chai';
import { generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf } from '../helpers/browserless.ts';
import { deployment, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

/**
 * Gatehouse does not process request objects (`request_parameter_supported` is absent from
 * discovery; PAR is the way to push parameters), so a `request` parameter is answered with
 * `request_not_supported` (OIDC Core §3.1.2.6). A client that sends its parameters only inside
 * the object (RFC 9101, as openid-client's buildAuthorizationUrlWithJAR does, or the OpenID
 * conformance suite's form_post plan with response_mode and state) must still get that answer
 * at its redirect URI, in the response mode and with the state it asked for.
 */
describe('request objects are refused with request_not_supported where and how the client asked (openid-client JAR)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let web: oidc.Configuration;
  let signingKey: CryptoKey;

  before(async () => {
    deploy = await deployment('request_objects');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    signingKey = (await generateKeyPair('ES256')).privateKey;
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function jarUrl(parameters: Record<string, string>): Promise<URL> {
    return oidc.buildAuthorizationUrlWithJAR(web, { scope: 'openid', response_type: 'code', ...parameters }, signingKey);
  }

  async function expectRequestNotSupported(callback: URL | Request, expectedState: string): Promise<void> {
    try {
      await oidc.authorizationCodeGrant(web, callback, { expectedState });
    } catch (error) {
      expect(error, String(error)).to.be.instanceOf(oidc.AuthorizationResponseError);
      expect((error as oidc.AuthorizationResponseError).error).to.equal('request_not_supported');
      return;
    }
    expect.fail('the authorization response carried no error');
  }

  it('is not advertised in discovery', () => {
    const metadata = web.serverMetadata();
    expect(metadata.request_parameter_supported ?? false).to.equal(false);
    expect(metadata).not.to.have.property('request_object_signing_alg_values_supported');
  });

  it('answers a JAR-only request (client_id and request outside) at the redirect URI inside, with its state', async () => {
    const state = oidc.randomState();
    const url = await jarUrl({ redirect_uri: REDIRECT_URI, state });
    expect([...url.searchParams.keys()].sort()).to.deep.equal(['client_id', 'request']);
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).to.equal(303);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(REDIRECT_URI);
    expect(location.searchParams.get('state')).to.equal(state);
    await expectRequestNotSupported(location, state);
  });

  it('answers with a form_post page when response_mode=form_post is only inside the object (the conformance suite\'s form_post case)', async () => {
    const state = oidc.randomState();
    const url = await jarUrl({ redirect_uri: REDIRECT_URI, state, response_mode: 'form_post' });
    // The suite sends response_type, client_id, scope and redirect_uri outside as well.
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'openid');
    url.searchParams.set('redirect_uri', REDIRECT_URI);
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.headers.get('location')).to.equal(null);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
    const [form] = formsOf(await response.text());
    expect(form?.action).to.equal(REDIRECT_URI);
    expect(form?.fields).to.include({ error: 'request_not_supported', state });
    const posted = new Request(REDIRECT_URI, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form!.fields).toString(),
    });
    await expectRequestNotSupported(posted, state);
  });

  it('keeps what is sent outside the object: the query\'s response_mode and state win', async () => {
    const url = await jarUrl({ redirect_uri: REDIRECT_URI, state: 'inside', response_mode: 'form_post' });
    url.searchParams.set('response_mode', 'query');
    url.searchParams.set('state', 'outside');
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).to.equal(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('state')).to.equal('outside');
    expect(location.searchParams.get('error')).to.equal('request_not_supported');
  });

  it('never redirects to a redirect URI inside the object that the client has not registered', async () => {
    const url = await jarUrl({ redirect_uri: 'https://attacker.example/cb', state: 'x', response_mode: 'form_post' });
    const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(response.status).to.equal(400);
    expect(response.headers.get('location')).to.equal(null);
    const html = await response.text();
    // The page's language links return to Gatehouse's own URL (which holds the value, encoded); nothing leads to it.
    expect(html).not.to.match(/(action|href)="https:\/\/attacker\.example/);
    expect(formsOf(html).map((form) => form.action)).not.to.include('https://attacker.example/cb');
  });

  it('leaves an object it cannot read alone (encrypted, or not a JWT): the answer goes to the registered URI in the query', async () => {
    for (const request of ['a.b.c.d.e', 'not-a-jwt', `${btoa('{"alg":"none"}')}.${btoa('[1,2]')}.`]) {
      const url = new URL(web.serverMetadata().authorization_endpoint!);
      url.searchParams.set('client_id', cast.web.clientId);
      url.searchParams.set('request', request);
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status, request).to.equal(303);
      const location = new URL(response.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`, request).to.equal(REDIRECT_URI);
      expect(location.searchParams.get('error'), request).to.equal('request_not_supported');
    }
  });
});

describe('a request object in a POST to the authorization endpoint (issuer behind a TLS proxy)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    deploy = await deployment('request_objects_post', { issuer: 'https://sso.example.test', settings: { GATEHOUSE_TRUST_PROXY: 'true' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('answers with a form_post page carrying the state when both are only inside the object', async () => {
    const request = await new SignJWT({ client_id: cast.web.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, response_mode: 'form_post', state: 'posted-state' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(cast.web.clientId)
      .setAudience('https://sso.example.test')
      .sign((await generateKeyPair('ES256')).privateKey);
    const response = await fetch(`${gatehouse.url}/auth`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({ client_id: cast.web.clientId, request }).toString(),
    });
    expect(response.headers.get('location')).to.equal(null);
    const [form] = formsOf(await response.text());
    expect(form?.action).to.equal(REDIRECT_URI);
    expect(form?.fields).to.include({ error: 'request_not_supported', state: 'posted-state' });
  });
});
