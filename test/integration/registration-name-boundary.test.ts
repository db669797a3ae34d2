import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Self-registration shortens what it takes — the name to 256 UTF-16 units, the username made from
 * the address's local part to 40 — by whole characters (graphemes): an emoji or an astral letter
 * at the boundary goes whole, never half of its surrogate pair, which would be stored as a lone
 * surrogate (or, in the username, make the account impossible to create).
 */
describe('self-registration shortens names by whole characters (real stores, browserless)', function () {
  this.timeout(90_000);
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('reg_name_boundary', {
      // The account is made at once (no confirmation link first): the test reads it after its mail.
      settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>', GATEHOUSE_SELF_REGISTRATION: 'true', GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'off' },
    });
    gatehouse = await deploy.start();
    const token = await (await adminClient(gatehouse)).token();
    const client = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'App', redirect_uris: [REDIRECT_URI], scope: 'openid email', first_party: true });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    app = await relyingParty(deploy.issuer, client.body.client_id as string, client.body.client_secret as string);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
    await inbox.close();
  });

  async function register(name: string, email: string) {
    const agent = new UserAgent();
    const url = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const started = await agent.request(url.toString());
    const interaction = new URL(started.headers.get('location')!, url).toString();
    const page = await agent.request(`${interaction}/register`);
    const form = formsOf(await page.text()).find((f) => f.action.endsWith('/register'))!;
    const sent = await agent.postForm(new URL(form.action, interaction).toString(), { ...form.fields, name, email, password: 'my own passphrase 2026', confirm: 'my own passphrase 2026' });
    expect(sent.status).to.equal(200);
    // Sent once the account exists.
    await inbox.next();
    return gatehouse.services.accounts.findByLogin(email);
  }

  it('a name with an emoji across the 256th unit keeps the text before it, no half of the emoji', async () => {
    const user = await register(`${'A'.repeat(255)}😀 and more`, 'emoji-name@example.org');
    expect(user, 'the account').to.not.equal(undefined);
    expect(user!.name).to.equal('A'.repeat(255));
    expect(LONE_SURROGATE.test(user!.name ?? '')).to.equal(false);
  });

  it('a family emoji (one character of several code points) at the boundary goes whole', async () => {
    const family = '👩‍👩‍👧';
    const user = await register(`${'B'.repeat(250)}${family}`, 'family-name@example.org');
    expect(user!.name).to.equal('B'.repeat(250));
  });

  it('an address whose local part has an astral letter across the 40th unit still makes an account, its username shortened by whole letters', async () => {
    // U+20000, a CJK letter outside the BMP (a surrogate pair), unchanged by NFKC.
    const user = await register('Han', `${'m'.repeat(39)}\u{20000}\u{20000}@example.org`);
    expect(user, 'the account').to.not.equal(undefined);
    expect(user!.username).to.equal('m'.repeat(39));
  });
});
