import { expect } from 'chai';
import type { ParsedMail } from 'mailparser';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

/**
 * Changing an email address, by the user (account API) and by an operator (admin API), with
 * GATEHOUSE_REQUIRE_VERIFIED_EMAIL=all and a real SMTP server: an unchanged address changes
 * nothing; a changed one gets a confirmation link and the old one a notice.
 */
describe('email address changes (account API, admin API; real stores and SMTP server)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let inbox: Inbox;
  let adminToken: string;
  let api: string;
  let accountUrl: string;
  // Each test's users get their own addresses: the inbox is shared.
  let serial = 0;
  const unique = (name: string) => `${name}${(serial += 1)}x${process.pid}`;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('email_change', {
      settings: {
        GATEHOUSE_SMTP_URL: inbox.url,
        GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>',
        GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'all',
        GATEHOUSE_SUPPORT_URL: 'https://help.example.com/',
      },
    });
    gatehouse = await deploy.start();
    adminToken = await (await adminClient(gatehouse)).token();
    api = `${deploy.issuer}/account/api/v1`;
    accountUrl = `${deploy.issuer}/account/`;
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  async function verifiedUser(name: string, extra: { locale?: string } = {}) {
    const username = unique(name);
    const user = await gatehouse.services.accounts.createUser({
      username,
      password: PASSWORD,
      email: `${username}@Example.com`,
      emailVerified: true,
      ...(extra.locale === undefined ? {} : { attributes: { locale: extra.locale } }),
    });
    return user;
  }

  async function accountToken(username: string): Promise<string> {
    const config = await relyingParty(deploy.issuer, ACCOUNT_CLIENT_ID);
    const request = await authorizationRequest(config, accountUrl);
    const { callback } = await signIn(new UserAgent(), request.url.href, accountUrl, { username, password: PASSWORD });
    return (await oidc.authorizationCodeGrant(config, callback, request.checks)).access_token;
  }

  async function patchProfile(token: string, body: unknown) {
    const response = await fetch(`${api}/profile`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function getProfile(token: string) {
    const response = await fetch(`${api}/profile`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as Record<string, unknown>;
  }

  /** Whether `login` and the password sign in to the account page. */
  async function signsIn(login: string): Promise<boolean> {
    return accountToken(login).then(
      () => true,
      () => false,
    );
  }

  /** Asks for a password reset for `login` (its mail, if any, is sent after the answer). */
  async function requestReset(login: string): Promise<void> {
    const agent = new UserAgent();
    const [forgot] = formsOf(await (await agent.request(`${deploy.issuer}/password/forgot`)).text());
    expect((await agent.postForm(new URL(forgot!.action, deploy.issuer).toString(), { ...forgot!.fields, login })).status).to.equal(200);
  }

  const isReset = (mail: ParsedMail) => /\/password\/reset\//.test(mail.text ?? '');

  /** Opens an emailed confirmation link and presses its button; the final page. */
  async function followLink(text: string | undefined, locale = 'en'): Promise<{ status: number; body: string }> {
    const link = /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];
    expect(link, 'a confirmation link').to.be.a('string');
    const agent = new UserAgent();
    const headers = { 'accept-language': locale };
    const page = await agent.request(link!, { headers });
    if (page.status !== 200) return { status: page.status, body: await page.text() };
    const [form] = formsOf(await page.text());
    const done = await agent.request(new URL(form!.action, link).toString(), { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form!.fields).toString() });
    // Long addresses may break after their dots and at signs (<wbr>).
    return { status: done.status, body: (await done.text()).replaceAll('<wbr>', '') };
  }

  async function auditOf(userId: string, type: 'user.updated' | 'user.email_verification_sent' | 'user.email_change_requested' | 'user.email_changed' | 'user.email_change_taken' | 'user.email_change_cancelled') {
    await gatehouse.flushBatchedWrites();
    return (await gatehouse.services.audit.query({ types: [type], users: [userId], limit: 50 })).events.filter((event) => event.target?.id === userId);
  }

  const recipient = (mail: ParsedMail) => (mail.to !== undefined && 'text' in mail.to ? mail.to.text : '');

  /**
   * Proves no mail went to `address` up to now: another user's address change is mailed after
   * whatever the earlier requests queued; once both its mails are here, nothing for `address` is.
   */
  async function expectNoMailTo(address: string) {
    const other = await verifiedUser('barrier');
    const moved = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${other.id}`, { email: `${other.username}-new@example.com` });
    expect(moved.status).to.equal(200);
    const barrier = [await inbox.next(), await inbox.next()];
    expect(barrier.map(recipient).sort()).to.deep.equal([`${other.username}-new@example.com`, `${other.username}@example.com`].sort());
    expect(inbox.received.map(recipient).filter((to) => to.toLowerCase() === address.toLowerCase())).to.deep.equal([]);
  }

  describe('the same address sent again changes nothing', () => {
    it('account API: email_verified stays true, no link is mailed, no step-up is needed, the audit names no email change', async () => {
      const user = await verifiedUser('same');
      const token = await accountToken(user.username);
      for (const email of [user.email!, ` ${user.email!.toUpperCase()} `, user.email!.toLowerCase()]) {
        const reply = await patchProfile(token, { email, name: 'Same Person' });
        expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
        expect(reply.body.email_verified, email).to.equal(true);
      }
      const stored = await gatehouse.services.accounts.findById(user.id);
      expect(stored!.emailVerified).to.equal(true);
      expect(stored!.email!.toLowerCase()).to.equal(user.email!.toLowerCase());
      expect(await auditOf(user.id, 'user.email_verification_sent')).to.deep.equal([]);
      for (const event of await auditOf(user.id, 'user.updated')) expect(event.details?.fields).to.not.include('email');
      // Still able to sign in under GATEHOUSE_REQUIRE_VERIFIED_EMAIL=all without confirming again.
      expect(await accountToken(user.username)).to.be.a('string');
      await expectNoMailTo(user.email!);
    });

    it('admin API: the same address (any case) keeps email_verified; no link, no notice', async () => {
      const user = await verifiedUser('samead');
      for (const email of [user.email!, user.email!.toUpperCase()]) {
        const reply = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${user.id}`, { email, given_name: 'Sam' });
        expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
        expect(reply.body.email_verified, email).to.equal(true);
      }
      expect((await gatehouse.services.accounts.findById(user.id))!.emailVerified).to.equal(true);
      expect(await auditOf(user.id, 'user.email_verification_sent')).to.deep.equal([]);
      // An operator may still set the flag explicitly alongside the same address.
      const unset = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${user.id}`, { email: user.email, email_verified: false });
      expect(unset.body.email_verified).to.equal(false);
      await expectNoMailTo(user.email!);
    });
  });

  describe('a new address: a link to the new one, a notice to the old one', () => {
    it('admin API: a user created with an address, and a link sent again, say an administrator asked for it (never "if you did not ask for this")', async () => {
      const username = unique('created');
      const created = await callAdmin(gatehouse.url, adminToken, 'POST', '/users', { username, email: `${username}@example.org`, locale: 'ru' });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const first = await inbox.next();
      expect(recipient(first)).to.equal(`${username}@example.org`);
      expect(first.text).to.contain('запросил администратор').and.not.contain('Если вы этого не запрашивали');
      const again = await callAdmin(gatehouse.url, adminToken, 'POST', `/users/${String(created.body.id)}/email-verification`);
      expect(again.status, JSON.stringify(again.body)).to.equal(202);
      const second = await inbox.next();
      expect(recipient(second)).to.equal(`${username}@example.org`);
      expect(second.text).to.contain('запросил администратор');
      expect(second.html || '').to.contain('запросил администратор');
    });

    it('account API: the new address waits for its link — sign-in, password reset and the profile keep the old one; following the link makes the change and only then tells the old address what changed, when, and where to get help (no secret, no link that acts)', async () => {
      const user = await verifiedUser('mover');
      const token = await accountToken(user.username);
      const newAddress = `${user.username}.new@example.org`;
      const reply = await patchProfile(token, { email: newAddress, name: 'Mover' });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      // Saved: the name. Pending: the address; the account keeps its confirmed one.
      expect(reply.body).to.include({ email: user.email, email_verified: true, pending_email: newAddress, name: 'Mover' });
      const linkMail = await inbox.next();
      expect(recipient(linkMail)).to.equal(newAddress);
      expect(linkMail.subject).to.equal('Confirm your email address');
      // The user asked for this link: the mail may say "if you did not ask for this".
      expect(linkMail.text).to.contain('If you did not ask for this').and.not.contain('An administrator');
      const stored = await gatehouse.services.accounts.findById(user.id);
      expect(stored).to.include({ email: user.email, emailVerified: true });

      // Until confirmed: the old address signs in, the new one does not; a reset goes to the old one.
      expect(await signsIn(user.email!)).to.equal(true);
      expect(await signsIn(newAddress)).to.equal(false);
      await requestReset(newAddress);
      await requestReset(user.email!);
      // Only the reset asked for by the old address comes (whatever else arrives first is kept to check).
      const before: ParsedMail[] = [];
      for (let mail = await inbox.next(); ; mail = await inbox.next()) {
        if (isReset(mail) && recipient(mail).toLowerCase() === user.email!.toLowerCase()) break;
        before.push(mail);
      }
      expect(before.map(recipient)).to.deep.equal([]);

      // The link's page says what it does; confirming it makes the change.
      const confirmed = await followLink(linkMail.text);
      expect(confirmed.status).to.equal(200);
      expect(confirmed.body).to.contain('Email address changed').and.contain(newAddress);
      const changed = await gatehouse.services.accounts.findById(user.id);
      expect(changed).to.include({ email: newAddress, emailVerified: true });
      expect((await getProfile(token)).pending_email).to.equal(null);
      expect(await signsIn(newAddress)).to.equal(true);
      expect(await signsIn(user.email!)).to.equal(false);

      const notice = await inbox.next();
      expect(recipient(notice).toLowerCase()).to.equal(user.email!.toLowerCase());
      expect(notice.subject).to.equal('Your email address was changed');
      const text = notice.text ?? '';
      expect(text).to.contain('Hello Mover');
      expect(text).to.contain('on your account page');
      // The new address, partly hidden: enough to recognise it, not to hand it to whoever reads the old mailbox.
      expect(text).to.contain(`${user.username[0]}…@example.org`);
      expect(text).to.not.contain(newAddress);
      expect(text).to.match(/\b20\d\d\b/);
      expect(text).to.contain('UTC');
      expect(text).to.contain('https://help.example.com/');
      // No link into Gatehouse: nothing in it signs in, confirms or undoes anything.
      expect(text).to.not.contain(deploy.issuer);
      expect(notice.html || '').to.not.contain(deploy.issuer);
      expect(await auditOf(user.id, 'user.email_change_requested')).to.have.length(1);
      const [event] = await auditOf(user.id, 'user.email_changed');
      expect(event?.details).to.deep.include({ previousEmailNotified: true });
      // Nothing ever went to the new address but its link (a reset for it would have come by now).
      expect(inbox.received.filter((mail) => recipient(mail) === newAddress && isReset(mail))).to.deep.equal([]);
      // The name's save is the only profile update; the address is not in it.
      for (const updated of await auditOf(user.id, 'user.updated')) expect(updated.details?.fields).to.not.include('email');
    });

    it('account API: a newer request replaces the pending one (the older link stops working); the link can be sent again and the change cancelled', async () => {
      const user = await verifiedUser('changer');
      const token = await accountToken(user.username);
      expect((await patchProfile(token, { email: `${user.username}-a@example.org` })).status).to.equal(200);
      const first = await inbox.next();
      expect((await patchProfile(token, { email: `${user.username}-b@example.org` })).body).to.include({ email: user.email, pending_email: `${user.username}-b@example.org` });
      const second = await inbox.next();
      expect(recipient(second)).to.equal(`${user.username}-b@example.org`);
      expect((await followLink(first.text)).status).to.equal(400);
      expect((await gatehouse.services.accounts.findById(user.id))?.email).to.equal(user.email);

      const resent = await fetch(`${api}/profile/pending-email`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(resent.status).to.equal(204);
      const third = await inbox.next();
      expect(recipient(third)).to.equal(`${user.username}-b@example.org`);
      expect((await followLink(second.text)).status, 'the link sent before the resend').to.equal(400);

      const cancelled = await fetch(`${api}/profile/pending-email`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(cancelled.status).to.equal(204);
      expect((await getProfile(token)).pending_email).to.equal(null);
      expect((await followLink(third.text)).status, 'a cancelled change\'s link').to.equal(400);
      const none = await fetch(`${api}/profile/pending-email`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(none.status, 'nothing pending: nothing to cancel').to.equal(204);
      expect((await gatehouse.services.accounts.findById(user.id))).to.include({ email: user.email, emailVerified: true });
      expect(await auditOf(user.id, 'user.email_change_cancelled')).to.have.length(1);
    });

    it('account API: an address another account took before the link was followed is not changed to — a localized page says so, audited; the account keeps its address', async () => {
      const user = await verifiedUser('racer');
      const token = await accountToken(user.username);
      const wanted = `${user.username}-wanted@example.org`;
      expect((await patchProfile(token, { email: wanted })).status).to.equal(200);
      const linkMail = await inbox.next();
      const other = await verifiedUser('taker');
      const took = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${other.id}`, { email: wanted, email_verified: true });
      expect(took.status, JSON.stringify(took.body)).to.equal(200);
      await inbox.next(); // the notice to the taker's old address
      const refused = await followLink(linkMail.text, 'ru');
      expect(refused.status).to.equal(409);
      expect(refused.body).to.contain('Этот адрес больше недоступен').and.contain(wanted);
      expect(await gatehouse.services.accounts.findById(user.id)).to.include({ email: user.email, emailVerified: true });
      expect((await gatehouse.services.accounts.findByLogin(wanted))?.id).to.equal(other.id);
      expect(await auditOf(user.id, 'user.email_change_taken')).to.have.length(1);
      expect(await auditOf(user.id, 'user.email_changed')).to.have.length(0);
    });

    it('admin API: an operator\'s change of the address ends a pending change the user asked for — its link no longer overwrites the operator\'s address', async () => {
      const user = await verifiedUser('overruled');
      const token = await accountToken(user.username);
      expect((await patchProfile(token, { email: `${user.username}-mine@example.org` })).status).to.equal(200);
      const linkMail = await inbox.next();
      // The account page's form sends the current address with any other field: that leaves the pending change alone.
      expect((await patchProfile(token, { name: 'Renamed', email: user.email })).body).to.include({ name: 'Renamed', pending_email: `${user.username}-mine@example.org` });
      const chosen = `${user.username}-operator@example.org`;
      const set = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${user.id}`, { email: chosen, email_verified: true });
      expect(set.status, JSON.stringify(set.body)).to.equal(200);
      await inbox.next(); // the notice to the old address
      expect((await getProfile(token)).pending_email).to.equal(null);
      expect((await followLink(linkMail.text)).status).to.equal(400);
      expect(await gatehouse.services.accounts.findById(user.id)).to.include({ email: chosen, emailVerified: true });
    });

    it('admin API: the notice says an administrator made the change, in the user\'s language; removing the address notifies too', async () => {
      const user = await verifiedUser('ruser', { locale: 'ru' });
      const moved = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${user.id}`, { email: `${user.username}-2@example.com` });
      expect(moved.status).to.equal(200);
      expect(moved.body.email_verified).to.equal(false);
      const mails = [await inbox.next(), await inbox.next()];
      const notice = mails.find((mail) => recipient(mail).toLowerCase() === user.email!.toLowerCase())!;
      expect(notice.subject).to.equal('Адрес электронной почты изменён');
      expect(notice.text).to.contain('администратор');

      const other = await verifiedUser('removed');
      const removed = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${other.id}`, { email: null });
      expect(removed.status).to.equal(200);
      const gone = await inbox.next();
      expect(recipient(gone).toLowerCase()).to.equal(other.email!.toLowerCase());
      expect(gone.subject).to.equal('Your email address was changed');
      expect(gone.text).to.contain('removed');
    });

    it('CLI: `users update --email` tells the old address and sends the new one its link, as the admin API does (the command waits for the mail)', async () => {
      const user = await verifiedUser('cliuser', { locale: 'ko' });
      const newAddress = `${user.username}-cli@example.com`;
      const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
      const result = await runCli(['users', 'update', user.username, '--email', newAddress, '--json'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.include({ email: newAddress, email_verified: false });
      // Both were delivered before the command ended: they are here already.
      expect(inbox.received.map((mail) => recipient(mail).toLowerCase())).to.include.members([user.email!.toLowerCase(), newAddress.toLowerCase()]);
      const notice = inbox.received.find((mail) => recipient(mail).toLowerCase() === user.email!.toLowerCase())!;
      expect(notice.subject).to.equal('이메일 주소가 변경되었습니다');
      const link = inbox.received.find((mail) => recipient(mail) === newAddress)!;
      expect(link.text).to.contain(`${deploy.issuer}/email/verify/`);
      // The inbox's queue stays in step for the tests after this one.
      for (const _ of [1, 2]) await inbox.next();
      const [event] = await auditOf(user.id, 'user.updated');
      expect(event?.actor).to.deep.include({ type: 'cli' });
      expect(event?.details).to.deep.include({ fields: ['email'], previousEmailNotified: true });
      expect(await auditOf(user.id, 'user.email_verification_sent')).to.have.length(1);
    });

    it('CLI: mail the SMTP server keeps refusing is named on standard error; the change itself stands', async () => {
      const user = await verifiedUser('clirefused');
      const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
      // Both mails, and each one's retry.
      inbox.refuseNext(4);
      const result = await runCli(['users', 'update', user.username, '--email', `${user.username}-2@example.com`], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain(`updated user ${user.username}`);
      expect(result.stderr).to.contain('the email changed email could not be delivered').and.contain('the email verification email could not be delivered');
      expect(inbox.refused).to.be.at.least(4);
      expect((await gatehouse.services.accounts.findById(user.id))?.email).to.equal(`${user.username}-2@example.com`);
    });

    it('an unverified old address is told too (it is still where the account\'s mail went)', async () => {
      const username = unique('unver');
      const user = await gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: `${username}@example.com` });
      const moved = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${user.id}`, { email: `${username}-b@example.com`, email_verified: true });
      expect(moved.status).to.equal(200);
      const notice = await inbox.next();
      expect(recipient(notice)).to.equal(`${username}@example.com`);
      expect(notice.subject).to.equal('Your email address was changed');
    });
  });

  describe('right-to-left addresses in sentences', () => {
    it('the confirmation page isolates the address in its sentence (FSI … PDI), so it cannot turn the words around it', async () => {
      const user = await verifiedUser('rtl');
      const token = await accountToken(user.username);
      const address = `\u05e9\u05dc\u05d5\u05dd.${user.username}@example.org`;
      expect((await patchProfile(token, { email: address })).status).to.equal(200);
      const mail = await inbox.next();
      const link = /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')?.[0];
      const page = (await (await new UserAgent().request(link!, { headers: { 'accept-language': 'en' } })).text()).replaceAll('<wbr>', '');
      expect(page).to.include(`Confirm \u2068${address}\u2069 as your account`);
    });
  });

  describe('probing addresses through the account page', () => {
    it('"send the link again" has a limit of its own, per user: the sixth within the hour is a 429 email_resends_limited with Retry-After, audited, and mails nothing', async () => {
      const user = await verifiedUser('resender');
      const token = await accountToken(user.username);
      const pending = `${user.username}-new@example.org`;
      expect((await patchProfile(token, { email: pending })).status).to.equal(200);
      expect(recipient(await inbox.next())).to.equal(pending);
      const resend = () => fetch(`${api}/profile/pending-email`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 5; i += 1) {
        expect((await resend()).status).to.equal(204);
        expect(recipient(await inbox.next())).to.equal(pending);
      }
      const mailed = inbox.received.length;
      const response = await resend();
      const limited = (await response.json()) as Record<string, unknown>;
      expect(response.status, JSON.stringify(limited)).to.equal(429);
      expect(limited).to.include({ error: 'too_many_requests', code: 'email_resends_limited' });
      expect(Number(response.headers.get('retry-after'))).to.be.greaterThan(0);
      await gatehouse.flushBatchedWrites();
      const events = (await gatehouse.services.audit.query({ types: ['user.email_change_limited'], users: [user.id], limit: 10 })).events;
      expect(events.map((event) => event.details)).to.deep.equal([{ resend: true, retryAfterSeconds: Number(response.headers.get('retry-after')) }]);
      // The pending change itself stands; cancelling it is not limited.
      expect((await getProfile(token)).pending_email).to.equal(pending);
      expect((await fetch(`${api}/profile/pending-email`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).to.equal(204);
      expect(inbox.received.length, 'no mail for the refused resend').to.equal(mailed);
    });

    it('a taken address is a 409 naming the field, so changes are limited per user: the sixth attempt within the hour is a 429 with Retry-After, audited; an operator is not limited', async () => {
      const owners = await Promise.all([1, 2, 3, 4, 5, 6].map(() => verifiedUser('owner')));
      const prober = await verifiedUser('prober');
      const token = await accountToken(prober.username);
      for (const owner of owners.slice(0, 5)) {
        const taken = await patchProfile(token, { email: owner.email!.toLowerCase() });
        expect(taken.status, JSON.stringify(taken.body)).to.equal(409);
      }
      const response = await fetch(`${api}/profile`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: owners[5]!.email }) });
      const limited = (await response.json()) as Record<string, unknown>;
      expect(response.status, JSON.stringify(limited)).to.equal(429);
      expect(limited).to.include({ error: 'too_many_requests', code: 'email_changes_limited' });
      expect(Number(response.headers.get('retry-after'))).to.be.greaterThan(0);
      // A free address too, until the hour is over; other profile fields and the same address still save.
      expect((await patchProfile(token, { email: `${prober.username}-free@example.com` })).status).to.equal(429);
      const other = await patchProfile(token, { name: 'Still here', email: prober.email });
      expect(other.status, JSON.stringify(other.body)).to.equal(200);
      await gatehouse.flushBatchedWrites();
      const events = (await gatehouse.services.audit.query({ types: ['user.email_change_limited'], users: [prober.id], limit: 10 })).events;
      expect(events.length).to.be.greaterThan(0);
      expect(JSON.stringify(events)).to.not.include(owners[5]!.email!.toLowerCase());
      // Operators change addresses without this limit.
      const admin = await callAdmin(gatehouse.url, adminToken, 'PATCH', `/users/${prober.id}`, { email: `${prober.username}-ops@example.com` });
      expect(admin.status).to.equal(200);
      await inbox.next();
      await inbox.next();
    });
  });
});
