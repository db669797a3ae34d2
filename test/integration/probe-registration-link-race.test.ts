import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

/**
 * Probe (probe23): single-use links under concurrency on the real FerretDB (src/storage/take-once.ts).
 * A self-registration's confirmation link creates the account when its form is posted; the form
 * posted from several tabs at once (or a mail scanner and the user) must create exactly one
 * account: one "ready" page, the rest "no longer works" — never a second account attempt that
 * answers 500, never two registrations audited. The same for a link confirming a user's address
 * (sent by an operator): one confirmation, audited once.
 */
describe('probe: a registration confirmation link posted from several tabs at once', function () {
  this.timeout(90_000);
  const NEW_PASSWORD = 'my own passphrase 2026';
  const TABS = 6;
  const USERS = 8;
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;
  let token: string;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('probe_reglink', {
      settings: {
        GATEHOUSE_SMTP_URL: inbox.url,
        GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>',
        GATEHOUSE_SELF_REGISTRATION: 'true',
        GATEHOUSE_SELF_REGISTRATION_DOMAINS: 'example.org',
      },
    });
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const client = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Race app', redirect_uris: [REDIRECT_URI], scope: 'openid email', first_party: true });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    app = await relyingParty(deploy.issuer, client.body.client_id as string, client.body.client_secret as string);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
    await inbox.close();
  });

  async function registerAndLink(agent: UserAgent, email: string): Promise<string> {
    const url = oidc.buildAuthorizationUrl(app, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const started = await agent.request(url.toString());
    const interaction = new URL(started.headers.get('location')!, url).toString();
    const page = await agent.request(`${interaction}/register`);
    expect(page.status).to.equal(200);
    const form = formsOf(await page.text()).find((f) => f.action.endsWith('/register'))!;
    const sent = await agent.postForm(new URL(form.action, interaction).toString(), { ...form.fields, name: '', email, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(sent.status).to.equal(200);
    const link = /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec((await inbox.next()).text ?? '')?.[0];
    expect(link, 'a confirmation link in the mail').to.be.a('string');
    return link!;
  }

  for (const round of [1, 2, 3]) {
    it(`round ${round}: ${TABS} tabs post the form at once — one account, one "ready" page, the rest "no longer works"`, async () => {
      const email = `race${round}@example.org`;
      const link = await registerAndLink(new UserAgent(), email);
      // Each tab opened the link (its own page, its own CSRF cookie), then all post together.
      const tabs = await Promise.all(
        Array.from({ length: TABS }, async () => {
          const agent = new UserAgent();
          const page = await agent.request(link);
          expect(page.status).to.equal(200);
          const [form] = formsOf(await page.text());
          return { agent, form: form! };
        }),
      );
      const answers = await Promise.all(tabs.map(async ({ agent, form }) => {
        const response = await agent.postForm(new URL(form.action, link).toString(), form.fields);
        return { status: response.status, body: await response.text() };
      }));
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses, JSON.stringify(statuses)).to.deep.equal([200, ...Array.from({ length: TABS - 1 }, () => 400)]);
      expect(answers.find((answer) => answer.status === 200)!.body).to.contain('Your account is ready');
      for (const answer of answers.filter((one) => one.status === 400)) expect(answer.body).to.contain('This link no longer works');
      const user = await gatehouse.services.accounts.findByLogin(email);
      expect(user, 'the account').not.to.equal(undefined);
      await gatehouse.audit.flush();
      const { events } = await gatehouse.services.audit.query({ users: [user!.id], limit: 50 });
      const types = events.map((event) => event.type);
      expect(types.filter((type) => type === 'user.registered' || type === 'user.email_verified').sort(), JSON.stringify(types)).to.deep.equal(['user.email_verified', 'user.registered']);
    });
  }

  it(`operators' links confirming ${USERS} users' addresses, each posted from ${TABS} tabs, all at once: one confirmation per link, audited once`, async () => {
    const links: Array<{ userId: string; link: string }> = [];
    for (let index = 0; index < USERS; index += 1) {
      const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: `racer${index}`, email: `racer${index}@example.org`, password: NEW_PASSWORD });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const userId = created.body.id as string;
      // The link sent on creation; the operator's resend makes a new one (the first stops working): the last is the one.
      await inbox.next();
      const sent = await callAdmin(gatehouse.url, token, 'POST', `/users/${userId}/email-verification`);
      expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
      const link = /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec((await inbox.next()).text ?? '')?.[0];
      expect(link, 'a confirmation link in the mail').to.be.a('string');
      links.push({ userId, link: link! });
    }
    const tabs = await Promise.all(
      links.flatMap(({ userId, link }) =>
        Array.from({ length: TABS }, async () => {
          const agent = new UserAgent();
          const page = await agent.request(link);
          expect(page.status).to.equal(200);
          return { userId, link, agent, form: formsOf(await page.text())[0]! };
        }),
      ),
    );
    const answers = await Promise.all(tabs.map(async ({ userId, link, agent, form }) => ({ userId, status: (await agent.postForm(new URL(form.action, link).toString(), form.fields)).status })));
    await gatehouse.audit.flush();
    for (const { userId } of links) {
      const statuses = answers.filter((answer) => answer.userId === userId).map((answer) => answer.status).sort();
      expect(statuses, JSON.stringify(statuses)).to.deep.equal([200, ...Array.from({ length: TABS - 1 }, () => 400)]);
      expect((await gatehouse.services.accounts.findById(userId))?.emailVerified).to.equal(true);
      const { events } = await gatehouse.services.audit.query({ users: [userId], limit: 50 });
      expect(events.filter((event) => event.type === 'user.email_verified')).to.have.length(1);
    }
  });
});
