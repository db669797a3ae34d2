import { expect } from 'chai';
import { accountReferrer } from '../../src/account/referrer.ts';
import { webLink } from '../../src/clients/web-link.ts';

/**
 * The account page links to an app (its home page in "Apps", "Back to <app>") only when the URI is
 * http(s) (qa18). The admin API, the CLI and the Keycloak import accept nothing else for
 * client_uri, but `gatehouse import` keeps a client's metadata as its file holds it: a guard
 * where the link is made, not only where the URI is validated.
 */
describe('account page app links are http(s) only', () => {
  it('webLink keeps http(s) URLs and drops everything else', () => {
    expect(webLink('https://app.example.com/')).to.equal('https://app.example.com/');
    expect(webLink('http://localhost:3000/home')).to.equal('http://localhost:3000/home');
    for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd', '/relative', '', 42, null, undefined, { href: 'https://x' }]) {
      expect(webLink(bad), String(bad)).to.equal(undefined);
    }
  });

  it('"Back to <app>" from a client whose stored client_uri is javascript: shows no link', async () => {
    const client = (clientUri: string) => ({ clientId: 'app', displayName: 'App', metadata: { client_uri: clientUri, redirect_uris: ['https://app.example.com/cb'] } });
    const clients = (clientUri: string) => ({ get: async () => client(clientUri) }) as unknown as Parameters<typeof accountReferrer>[0];
    expect(await accountReferrer(clients('javascript:alert(1)'), { referrer: 'app' })).to.equal(undefined);
    expect(await accountReferrer(clients('https://app.example.com/'), { referrer: 'app' })).to.deep.equal({ clientId: 'app', name: 'App', uri: 'https://app.example.com/' });
  });
});
