import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, REDIRECT_URI, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { eventually } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const CHOSEN = 'my own invited passphrase 8';
const linkIn = (mail: ParsedMail) => /https?:\/\/\S+\/password\/invitation\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')?.[0];
const titleOf = (html: string) => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1];

async function accept(link: string, password: string): Promise<{ status: number; html: string }> {
  const agent = new UserAgent();
  const page = await agent.request(link);
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, html };
  const [form] = formsOf(html);
  const answer = await agent.postForm(new URL(form!.action, link).toString(), { ...form!.fields, password, confirm: password });
  return { status: answer.status, html: await answer.text() };
}

/**
 * An operator sees a user's invitation that still works (when it was sent, until when, the
 * application it leads back to) and can revoke it — admin API and CLI alike, audited — and the
 * page after the password is set names the application it leads back to, its name isolated and
 * escaped. A real SMTP server; the link used as a browser would.
 */
describe('pending invitations: shown, revoked, and the application named afterwards (admin API, CLI, a real SMTP server)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let call: (method: string, path: string, body?: unknown) => ReturnType<typeof callAdmin>;
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('invitation_pending', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    const token = await (await adminClient(gatehouse)).token();
    call = (method, path, body) => callAdmin(gatehouse.url, token, method, path, body);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('GET shows the invitation that still works (sent, expires, the application), never the link; nothing once it is used', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'petra', email: 'petra@example.com' });
    expect((await call('GET', `/users/${user.id}/invitation`)).body).to.deep.equal({ pending: false });
    expect((await call('POST', `/users/${user.id}/invitation`, { client_id: cast.web.clientId, redirect_uri: REDIRECT_URI, lifetime_seconds: 3600 })).status).to.equal(202);
    const link = linkIn(await inbox.next())!;
    const shown = await call('GET', `/users/${user.id}/invitation`);
    expect(shown.status).to.equal(200);
    expect(shown.body).to.include({ pending: true, client_id: cast.web.clientId, redirect_uri: REDIRECT_URI });
    expect(Date.parse(shown.body.expires_at as string) - Date.parse(shown.body.sent_at as string)).to.equal(3_600_000);
    expect(JSON.stringify(shown.body)).to.not.include(link.split('/').at(-1)!);

    const done = await accept(link, CHOSEN);
    expect(done.status).to.equal(200);
    expect((await call('GET', `/users/${user.id}/invitation`)).body, 'used').to.deep.equal({ pending: false });
    expect((await call('GET', '/users/no-such-user/invitation')).status).to.equal(404);
  });

  it('an invitation sent before send times were kept: pending with sent_at null (API), "an unknown time" (CLI)', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'olga', email: 'olga@example.com' });
    expect((await call('POST', `/users/${user.id}/invitation`, { lifetime_seconds: 7200 })).status).to.equal(202);
    await inbox.next();
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    await mongo.db!.collection('invitations').updateMany({ userId: user.id }, { $unset: { issuedAt: '' } });
    await mongo.close();
    const shown = await call('GET', `/users/${user.id}/invitation`);
    expect(shown.body).to.include({ pending: true, sent_at: null, client_id: null });
    expect(shown.body.expires_at).to.be.a('string');
    const cli = await runCli(['users', 'invite', 'olga', '--show'], env());
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/^invitation of olga: sent at an unknown time \(before Gatehouse recorded when invitations were sent\), expires \d{4}-/);
  });

  it('DELETE revokes it: the link no longer works, audited; a second DELETE is 404 invitation_not_found', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'quinn', email: 'quinn@example.com' });
    await call('POST', `/users/${user.id}/invitation`);
    const link = linkIn(await inbox.next())!;
    const revoked = await call('DELETE', `/users/${user.id}/invitation`);
    expect(revoked.status).to.equal(204);
    expect((await call('GET', `/users/${user.id}/invitation`)).body).to.deep.equal({ pending: false });
    const refused = await accept(link, CHOSEN);
    expect(refused.status).to.equal(400);
    expect(titleOf(refused.html)).to.equal('This invitation no longer works');
    const again = await call('DELETE', `/users/${user.id}/invitation`);
    expect(again.status).to.equal(404);
    expect(again.body.code).to.equal('invitation_not_found');
    expect((await call('DELETE', '/users/no-such-user/invitation')).body.code).to.equal('user_not_found');
    const events = await eventually(
      async () => (await call('GET', `/audit-events?type=user.invitation_revoked&user=${user.id}`)).body.events as Array<{ target: { id: string } }>,
      (list) => list.length === 1,
    );
    expect(events[0]!.target.id).to.equal(user.id);
  });

  it('the CLI: users invite USER --show and --revoke (exit 1 when there is nothing to revoke); --revoke refuses the sending options', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'rhea', email: 'rhea@example.com' });
    const none = await runCli(['users', 'invite', 'rhea', '--show', '--json'], env());
    expect(none.code, none.stderr).to.equal(0);
    expect(JSON.parse(none.stdout)).to.deep.equal({ id: user.id, pending: false });
    await call('POST', `/users/${user.id}/invitation`, { client_id: cast.web.clientId, redirect_uri: REDIRECT_URI });
    const link = linkIn(await inbox.next())!;
    const shown = await runCli(['users', 'invite', 'rhea@example.com', '--show'], env());
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/^invitation of rhea: sent \S+, expires \S+, leads back to /);
    const mixed = await runCli(['users', 'invite', 'rhea', '--revoke', '--lifetime', '60'], env());
    expect(mixed.code).to.equal(2);
    expect(mixed.stderr).to.contain('--lifetime');
    const revoked = await runCli(['users', 'invite', 'rhea', '--revoke', '--json'], env());
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(JSON.parse(revoked.stdout)).to.deep.equal({ id: user.id, revoked: true });
    expect((await accept(link, CHOSEN)).status).to.equal(400);
    const nothing = await runCli(['users', 'invite', 'rhea', '--revoke'], env());
    expect(nothing.code).to.equal(1);
    expect(nothing.stderr).to.contain('no invitation that still works');
  });

  it("the page after the password names the application (\"Continue to <name>\"), a hostile name escaped and isolated", async () => {
    const hostile = '<img src=x onerror=alert(1)> \u202Eppa';
    const { client } = await gatehouse.services.clients.create({
      displayName: hostile,
      firstParty: true,
      metadata: { redirect_uris: ['https://hostile.example.com/cb'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const user = await gatehouse.services.accounts.createUser({ username: 'sven', email: 'sven@example.com' });
    await call('POST', `/users/${user.id}/invitation`, { client_id: client.clientId, redirect_uri: 'https://hostile.example.com/cb' });
    const done = await accept(linkIn(await inbox.next())!, CHOSEN);
    expect(done.status).to.equal(200);
    expect(done.html).to.not.contain('<img src=x');
    expect(done.html).to.contain('Continue to \u2068&lt;img src=x onerror=alert(1)&gt; \u202Eppa\u2069');
    expect(done.html).to.contain('You can now sign in to \u2068&lt;img');
    expect(done.html).to.contain('href="https://hostile.example.com/cb"');
  });
});
