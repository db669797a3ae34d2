import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

/** RFC 8252: native apps redirect to a private-use URI scheme or to a loopback port of their choosing. */
describe('native-app redirect URIs (RFC 8252) with openid-client', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('native_apps');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function nativeClient(redirectUris: string[], extra: Record<string, unknown> = {}): Promise<string> {
    const created = await call('POST', '/clients', { name: 'Phone app', type: 'public', application_type: 'native', redirect_uris: redirectUris, ...extra });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.application_type).to.equal('native');
    return created.body.client_id as string;
  }

  it('admin API: a native client takes private-use schemes and loopback URIs; bad ones are refused naming the field', async () => {
    await nativeClient(['com.example.app:/callback', 'http://127.0.0.1/callback', 'http://[::1]:8400/cb', 'https://app.example.com/native']);
    const refused = [
      'javascript:alert(1)',
      'data:text/html,hi',
      'file:///etc/passwd',
      'vbscript:msgbox',
      'blob:https://app.example.com/x',
      'about:blank',
      'myapp:/callback', // not reverse-domain style
      'http://app.example.com/cb', // plain http off loopback
      'https://127.0.0.1/cb', // a claimed https URI is not on loopback
      'com.example.app:/callback#frag',
    ];
    for (const uri of refused) {
      const created = await call('POST', '/clients', { name: 'x', type: 'public', application_type: 'native', redirect_uris: ['com.example.app:/ok', uri] });
      expect(created.status, uri).to.equal(400);
      expect(created.body.details[0].path, uri).to.equal('redirect_uris.1');
      const logout = await call('POST', '/clients', { name: 'x', type: 'public', application_type: 'native', redirect_uris: ['com.example.app:/ok'], post_logout_redirect_uris: [uri] });
      expect(logout.body.details[0].path, uri).to.equal('post_logout_redirect_uris.0');
    }
    // Web clients keep http(s) URIs only.
    const web = await call('POST', '/clients', { name: 'x', redirect_uris: ['com.example.app:/callback'] });
    expect(web.status).to.equal(400);
    expect(web.body.details[0].path).to.equal('redirect_uris.0');
    const badType = await call('POST', '/clients', { name: 'x', application_type: 'desktop', redirect_uris: ['https://app.example.com/cb'] });
    expect(badType.body.details[0].path).to.equal('application_type');
    // Turning a native client into a web client re-checks the URIs it keeps.
    const id = await nativeClient(['https://app.example.com/native', 'com.example.app:/callback']);
    const turned = await call('PATCH', `/clients/${id}`, { application_type: 'web' });
    expect(turned.status).to.equal(400);
    expect(turned.body.details[0].path).to.equal('redirect_uris.1');
    expect((await call('PATCH', `/clients/${id}`, { redirect_uris: ['com.example.other:/cb', 'data:,x'] })).body.details[0].path).to.equal('redirect_uris.1');
  });

  it('code + PKCE to a loopback port other than the registered one (RFC 8252 §7.3)', async () => {
    const clientId = await nativeClient(['http://127.0.0.1:7/callback']);
    const config = await relyingParty(deploy.issuer, clientId);
    const redirectUri = 'http://127.0.0.1:51234/callback';
    const { url, checks } = await authorizationRequest(config, redirectUri);
    const outcome = await signIn(new UserAgent(), url.toString(), redirectUri, { username: cast.user.username, password: PASSWORD });
    expect(outcome.callback.port).to.equal('51234');
    expect(outcome.sawConsent, 'a native app shows the consent page (OIDC Core: its identity cannot be proven)').to.equal(true);
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    expect(tokens.claims()!.sub).to.equal(cast.user.id);

    // Another path on loopback, or a non-loopback host, is still refused.
    const elsewhere = await authorizationRequest(config, 'http://127.0.0.1:51234/other');
    const refused = await new UserAgent().request(elsewhere.url.toString());
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.match(/redirect/i);
  });

  it('code + PKCE to a private-use scheme: the code arrives in the Location header', async () => {
    const clientId = await nativeClient(['com.example.app:/oauth2redirect'], { first_party: true });
    const config = await relyingParty(deploy.issuer, clientId);
    const redirectUri = 'com.example.app:/oauth2redirect';
    const { url, checks } = await authorizationRequest(config, redirectUri);
    const outcome = await signIn(new UserAgent(), url.toString(), redirectUri, { username: cast.user.username, password: PASSWORD });
    expect(outcome.callback.protocol).to.equal('com.example.app:');
    expect(outcome.sawConsent, 'first-party: no consent page, native or not').to.equal(false);
    expect(outcome.callback.searchParams.get('code')).to.be.a('string');
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, checks);
    expect(tokens.claims()!.sub).to.equal(cast.user.id);
  });

  it('a web client does not get the loopback port freedom', async () => {
    const created = await call('POST', '/clients', { name: 'Dev web app', type: 'public', redirect_uris: ['http://127.0.0.1:7/callback'] });
    expect(created.status).to.equal(201);
    expect(created.body.application_type).to.equal('web');
    const config = await relyingParty(deploy.issuer, created.body.client_id as string);
    const { url } = await authorizationRequest(config, 'http://127.0.0.1:51234/callback');
    expect((await new UserAgent().request(url.toString())).status).to.equal(400);
  });
});
