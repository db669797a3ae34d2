import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { asPage, followTo, submitForm, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/** Markup an operator (or a Keycloak import) might put into a consent text, one per language. */
const MARKUP = {
  en: '<img src=x onerror="alert(1)">See your team',
  ru: '<script>alert(2)</script>Видеть вашу команду',
  'zh-CN': '"><svg onload=alert(3)>查看你的团队',
  ko: '</li></ul><a href="javascript:alert(4)">팀 보기</a>',
} as const;

/**
 * Probe (probe22): a claim scope's consent text is the operator's free text, shown to end users
 * on the consent page of a third-party app. Markup in it — per language — must reach the page
 * as text (escaped), never as elements; the app's name likewise.
 */
describe('probe: markup in claim scope descriptions and client names on the consent page', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('probe_consent_markup');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('each language shows its description as text, escaped', async () => {
    const scope = await call('POST', '/claim-scopes', { name: 'team', description: MARKUP, mappers: [{ type: 'hardcoded', claim: 'team', value: 'blue' }] });
    expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    const user = await call('POST', '/users', { username: 'consenter', password: PASSWORD });
    expect(user.status).to.equal(201);
    const client = await call('POST', '/clients', { name: '<b onmouseover=alert(5)>Partner</b>', redirect_uris: [REDIRECT_URI], scope: 'openid team' });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, client.body.client_id as string, client.body.client_secret as string);

    const agent = new UserAgent();
    const first = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid team', ui_locales: 'en' });
    const login = asPage(await followTo(agent, first.url.href, REDIRECT_URI));
    asPage(await submitForm(agent, login, 'login', { login: 'consenter', password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    for (const [locale, text] of Object.entries(MARKUP)) {
      const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid team', ui_locales: locale });
      const page = asPage(await followTo(agent, request.url.href, REDIRECT_URI));
      expect(page.html, locale).to.include(`lang="${locale}"`);
      expect(page.html, `${locale}: the consent page`).to.match(/\/confirm"/);
      expect(page.html, `${locale}: the description's markup as markup`).not.to.include(text);
      expect(page.html, `${locale}: no element from it`).not.to.match(/<(img|script|svg)\b[^>]*(onerror|onload|alert)|href="javascript:|<b onmouseover/i);
      const escaped = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&#34;');
      expect(page.html, `${locale}: shown as text`).to.include(escaped);
    }
  });
});
