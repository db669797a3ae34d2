import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, instanceForSuite, type Deployment } from '../helpers/e2e.ts';
import { faultyLink, type FaultyLink } from '../helpers/faulty-link.ts';
import { startInstance } from '../helpers/instance.ts';
import { captureLogs } from '../helpers/log-capture.ts';

/** The shell's `data-*` attributes, unescaped as a browser reads them. */
function shellData(html: string): Record<string, string> {
  const body = /<body ((?:[^>"]|"[^"]*")*)>/.exec(html)?.[1] ?? '';
  const unescape = (value: string) => value.replace(/&lt;/g, '<').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return Object.fromEntries([...body.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map(([, name, value]) => [name!, unescape(value!)]));
}

/**
 * keycloak-js's `createAccountUrl()` sends the user to the account page with
 * `?referrer=<client id>&referrer_uri=<redirect URI>`; the page offers "Back to <app>" only for
 * a known client and one of that client's registered redirect URIs, exactly, http(s) — Keycloak's
 * rules (its AccountConsole), without its wildcards. The checked name and URI travel in the
 * shell's data attributes (the page draws them as text and a link): never an open redirect.
 */
describe('account page: "Back to <app>" from ?referrer=&referrer_uri= (real stores)', () => {
  const suite = instanceForSuite('account_referrer');
  const SHOP = 'https://shop.example.com/callback';
  const BLOG = 'https://blog.example.com/cb';
  const NAME = 'Shop <b>"&</b> Co';

  before(async () => {
    const web = { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    await suite.gatehouse.services.clients.create({ clientId: 'shop', displayName: NAME, metadata: { ...web, redirect_uris: [SHOP, 'http://localhost:8080/shop/'], client_uri: 'https://shop.example.com/' } });
    await suite.gatehouse.services.clients.create({ clientId: 'blog', displayName: 'Blog', metadata: { ...web, redirect_uris: [BLOG] } });
    await suite.gatehouse.services.clients.create({
      clientId: 'phone-app',
      displayName: 'Phone app',
      metadata: { ...web, application_type: 'native', redirect_uris: ['com.example.phone:/callback'], client_uri: 'https://phone.example.com/' },
    });
  });

  async function referrer(query: string): Promise<Record<string, string>> {
    const response = await fetch(`${suite.gatehouse.url}/account/?${query}`);
    expect(response.status, query).to.equal(200);
    const data = shellData(await response.text());
    expect(data['client-id'], 'the shell itself').to.equal('gatehouse-account');
    return Object.fromEntries(Object.entries(data).filter(([name]) => name.startsWith('referrer')));
  }
  const q = (params: Array<[string, string]>) => new URLSearchParams(params).toString();

  it('a known client and one of its registered redirect URIs: its name (escaped in the shell) and that URI', async () => {
    expect(await referrer(q([['referrer', 'shop'], ['referrer_uri', SHOP]]))).to.deep.equal({ referrer: 'shop', 'referrer-name': NAME, 'referrer-uri': SHOP });
    expect(await referrer(q([['referrer', 'shop'], ['referrer_uri', 'http://localhost:8080/shop/']]))).to.deep.equal({ referrer: 'shop', 'referrer-name': NAME, 'referrer-uri': 'http://localhost:8080/shop/' });
    const raw = await (await fetch(`${suite.gatehouse.url}/account/?${q([['referrer', 'shop'], ['referrer_uri', SHOP]])}`)).text();
    expect(raw).to.include('data-referrer-name="Shop &lt;b>&quot;&amp;&lt;/b> Co"').and.not.include('<b>');
  });

  it('Gatehouse\'s own /account?referrer=… keeps the query on its way to the page', async () => {
    const query = q([['referrer', 'shop'], ['referrer_uri', SHOP]]);
    const response = await fetch(`${suite.gatehouse.url}/account?${query}`, { redirect: 'manual' });
    expect(response.status).to.equal(302);
    expect(response.headers.get('location')).to.equal(`/account/?${query}`);
  });

  it('no link: no referrer, an unknown client, a URI the client did not register, one another client registered', async () => {
    expect(await referrer('')).to.deep.equal({});
    expect(await referrer(q([['referrer_uri', SHOP]]))).to.deep.equal({});
    expect(await referrer(q([['referrer', 'nobody'], ['referrer_uri', SHOP]]))).to.deep.equal({});
    expect(await referrer(q([['referrer', ''], ['referrer_uri', SHOP]]))).to.deep.equal({});
    for (const uri of ['https://evil.example.com/callback', `${SHOP}/`, `${SHOP}?next=https://evil.example.com`, 'https://shop.example.com/', 'https://SHOP.example.com/callback', '']) {
      expect(await referrer(q([['referrer', 'shop'], ['referrer_uri', uri]])), uri).to.deep.equal({});
    }
    expect(await referrer(q([['referrer', 'shop'], ['referrer_uri', BLOG]])), "the blog's URI").to.deep.equal({});
    expect(await referrer(q([['referrer', 'blog'], ['referrer_uri', SHOP]])), "the shop's URI").to.deep.equal({});
  });

  it('no link to anything but http(s): javascript:, data:, a native app\'s own scheme even when registered', async () => {
    for (const uri of ['javascript:alert(document.domain)', 'JavaScript:alert(1)//https://shop.example.com/callback', 'data:text/html,<script>alert(1)</script>', '//evil.example.com/']) {
      expect(await referrer(q([['referrer', 'shop'], ['referrer_uri', uri]])), uri).to.deep.equal({});
    }
    expect(await referrer(q([['referrer', 'phone-app'], ['referrer_uri', 'com.example.phone:/callback']]))).to.deep.equal({});
  });

  it('a parameter given twice counts as not given well', async () => {
    expect(await referrer(q([['referrer', 'shop'], ['referrer', 'blog'], ['referrer_uri', SHOP]]))).to.deep.equal({});
    expect(await referrer(q([['referrer', 'shop'], ['referrer_uri', SHOP], ['referrer_uri', SHOP]]))).to.deep.equal({});
  });

  it('without referrer_uri: the client\'s home page (client_uri, Keycloak\'s base URL) if it has one', async () => {
    expect(await referrer(q([['referrer', 'shop']]))).to.deep.equal({ referrer: 'shop', 'referrer-name': NAME, 'referrer-uri': 'https://shop.example.com/' });
    expect(await referrer(q([['referrer', 'phone-app']]))).to.deep.equal({ referrer: 'phone-app', 'referrer-name': 'Phone app', 'referrer-uri': 'https://phone.example.com/' });
    expect(await referrer(q([['referrer', 'blog']]))).to.deep.equal({});
  });
});

/**
 * "Back to <app>" is optional; the page is not. A store outage while the referring client is
 * looked up (the clients' MongoDB unreachable from this instance: a real link, cut) serves the
 * page without the link, logged at warn; the link is back with the store.
 */
describe('account page: "Back to <app>" while the clients\' store is unreachable (a cut link)', function () {
  this.timeout(60_000);
  const SHOP = 'https://shop.example.com/callback';
  let deploy: Deployment;
  let link: FaultyLink;
  let gatehouse: RunningGatehouse;
  let logs: ReturnType<typeof captureLogs>;

  before(async () => {
    deploy = await deployment('account_referrer_outage');
    link = await faultyLink(deploy.mongodbUri);
    logs = captureLogs('info');
    gatehouse = await startInstance({
      mongodbUri: link.uri,
      redisUrl: deploy.redisUrl,
      secret: deploy.secret,
      issuer: deploy.issuer,
      settings: { ...deploy.settings, PORT: new URL(deploy.issuer).port, GATEHOUSE_MONGODB_TIMEOUT: '1' },
      logger: logs.logger,
    });
    // Created, never read: the lookup goes to the store.
    await gatehouse.services.clients.create({ clientId: 'shop', displayName: 'Shop', metadata: { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', redirect_uris: [SHOP] } });
  });
  after(async () => {
    await gatehouse?.close();
    await link?.close();
    await deploy?.drop();
  });

  async function page(): Promise<{ status: number; data: Record<string, string> }> {
    const response = await fetch(`${gatehouse.url}/account/?${new URLSearchParams({ referrer: 'shop', referrer_uri: SHOP })}`);
    const data = shellData(await response.text());
    return { status: response.status, data: Object.fromEntries(Object.entries(data).filter(([name]) => name.startsWith('referrer') || name === 'client-id')) };
  }

  it('serves the page without the link and logs why at warn; with the store back, the link again', async () => {
    link.sever();
    try {
      expect(await page()).to.deep.equal({ status: 200, data: { 'client-id': 'gatehouse-account' } });
    } finally {
      link.mend();
    }
    const warned = logs.lines().filter((line) => line.level === 'warn' && String(line.msg).includes('Back to <app>'));
    expect(warned.map((line) => [line.clientId, line.store]), logs.text().slice(-2000)).to.deep.equal([['shop', 'mongodb']]);
    expect(await page()).to.deep.equal({ status: 200, data: { 'client-id': 'gatehouse-account', referrer: 'shop', 'referrer-name': 'Shop', 'referrer-uri': SHOP } });
  });
});
