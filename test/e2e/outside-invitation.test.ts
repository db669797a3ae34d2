import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { eventually } from '../helpers/poll.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { launchChromium, reportFailedPage, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { application, operator, startCodeFlow, type Operator } from './outside.ts';

const CHOSEN = 'picked from the mailed link 7';

/** The invitation link of a mail, if it has one. */
const invitationLink = (mail: ParsedMail) => /https?:\/\/\S+\/password\/invitation\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')?.[0];

/**
 * From outside: an operator invites a user with the admin API, a real SMTP server receives the
 * mail, the user follows its link in Chromium, chooses a password, and signs in to the app
 * (openid-client, code + PKCE) with it.
 */
describe('outside: an invitation from the admin API, followed from the mail, then a sign-in', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let ops: Operator;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page | undefined;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('outside_invite', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Acme Sign-in <no-reply@acme.test>' } });
    gatehouse = await deploy.start();
    ops = await operator(deploy);
    browser = await launchChromium();
    await rp.start();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, 'outside-invitation-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  async function nextInvitation(): Promise<{ mail: ParsedMail; link: string }> {
    for (;;) {
      const mail = await inbox.next();
      const link = invitationLink(mail);
      if (link !== undefined) return { mail, link };
    }
  }

  it('POST /users with invite, a second invitation back to the app, the mailed link sets the password, the app signs the user in', async () => {
    const created = await ops.call('POST', '/clients', { name: 'Acme CRM', redirect_uris: [`${rp.origin}/cb`], first_party: true });
    const app = await application(deploy.issuer, created);
    const noPassword = await ops.call('POST', '/users', { username: 'nina', invite: true });
    expect(noPassword.status).to.equal(400);
    expect(JSON.stringify(noPassword.body.details)).to.contain('email');

    const user = await ops.call('POST', '/users', { username: 'nina', email: 'nina@acme.test', given_name: 'Nina', invite: true });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    const first = await nextInvitation();
    expect(first.mail.to).to.deep.include({ text: 'nina@acme.test' });
    expect(first.mail.from?.text).to.contain('no-reply@acme.test');
    expect(first.mail.text).to.contain('nina');
    expect(first.link.startsWith(`${deploy.issuer}/password/invitation/`), first.link).to.equal(true);

    const again = await ops.call('POST', `/users/${user.body.id}/invitation`, { client_id: created.body.client_id, redirect_uri: `${rp.origin}/cb` });
    expect(again.status, JSON.stringify(again.body)).to.equal(202);
    expect(again.body).to.include({ sent: true, expires_in: 259200 });
    const second = await nextInvitation();
    expect(second.link).not.to.equal(first.link);

    context = await browser.newContext({ locale: 'en' });
    page = await context.newPage();
    // The first link ended when the second went out.
    await page.goto(first.link);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('This invitation no longer works');

    await page.goto(second.link);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Set your password');
    await page.getByLabel('Password', { exact: true }).fill(CHOSEN);
    await page.getByLabel('Repeat the password').fill(CHOSEN);
    await page.getByRole('button', { name: 'Set my password' }).click();
    await page.getByRole('heading', { name: 'Your password is set' }).waitFor();
    // The done page names the app the invitation named (its display name).
    expect(await page.textContent('.lead')).to.contain('Acme CRM');
    await page.getByRole('link', { name: 'Continue to Acme CRM' }).click();
    await page.waitForURL(`${rp.origin}/cb`);

    // The app sends the user to sign in: the chosen password works, and the address counts as confirmed.
    const flow = await startCodeFlow(page, app, `${rp.origin}/cb`);
    await page.fill('#username', 'nina@acme.test');
    await page.fill('#password', CHOSEN);
    await page.click('button.primary');
    const claims = (await flow.finish()).claims()!;
    expect(claims).to.include({ sub: user.body.id, email: 'nina@acme.test', email_verified: true, given_name: 'Nina', preferred_username: 'nina' });

    // Used once: the link is dead now, and the audit trail says who accepted.
    await page.goto(second.link);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('This invitation no longer works');
    await screenshot(page, 'outside-invitation-used-en');
    const accepted = await eventually(async () => (await ops.call('GET', '/audit-events?type=user.invitation_accepted&user=nina')).body.events as unknown[], (events) => events.length > 0);
    expect(accepted).to.have.length(1);
  });

  it('refuses what cannot work: an unknown redirect URI, a user without an address', async () => {
    const created = await ops.call('POST', '/clients', { name: 'Other', redirect_uris: [`${rp.origin}/other`], first_party: true });
    const user = await ops.call('POST', '/users', { username: 'omar', email: 'omar@acme.test' });
    const wrongUri = await ops.call('POST', `/users/${user.body.id}/invitation`, { client_id: created.body.client_id, redirect_uri: `${rp.origin}/cb` });
    expect(wrongUri.status).to.equal(400);
    expect(wrongUri.body.details[0].path).to.equal('redirect_uri');
    const nobody = await ops.call('POST', '/users', { username: 'noaddr' });
    const noAddress = await ops.call('POST', `/users/${nobody.body.id}/invitation`);
    expect(noAddress.status).to.equal(409);
    expect(noAddress.body.code).to.equal('user_no_email');
  });
});
