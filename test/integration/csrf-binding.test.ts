import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { deployment, PASSWORD, throwawayAuthorizationUrl, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const REDIRECT = 'https://app.example.test/callback';
const CSRF_COOKIES = ['gatehouse.csrf', 'gatehouse.csrf.sig'];

/**
 * Cookie tossing: a sibling subdomain can plant cookies in the victim's browser, so an attacker
 * plants the CSRF cookie pair a page once gave them together with that page's form token. The
 * token must therefore be bound to what the attacker cannot plant or know: the interaction the
 * form belongs to, the browser's sign-in session, the emailed link.
 */
describe('CSRF tokens bound to the interaction, the session and the link (cookie tossing; real stores)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let inbox: Inbox;
  let clientId: string;
  let n = 0;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('csrf_binding', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'no-reply@example.com' } });
    gatehouse = await deploy.start();
    const created = await gatehouse.services.clients.create({
      displayName: 'Expenses',
      metadata: { redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    clientId = created.client.clientId;
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  async function newUser() {
    const username = `csrf${(n += 1)}${randomBytes(3).toString('hex')}`;
    await gatehouse.services.accounts.createUser({ username, email: `${username}@example.com`, password: PASSWORD });
    return username;
  }

  const authorizeUrl = (extra: Record<string, string> = {}): string => throwawayAuthorizationUrl(deploy.issuer, clientId, REDIRECT, extra);

  /** Follows /auth to its first page: its URL and its form ending in `/action`. */
  async function pageForm(agent: UserAgent, url: string, action: string) {
    let response = await agent.request(url);
    while (response.status === 302 || response.status === 303) {
      url = new URL(response.headers.get('location')!, url).toString();
      response = await agent.request(url);
    }
    const html = await response.text();
    const form = formsOf(html).find((f) => f.action.endsWith(action));
    expect(form, `${action} on ${url}: ${html.slice(0, 300)}`).to.not.equal(undefined);
    return { url, form: form! };
  }

  /** Plants the attacker's CSRF cookies (the pair: value and signature) in the victim's browser. */
  function toss(attacker: UserAgent, victim: UserAgent) {
    for (const name of CSRF_COOKIES) {
      expect(attacker.cookies.has(name), name).to.equal(true);
      victim.cookies.set(name, attacker.cookies.get(name)!);
    }
  }

  it('sign-in page: an attacker\'s cookie pair and token, planted in the victim\'s browser, do not pass for the victim\'s interaction', async () => {
    const attacker = new UserAgent();
    const theirs = await pageForm(attacker, authorizeUrl(), '/login');
    const victim = new UserAgent();
    const mine = await pageForm(victim, authorizeUrl(), '/login');
    toss(attacker, victim);
    const forged = await victim.postForm(new URL(mine.form.action, mine.url).toString(), { csrf: theirs.form.fields.csrf!, login: await newUser(), password: PASSWORD });
    expect(forged.status).to.equal(403);
    expect(await forged.text()).to.contain('This form has expired');
    // The victim's own form, freshly loaded, still works.
    const again = await pageForm(victim, mine.url, '/login');
    const own = await victim.postForm(new URL(again.form.action, again.url).toString(), { ...again.form.fields, login: await newUser(), password: PASSWORD });
    expect(own.status).to.equal(303);
  });

  it('a form token is good only for its own interaction, even with the same cookie', async () => {
    const agent = new UserAgent();
    const first = await pageForm(agent, authorizeUrl(), '/login');
    const second = await pageForm(agent, authorizeUrl(), '/login');
    expect(first.form.action).to.not.equal(second.form.action);
    // The second page renewed nothing the first page's token relies on but its interaction.
    const crossed = await agent.postForm(new URL(second.form.action, second.url).toString(), { csrf: first.form.fields.csrf!, login: await newUser(), password: PASSWORD });
    expect(crossed.status).to.equal(403);
  });

  it('consent page of a signed-in user: a token from the attacker\'s own signed-in session does not pass', async () => {
    const victimName = await newUser();
    const attackerName = await newUser();
    const consentFor = async (username: string) => {
      const agent = new UserAgent();
      // Signed in (a session), then a fresh request that stops at consent.
      await signIn(agent, authorizeUrl(), REDIRECT, { username, password: PASSWORD });
      const page = await pageForm(agent, authorizeUrl({ scope: 'openid email', prompt: 'consent' }), '/confirm');
      return { agent, ...page };
    };
    const attacker = await consentFor(attackerName);
    const victim = await consentFor(victimName);
    toss(attacker.agent, victim.agent);
    const forged = await victim.agent.postForm(new URL(victim.form.action, victim.url).toString(), { ...victim.form.fields, csrf: attacker.form.fields.csrf! });
    expect(forged.status).to.equal(403);
  });

  it('"Forgot password?" (no interaction): a token from another browser\'s session does not pass in a signed-in browser; without a session the page still works', async () => {
    const attacker = new UserAgent();
    const page = await attacker.request(`${deploy.issuer}/password/forgot`);
    const [theirs] = formsOf(await page.text());
    const victim = new UserAgent();
    await signIn(victim, authorizeUrl(), REDIRECT, { username: await newUser(), password: PASSWORD });
    expect([...victim.cookies.keys()].some((name) => name.startsWith('_session')), [...victim.cookies.keys()].join(' ')).to.equal(true);
    toss(attacker, victim);
    const forged = await victim.postForm(new URL(theirs!.action, deploy.issuer).toString(), { csrf: theirs!.fields.csrf!, login: 'someone' });
    expect(forged.status).to.equal(403);
    // The victim's own form works, signed in or not.
    const [own] = formsOf(await (await victim.request(`${deploy.issuer}/password/forgot`)).text());
    expect((await victim.postForm(new URL(own!.action, deploy.issuer).toString(), { ...own!.fields, login: 'someone' })).status).to.equal(200);
    const [anonymous] = formsOf(await (await attacker.request(`${deploy.issuer}/password/forgot`)).text());
    expect((await attacker.postForm(new URL(anonymous!.action, deploy.issuer).toString(), { ...anonymous!.fields, login: 'someone' })).status).to.equal(200);
  });

  it('a reset link\'s form takes only a token issued for that link', async () => {
    const username = await newUser();
    const agent = new UserAgent();
    const [forgot] = formsOf(await (await agent.request(`${deploy.issuer}/password/forgot`)).text());
    expect((await agent.postForm(new URL(forgot!.action, deploy.issuer).toString(), { ...forgot!.fields, login: username })).status).to.equal(200);
    const link = /https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec((await inbox.next()).text ?? '')?.[0];
    expect(link).to.be.a('string');
    const [reset] = formsOf(await (await agent.request(link!)).text());
    const newPassword = 'another passphrase 77';
    // The forgot page's token, with the very same cookies: not this link's.
    const [other] = formsOf(await (await agent.request(`${deploy.issuer}/password/forgot`)).text());
    const crossed = await agent.postForm(new URL(reset!.action, link).toString(), { csrf: other!.fields.csrf!, password: newPassword, confirm: newPassword });
    expect(crossed.status).to.equal(403);
    const [fresh] = formsOf(await (await agent.request(link!)).text());
    const done = await agent.postForm(new URL(fresh!.action, link).toString(), { ...fresh!.fields, password: newPassword, confirm: newPassword });
    expect(done.status).to.equal(200);
  });
});
