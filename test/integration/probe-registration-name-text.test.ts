import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

/**
 * Probe (probe24): the name a person gives on the self-registration form becomes their account's
 * name — the `name` claim other apps show, the console's users list. Like the account page's names
 * (refused since probe24) and every other name someone picks, it must not hold a control or
 * invisible format character: the form is shown again saying so, and nothing is mailed or created.
 */
describe('probe: a self-registration name with hidden characters', function () {
  this.timeout(90_000);
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('probe_reg_name', {
      settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>', GATEHOUSE_SELF_REGISTRATION: 'true' },
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

  it('the form refuses it; no account and no mail', async () => {
    const agent = new UserAgent();
    const url = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const started = await agent.request(url.toString());
    const interaction = new URL(started.headers.get('location')!, url).toString();
    const page = await agent.request(`${interaction}/register`);
    expect(page.status).to.equal(200);
    const form = formsOf(await page.text()).find((f) => f.action.endsWith('/register'))!;
    const sent = await agent.postForm(new URL(form.action, interaction).toString(), { ...form.fields, name: 'Bob\u202Egnp.exe', email: 'bob@example.org', password: 'my own passphrase 2026', confirm: 'my own passphrase 2026' });
    const html = await sent.text();
    expect(formsOf(html).some((f) => f.action.endsWith('/register')), 'the registration form again').to.equal(true);
    expect(html).to.contain('role="alert"');
    expect(await gatehouse.services.accounts.findByLogin('bob@example.org')).to.equal(undefined);
  });
});
