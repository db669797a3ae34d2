import { expect } from 'chai';
import mongoose from 'mongoose';
import * as oidc from 'openid-client';
import type { ParsedMail } from 'mailparser';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { authorizationRequest, deployment, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { eventually } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const CHOSEN = 'my own invited passphrase 7';

const linkIn = (mail: ParsedMail) => /https?:\/\/\S+\/password\/invitation\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')?.[0];
const titleOf = (html: string) => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1];

/** Opens an invitation link and posts the password form as a browser would; the answer's status and HTML. */
async function accept(link: string, password: string, confirm = password): Promise<{ status: number; html: string }> {
  const agent = new UserAgent();
  const page = await agent.request(link);
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, html };
  const [form] = formsOf(html);
  const answer = await agent.postForm(new URL(form!.action, link).toString(), { ...form!.fields, password, confirm });
  return { status: answer.status, html: await answer.text() };
}

describe('inviting a user by email (admin API, a real SMTP server, openid-client)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let web: oidc.Configuration;
  let call: (method: string, path: string, body?: unknown) => ReturnType<typeof callAdmin>;

  before(async () => {
    inbox = await startInbox();
    // "Forgot password?" off: invitations work without it.
    deploy = await deployment('invitation_flow', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>', GATEHOUSE_PASSWORD_RESET: 'false' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const admin = await adminClient(gatehouse);
    const token = await admin.token();
    call = (method, path, body) => callAdmin(gatehouse.url, token, method, path, body);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('creates a user without a password, mails the invitation; its link sets the password, confirms the address, and an app signs them in', async () => {
    const created = await call('POST', '/users', { username: 'ines', email: 'ines@example.com', name: 'Inès \u05E2\u05D3\u05DF', invite: true });
    expect(created.status).to.equal(201);
    expect(created.body.email_verified).to.equal(false);
    const mail = await inbox.next();
    expect(mail.subject).to.equal('Set up your account');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').to.equal('ines@example.com');
    const link = linkIn(mail);
    expect(link, 'the plain-text part carries the link').to.be.a('string');
    expect(link!.startsWith(`${deploy.issuer}/password/invitation/`)).to.equal(true);
    expect(mail.html).to.contain(`href="${link}"`);
    expect(mail.text).to.contain('expires in 72 hours');
    expect(mail.text).to.contain('You sign in as ines');
    // The name is isolated in the HTML part (a right-to-left name cannot reorder the sentence).
    expect(mail.html).to.contain('<bdi>Inès \u05E2\u05D3\u05DF</bdi>');

    const before = await authorizationRequest(web, REDIRECT_URI);
    const refused = await signIn(new UserAgent(), before.url.toString(), REDIRECT_URI, { username: 'ines', password: CHOSEN }).catch((error: Error) => error.message);
    expect(refused, 'no password yet').to.be.a('string');

    const mismatch = await accept(link!, CHOSEN, 'something else');
    expect(mismatch.status).to.equal(400);
    expect(mismatch.html).to.contain('The two passwords differ');
    const weak = await accept(link!, 'short');
    expect(weak.status, 'the password policy applies').to.equal(400);
    const done = await accept(link!, CHOSEN);
    expect(done.status).to.equal(200);
    expect(titleOf(done.html)).to.equal('Your password is set');
    expect(done.html).to.contain('href="/account/"');

    const request = await authorizationRequest(web, REDIRECT_URI);
    const signedIn = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: 'ines', password: CHOSEN });
    const tokens = await oidc.authorizationCodeGrant(web, signedIn.callback, request.checks);
    expect(tokens.claims()!.sub).to.equal(created.body.id);
    const info = await oidc.fetchUserInfo(web, tokens.access_token, created.body.id);
    expect(info.email_verified, 'the link proved the mailbox').to.equal(true);

    const reused = await accept(link!, 'yet another passphrase 9');
    expect(reused.status).to.equal(400);
    expect(titleOf(reused.html)).to.equal('This invitation no longer works');

    const invited = await call('GET', `/audit-events?type=user.invited&user=${created.body.id}`);
    expect(invited.body.events).to.have.length(1);
    expect(invited.body.events[0].details).to.deep.include({ expiresInSeconds: 259_200, clientId: null });
    const accepted = await eventually(
      async () => (await call('GET', `/audit-events?type=user.invitation_accepted&user=${created.body.id}`)).body.events as Array<{ details: Record<string, unknown> }>,
      (events) => events.length === 1,
    );
    expect(accepted[0]!.details).to.deep.include({ emailVerified: true, clientId: null, secondFactor: null });
  });

  it('leads back to the application the invitation named; a newer invitation ends the older one; an expired link is refused', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'omar', email: 'omar@example.com', attributes: { locale: 'ru' }, requiredActions: ['update_password', 'verify_email', 'update_profile'] });
    expect((await call('POST', `/users/${user.id}/invitation`)).status, 'no body at all').to.equal(202);
    const first = linkIn(await inbox.next())!;
    const sent = await call('POST', `/users/${user.id}/invitation`, { client_id: cast.web.clientId, redirect_uri: REDIRECT_URI, lifetime_seconds: 600 });
    expect(sent.status).to.equal(202);
    expect(sent.body).to.deep.equal({ sent: true, expires_in: 600 });
    const mail = await inbox.next();
    expect(mail.subject, "in the user's language").to.equal('Настройте свою учётную запись');
    expect(mail.text).to.contain('истекает через 10 мин.');
    const second = linkIn(mail)!;

    const old = await accept(first, CHOSEN);
    expect(old.status, 'the older invitation was replaced').to.equal(400);
    expect(titleOf(old.html)).to.equal('This invitation no longer works');

    const done = await accept(second, CHOSEN);
    expect(done.status).to.equal(200);
    expect(done.html).to.contain(`href="${REDIRECT_URI}"`);
    expect(done.html).to.contain('Continue to Web App');
    const after = await call('GET', `/users/${user.id}`);
    expect(after.body.required_actions, 'the invitation did what update_password and verify_email asked').to.deep.equal(['update_profile']);
    expect(after.body.email_verified).to.equal(true);

    // A third, expired by the store's clock: refused like a used one.
    await call('POST', `/users/${user.id}/invitation`);
    const third = linkIn(await inbox.next())!;
    const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
    try {
      await connection.db!.collection('invitations').updateMany({}, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    } finally {
      await connection.close();
    }
    const expired = await accept(third, 'a third passphrase 33');
    expect(expired.status).to.equal(400);
    expect(titleOf(expired.html)).to.equal('This invitation no longer works');
    expect((await new UserAgent().request(`${deploy.issuer}/password/invitation/${'x'.repeat(43)}`)).status, 'unknown link').to.equal(400);
  });

  it('invites from the CLI: users create --invite, users invite with an application; refusals exit non-zero naming the flag', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const created = await runCli(['users', 'create', '--username', 'cleo', '--email', 'cleo@example.com', '--invite', '--json'], env);
    expect(created.code, created.stderr).to.equal(0);
    const shown = JSON.parse(created.stdout) as { id: string; invited: boolean };
    expect(shown.invited).to.equal(true);
    const first = linkIn(await inbox.next());
    expect(first).to.be.a('string');
    const again = await runCli(['users', 'invite', 'cleo@example.com', '--client-id', cast.web.clientId, '--redirect-uri', REDIRECT_URI, '--lifetime', '7200', '--json'], env);
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.equal({ id: shown.id, sent: true, expires_in: 7200 });
    const mail = await inbox.next();
    expect(mail.text).to.contain('expires in 2 hours');
    expect((await accept(first!, CHOSEN)).status, 'the CLI\'s second invitation replaced the first').to.equal(400);
    const done = await accept(linkIn(mail)!, CHOSEN);
    expect(done.html).to.contain(`href="${REDIRECT_URI}"`);

    const wrongUri = await runCli(['users', 'invite', 'cleo', '--client-id', cast.web.clientId, '--redirect-uri', 'https://evil.example.com/cb'], env);
    expect(wrongUri.code).to.not.equal(0);
    expect(wrongUri.stderr).to.contain('--redirect-uri');
    const both = await runCli(['users', 'create', '--username', 'dora', '--email', 'dora@example.com', '--invite', '--password-stdin'], env, 'a password 1234\n');
    expect(both.code).to.equal(2);
    expect(await gatehouse.services.accounts.findByLogin('dora')).to.equal(undefined);
  });

  it('refuses what it cannot send: 400 naming the field, 404, 409 without an address or for a disabled user', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'nell', email: 'nell@example.com' });
    const nameless = await gatehouse.services.accounts.createUser({ username: 'noaddress' });
    const field = async (body: unknown) => {
      const answer = await call('POST', `/users/${user.id}/invitation`, body);
      expect(answer.status, JSON.stringify(body)).to.equal(400);
      return (answer.body.details as Array<{ path: string; code: string }>).map((detail) => `${detail.path}:${detail.code}`);
    };
    expect(await field({ client_id: cast.web.clientId })).to.deep.equal(['redirect_uri:required']);
    expect(await field({ redirect_uri: REDIRECT_URI })).to.deep.equal(['client_id:required']);
    expect(await field({ client_id: 'no-such-client', redirect_uri: REDIRECT_URI })).to.deep.equal(['client_id:unknown_client']);
    expect(await field({ client_id: cast.web.clientId, redirect_uri: `${REDIRECT_URI}/other` })).to.deep.equal(['redirect_uri:redirect_uri_not_registered']);
    expect(await field({ client_id: cast.spa.clientId, redirect_uri: REDIRECT_URI }), "another client's URI").to.deep.equal(['redirect_uri:redirect_uri_not_registered']);
    expect((await field({ lifetime_seconds: 5 }))[0]).to.match(/^lifetime_seconds:/);
    expect((await field({ surprise: true }))[0]).to.match(/^surprise:/);

    expect((await call('POST', '/users/no-such-user/invitation')).status).to.equal(404);
    const noEmail = await call('POST', `/users/${nameless.id}/invitation`);
    expect(noEmail.status).to.equal(409);
    expect(noEmail.body.code).to.equal('user_no_email');
    await call('POST', `/users/${user.id}/disable`);
    const disabled = await call('POST', `/users/${user.id}/invitation`);
    expect(disabled.status).to.equal(409);
    expect(disabled.body.code).to.equal('user_disabled');

    const withPassword = await call('POST', '/users', { username: 'pia', email: 'pia@example.com', password: CHOSEN, invite: true });
    expect(withPassword.status).to.equal(400);
    expect(withPassword.body.details[0]).to.include({ path: 'password', code: 'invite_with_password' });
    const withoutEmail = await call('POST', '/users', { username: 'pia', invite: true });
    expect(withoutEmail.status).to.equal(400);
    expect(withoutEmail.body.details[0]).to.include({ path: 'email', code: 'invite_needs_email' });
    expect(await gatehouse.services.accounts.findByLogin('pia'), 'nothing was created').to.equal(undefined);
    expect(inbox.received.filter((mail) => /nell|noaddress|pia/.test(mail.to && 'text' in mail.to ? mail.to.text : '')), 'nothing was mailed').to.deep.equal([]);
  });
});

describe('inviting a user without SMTP', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('invitation_no_smtp');
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('answers 409 mail_not_configured, and creates no user for POST /users with invite', async () => {
    const token = await (await adminClient(gatehouse)).token();
    const user = await gatehouse.services.accounts.createUser({ username: 'sam', email: 'sam@example.com' });
    const answer = await callAdmin(gatehouse.url, token, 'POST', `/users/${user.id}/invitation`, {});
    expect(answer.status).to.equal(409);
    expect(answer.body.code).to.equal('mail_not_configured');
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'tess', email: 'tess@example.com', invite: true });
    expect(created.status).to.equal(409);
    expect(created.body.code).to.equal('mail_not_configured');
    expect(await gatehouse.services.accounts.findByLogin('tess')).to.equal(undefined);
  });
});
