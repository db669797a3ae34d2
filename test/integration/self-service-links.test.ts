// The end pages of password reset and email confirmation lead somewhere: "Check your email" back to
// the sign-in it came from (or the account page), "Password changed" to signing in, an expired link
// to asking for a new one — in every language.
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, REDIRECT_URI, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';
const CHALLENGE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

/** The links of a page's main content that look like buttons: [href, text]. */
function buttons(html: string): Array<[string, string]> {
  return [...html.matchAll(/<a class="button[^"]*" href="([^"]+)"[^>]*>([^<]+)<\/a>/g)].map((match) => [match[1]!.replace(/&amp;/g, '&'), match[2]!.trim()]);
}

describe('where the password-reset and email-confirmation pages lead', function () {
  this.timeout(120_000);
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('self_service_links', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  async function askForReset(agent: UserAgent, forgotUrl: string, login: string, locale = 'en'): Promise<string> {
    const page = await agent.request(forgotUrl, { headers: { 'accept-language': locale } });
    expect(page.status).to.equal(200);
    const [form] = formsOf(await page.text());
    const sent = await agent.request(new URL(form!.action, deploy.issuer).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': locale },
      body: new URLSearchParams({ ...form!.fields, login }).toString(),
    });
    expect(sent.status).to.equal(200);
    return sent.text();
  }

  it('"Forgot password?" on a sign-in page remembers that sign-in: both the form and "Check your email" lead back to it', async () => {
    const agent = new UserAgent();
    const auth = new URL(`${deploy.issuer}/auth`);
    auth.search = new URLSearchParams({ client_id: cast.web.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', ...CHALLENGE }).toString();
    const started = await agent.request(auth.href);
    const signInPath = new URL(started.headers.get('location')!, deploy.issuer).pathname;
    const signInPage = await (await agent.request(new URL(signInPath, deploy.issuer).href)).text();
    const forgot = /<a href="([^"]*\/password\/forgot[^"]*)">Forgot password\?<\/a>/.exec(signInPage)?.[1]?.replace(/&amp;/g, '&');
    expect(forgot).to.be.a('string');
    const forgotPage = await (await agent.request(new URL(forgot!, deploy.issuer).href)).text();
    expect(buttons(forgotPage)).to.deep.include([signInPath, 'Back to sign-in']);
    const sent = await askForReset(agent, new URL(forgot!, deploy.issuer).href, 'nobody-here');
    expect(sent).to.include('Check your email');
    expect(buttons(sent)).to.deep.equal([[signInPath, 'Back to sign-in']]);
  });

  it('opened on its own, "Check your email" leads to signing in on the account page; a forged return address is ignored', async () => {
    const form = await (await new UserAgent().request(`${deploy.issuer}/password/forgot`)).text();
    expect(buttons(form)).to.deep.equal([['/account/', 'Sign in']]);
    const sent = await askForReset(new UserAgent(), `${deploy.issuer}/password/forgot`, 'nobody-here');
    expect(buttons(sent)).to.deep.equal([['/account/', 'Sign in']]);
    const forged = await askForReset(new UserAgent(), `${deploy.issuer}/password/forgot?interaction=${encodeURIComponent('x/../../evil"><script>')}`, 'nobody-here');
    expect(buttons(forged)).to.deep.equal([['/account/', 'Sign in']]);
    expect(forged).to.not.include('evil');
  });

  it('"Password changed" leads to signing in; an expired link to asking for a new one', async () => {
    const username = cast.user.username;
    await askForReset(new UserAgent(), `${deploy.issuer}/password/forgot`, username);
    const mail = await inbox.next();
    const link = /https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')![0];
    const agent = new UserAgent();
    const [form] = formsOf(await (await agent.request(link)).text());
    const done = await agent.postForm(new URL(form!.action, deploy.issuer).href, { ...form!.fields, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const html = await done.text();
    expect(html).to.include('Password changed');
    expect(buttons(html)).to.deep.equal([['/account/', 'Sign in']]);
    await inbox.next(); // the "password changed" notice

    const used = await new UserAgent().request(link);
    expect(used.status).to.equal(400);
    expect(buttons(await used.text())).to.deep.equal([['/password/forgot', 'Ask for a new link']]);
  });

  it('the links read in every language', async () => {
    const labels = new Set<string>();
    for (const locale of LOCALES) {
      const sent = await askForReset(new UserAgent(), `${deploy.issuer}/password/forgot`, 'nobody-here', locale);
      const [link] = buttons(sent);
      expect(link?.[0], locale).to.equal('/account/');
      labels.add(link![1]);
      const invalid = await new UserAgent().request(`${deploy.issuer}/password/reset/${'A'.repeat(43)}`, { headers: { 'accept-language': locale } });
      const [again] = buttons(await invalid.text());
      expect(again?.[0], locale).to.equal('/password/forgot');
      labels.add(again![1]);
    }
    expect(labels.size, 'a label per language and page').to.equal(LOCALES.length * 2);
  });

  it('an email confirmation link that no longer works leads to signing in', async () => {
    const page = await new UserAgent().request(`${deploy.issuer}/email/verify/${'A'.repeat(43)}`);
    expect(page.status).to.equal(400);
    expect(buttons(await page.text())).to.deep.equal([['/account/', 'Sign in']]);
  });
});
