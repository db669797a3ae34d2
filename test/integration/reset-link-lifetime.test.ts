import { expect } from 'chai';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';
const OTHER_PASSWORD = 'yet another passphrase 77';

const resetLinkIn = (text: string | undefined) => /https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];
const confirmLinkIn = (text: string | undefined) => /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];

/**
 * A password-reset link is mailed to an address for the password the account has then. It must
 * stop working once either changes, by whatever path (the account page, an operator through the
 * admin API or the CLI), and once the user is disabled (for good: enabling them again does not
 * bring it back); not only when it is used or expires.
 */
describe('password-reset and email-confirmation links die with what they were sent for (real SMTP, real stores)', function () {
  this.timeout(120_000);
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let admin: string;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('reset_lifetime', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
    gatehouse = await deploy.start();
    admin = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  async function newUser(label: string): Promise<{ id: string; username: string; email: string }> {
    const tag = `${label}${Math.random().toString(36).slice(2, 8)}`;
    const user = await gatehouse.services.accounts.createUser({ username: tag, password: PASSWORD, email: `${tag}@example.com`, emailVerified: true });
    return { id: user.id, username: user.username, email: user.email! };
  }

  /** The link of the next mail to `address` that carries one (mails to others, and notices without a link, are passed over). */
  async function linkMailedTo(address: string, find: (text: string | undefined) => string | undefined): Promise<string> {
    for (;;) {
      const mail = await inbox.next();
      const link = find(mail.text);
      if (link !== undefined && JSON.stringify(mail.to ?? '').includes(address)) return link;
    }
  }

  async function resetLink(login: string, address: string): Promise<string> {
    const agent = new UserAgent();
    const page = await agent.request(`${deploy.issuer}/password/forgot`);
    const [form] = formsOf(await page.text());
    const response = await agent.postForm(new URL(form!.action, deploy.issuer).toString(), { ...form!.fields, login });
    await response.body?.cancel();
    return linkMailedTo(address, resetLinkIn);
  }

  /** Opens the link; when it still works, also tries to set a new password with it. */
  async function linkWorks(link: string): Promise<boolean> {
    const agent = new UserAgent();
    const page = await agent.request(link);
    const html = await page.text();
    if (page.status === 400) {
      expect(html).to.contain('This link no longer works');
      return false;
    }
    expect(page.status).to.equal(200);
    return true;
  }

  /** Sets a password with the link as the person would; whether it was accepted. */
  async function resetWith(link: string, password: string): Promise<boolean> {
    const agent = new UserAgent();
    const page = await agent.request(link);
    if (page.status !== 200) return false;
    const [form] = formsOf(await page.text());
    const response = await agent.postForm(new URL(form!.action, link).toString(), { ...form!.fields, password, confirm: password });
    const html = await response.text();
    if (html.includes('This link no longer works')) return false;
    expect(response.status, html.slice(0, 300)).to.equal(200);
    return true;
  }

  const signsInWith = async (username: string, password: string) => (await gatehouse.services.accounts.authenticate(username, password, '203.0.113.7')).ok;

  it('a link still works while nothing changed (the comparison for the cases below)', async () => {
    const user = await newUser('steady');
    const link = await resetLink(user.username, user.email);
    expect(await linkWorks(link)).to.equal(true);
    expect(await resetWith(link, NEW_PASSWORD)).to.equal(true);
    expect(await signsInWith(user.username, NEW_PASSWORD)).to.equal(true);
    expect(await linkWorks(link), 'used once').to.equal(false);
  });

  it('dies when an operator sets the password through the admin API', async () => {
    const user = await newUser('adminpw');
    const link = await resetLink(user.username, user.email);
    expect((await callAdmin(gatehouse.url, admin, 'PUT', `/users/${user.id}/password`, { password: OTHER_PASSWORD })).status).to.equal(204);
    expect(await linkWorks(link)).to.equal(false);
    expect(await resetWith(link, NEW_PASSWORD)).to.equal(false);
    expect(await signsInWith(user.username, OTHER_PASSWORD), 'the operator\'s password stands').to.equal(true);
  });

  it('dies when an operator sets the password with the CLI', async () => {
    const user = await newUser('clipw');
    const link = await resetLink(user.username, user.email);
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const result = await runCli(['users', 'set-password', user.username, '--password-stdin'], env, `${OTHER_PASSWORD}\n`);
    expect(result.code, result.stderr).to.equal(0);
    expect(await linkWorks(link)).to.equal(false);
    expect(await resetWith(link, NEW_PASSWORD)).to.equal(false);
  });

  it('dies when the user changes their password on the account page', async () => {
    const user = await newUser('ownpw');
    const link = await resetLink(user.username, user.email);
    const accountUrl = `${deploy.issuer}/account/`;
    const config = await relyingParty(deploy.issuer, ACCOUNT_CLIENT_ID);
    const request = await authorizationRequest(config, accountUrl);
    const { callback } = await signIn(new UserAgent(), request.url.href, accountUrl, { username: user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    const changed = await fetch(`${deploy.issuer}/account/api/v1/password`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ current_password: PASSWORD, new_password: OTHER_PASSWORD }),
    });
    expect(changed.status, await changed.text()).to.equal(200);
    expect(await linkWorks(link)).to.equal(false);
    expect(await resetWith(link, NEW_PASSWORD)).to.equal(false);
  });

  it('dies when the address it was sent to is changed (by an operator), even once it is changed back', async () => {
    const user = await newUser('moved');
    const link = await resetLink(user.username, user.email);
    const moved = await callAdmin(gatehouse.url, admin, 'PATCH', `/users/${user.id}`, { email: `elsewhere-${user.email}` });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(await linkWorks(link)).to.equal(false);
    expect((await callAdmin(gatehouse.url, admin, 'PATCH', `/users/${user.id}`, { email: user.email })).status).to.equal(200);
    expect(await linkWorks(link), 'changed back').to.equal(false);
    expect(await resetWith(link, NEW_PASSWORD)).to.equal(false);
    expect(await signsInWith(user.username, PASSWORD)).to.equal(true);
  });

  it('dies when the user is disabled, and stays dead once they are enabled again', async () => {
    const user = await newUser('disabled');
    const link = await resetLink(user.username, user.email);
    expect((await callAdmin(gatehouse.url, admin, 'POST', `/users/${user.id}/disable`)).status).to.equal(204);
    expect(await linkWorks(link)).to.equal(false);
    expect((await callAdmin(gatehouse.url, admin, 'POST', `/users/${user.id}/enable`)).status).to.equal(204);
    expect(await linkWorks(link), 'enabled again').to.equal(false);
    expect(await resetWith(link, NEW_PASSWORD)).to.equal(false);
    expect(await signsInWith(user.username, PASSWORD)).to.equal(true);
  });

  it('an email-confirmation link does not confirm the address of a disabled user', async () => {
    const tag = `unconfirmed${Math.random().toString(36).slice(2, 8)}`;
    const created = await callAdmin(gatehouse.url, admin, 'POST', '/users', { username: tag, email: `${tag}@example.com`, password: PASSWORD });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const link = await linkMailedTo(`${tag}@example.com`, confirmLinkIn);
    expect((await callAdmin(gatehouse.url, admin, 'POST', `/users/${created.body.id}/disable`)).status).to.equal(204);
    const agent = new UserAgent();
    const page = await agent.request(link);
    const html = await page.text();
    if (page.status === 200) {
      const [form] = formsOf(html);
      const posted = await agent.postForm(new URL(form!.action, link).toString(), form!.fields);
      await posted.body?.cancel();
      expect(posted.status, 'confirming').to.equal(400);
    } else {
      expect(page.status).to.equal(400);
    }
    expect((await gatehouse.services.accounts.findById(created.body.id as string))?.emailVerified, 'not confirmed').to.equal(false);
  });
});
