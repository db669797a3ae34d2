import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const FIRST = 'the first tab chose this 41';
const SECOND = 'the second tab chose this 42';
const linkIn = (mail: ParsedMail) => /https?:\/\/\S+\/password\/invitation\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')?.[0];

/**
 * Probe (probe22): an invitation link "works once". The set-password form, opened in two tabs (or
 * kept by the back button) and posted twice — one after the other, and both at once with two
 * different passwords — sets exactly one password: one post succeeds, the other is told the
 * invitation no longer works, and the password is the one that succeeded.
 */
describe('probe: an invitation form posted twice sets one password', function () {
  this.timeout(90_000);
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let call: (method: string, path: string, body?: unknown) => ReturnType<typeof callAdmin>;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('probe_invitation_replay', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
    gatehouse = await deploy.start();
    const token = await (await adminClient(gatehouse)).token();
    call = (method, path, body) => callAdmin(gatehouse.url, token, method, path, body);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  /** Two tabs: each opens the link and holds its own form (CSRF token and cookie). */
  async function twoTabs(link: string) {
    return Promise.all(
      [0, 1].map(async () => {
        const agent = new UserAgent();
        const page = await agent.request(link);
        expect(page.status).to.equal(200);
        const [form] = formsOf(await page.text());
        return (password: string) => agent.postForm(new URL(form!.action, link).toString(), { ...form!.fields, password, confirm: password });
      }),
    );
  }

  async function invited(username: string) {
    const created = await call('POST', '/users', { username, email: `${username}@example.com`, invite: true });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { id: created.body.id as string, link: linkIn(await inbox.next())! };
  }

  it('one after the other: the second post is refused and the first password stays', async () => {
    const { id, link } = await invited('replayone');
    const [first, second] = await twoTabs(link);
    expect((await first!(FIRST)).status).to.equal(200);
    const again = await second!(SECOND);
    expect(again.status).to.equal(400);
    expect(await gatehouse.services.accounts.isCurrentPassword(id, FIRST)).to.equal(true);
    expect(await gatehouse.services.accounts.isCurrentPassword(id, SECOND)).to.equal(false);
  });

  it('both at once: exactly one succeeds, and its password is the one set', async () => {
    const { id, link } = await invited('replaytwo');
    const [first, second] = await twoTabs(link);
    const [a, b] = await Promise.all([first!(FIRST), second!(SECOND)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).to.deep.equal([200, 400]);
    const won = a.status === 200 ? FIRST : SECOND;
    const lost = won === FIRST ? SECOND : FIRST;
    expect(await gatehouse.services.accounts.isCurrentPassword(id, won)).to.equal(true);
    expect(await gatehouse.services.accounts.isCurrentPassword(id, lost)).to.equal(false);
    expect((await call('GET', `/users/${id}/invitation`)).body).to.deep.equal({ pending: false });
  });
});
