import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, REDIRECT_URI, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { consoleOperator, launchChromium, screenshot, seriousViolations } from './browser.ts';

const CHOSEN = 'an invited browser passphrase 5';

/** The console's Sent row for an invitation sent before send times were kept (src/console/web/locales). */
const UNKNOWN_SENT = {
  en: 'Unknown (sent before Gatehouse recorded when invitations were sent)',
  ru: 'Неизвестно (отправлено до того, как Gatehouse начал записывать время отправки)',
  'zh-CN': '未知（在 Gatehouse 开始记录发送时间之前发送）',
  ko: '알 수 없음(Gatehouse가 보낸 시각을 기록하기 전에 보냄)',
} as const;

const linkIn = (text: string | undefined) => /https?:\/\/\S+\/password\/invitation\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];

/** What each language calls the page's parts (views/locales). */
const WORDS = {
  en: { title: 'Set your password', password: 'Password', confirm: 'Repeat the password', submit: 'Set my password', done: 'Your password is set', invalid: 'This invitation no longer works', back: 'Continue to Web App' },
  ru: { title: 'Задайте пароль', password: 'Пароль', confirm: 'Повторите пароль', submit: 'Задать пароль', done: 'Пароль задан', invalid: 'Это приглашение больше не действует', back: 'Перейти в Web App' },
  'zh-CN': { title: '设置您的密码', password: '密码', confirm: '再次输入密码', submit: '设置我的密码', done: '密码已设置', invalid: '此邀请已失效', back: '继续前往 Web App' },
  ko: { title: '비밀번호 설정', password: '비밀번호', confirm: '비밀번호 확인', submit: '비밀번호 설정', done: '비밀번호가 설정되었습니다', invalid: '이 초대는 더 이상 유효하지 않습니다', back: 'Web App\u2060(으)로 계속' },
} as const;

describe('the invitation page in headless Chromium (four languages, a real SMTP server)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let browser: Browser;
  let token: string;
  const operatorPage = consoleOperator(() => browser, 'invitation-console');

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('invitation_pages', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    token = await (await adminClient(gatehouse)).token();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  /** Creates a user in `locale` with an invitation back to the web app; the mailed link. */
  async function invite(locale: keyof typeof WORDS): Promise<{ link: string; html: string }> {
    const username = `inv-${locale.toLowerCase()}`;
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, email: `${username}@example.com`, locale });
    expect(created.status).to.equal(201);
    const sent = await callAdmin(gatehouse.url, token, 'POST', `/users/${created.body.id}/invitation`, { client_id: cast.web.clientId, redirect_uri: REDIRECT_URI });
    expect(sent.status).to.equal(202);
    let mail = await inbox.next();
    // The new address's confirmation link (no invite on create here) comes first.
    while (linkIn(mail.text) === undefined) mail = await inbox.next();
    return { link: linkIn(mail.text)!, html: String(mail.html) };
  }

  async function newPage(locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, extraHTTPHeaders: { 'accept-language': locale } });
    await context.route('https://app.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>app</title><p>back in the app</p>' }));
    return context.newPage();
  }

  it("sends an invitation from the console's user page, and says why it cannot (no address), in four languages", async function () {
    // Four console sign-ins (the first with the password form) and eight pages.
    this.timeout(180_000);
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, email: 'operator@example.com', emailVerified: true, roles: ['admin'] });
    const vera = await gatehouse.services.accounts.createUser({ username: 'vera', email: 'vera@example.com', emailVerified: true });
    const nomad = await gatehouse.services.accounts.createUser({ username: 'nomad' });
    const said = {
      en: { send: 'Send invitation', sent: 'Invitation sent to vera@example.com.', none: 'The user has no email address.', pending: 'Invitation pending', revoke: 'Revoke invitation', confirm: 'Revoke the invitation of vera', revoked: 'Invitation revoked: its link no longer works.' },
      ru: { send: 'Отправить приглашение', sent: 'Приглашение отправлено на vera@example.com.', none: 'У пользователя нет адреса электронной почты.', pending: 'Приглашение ожидает ответа', revoke: 'Отозвать приглашение', confirm: 'Отозвать приглашение пользователя vera', revoked: 'Приглашение отозвано: ссылка больше не действует.' },
      'zh-CN': { send: '发送邀请', sent: '邀请已发送至 vera@example.com。', none: '该用户没有电子邮件地址。', pending: '待接受的邀请', revoke: '撤销邀请', confirm: '撤销 vera 的邀请', revoked: '邀请已撤销：其链接已失效。' },
      ko: { send: '초대 보내기', sent: 'vera@example.com\u2060(으)로 초대를 보냈습니다.', none: '사용자에게 이메일 주소가 없습니다.', pending: '대기 중인 초대', revoke: '초대 취소', confirm: 'vera의 초대 취소', revoked: '초대를 취소했습니다. 링크는 더 이상 작동하지 않습니다.' },
    } as const;
    let first: Page | undefined;
    for (const locale of Object.keys(said) as Array<keyof typeof said>) {
      const page = await operatorPage(deploy.issuer, { locale, ...(first === undefined ? {} : { sessionOf: first }) });
      first ??= page;
      await page.goto(`${deploy.issuer}/console/#/users/${vera.id}`);
      await page.getByRole('button', { name: said[locale].send }).click();
      await page.getByText(said[locale].sent).waitFor();
      // The page shows the invitation now pending: when it was sent, until when it works; Resend and Revoke.
      await page.getByRole('heading', { name: said[locale].pending }).waitFor();
      expect(await seriousViolations(page), `${locale}: pending invitation`).to.deep.equal([]);
      await page.locator('.invitation').scrollIntoViewIfNeeded();
      await screenshot(page, `invitation-console-sent-${locale}`);
      const link = linkIn((await inbox.next()).text);
      expect(link, 'the mail went out').to.be.a('string');
      // An invitation sent before send times were kept (no issuedAt): its Sent row says so.
      const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
      await mongo.db!.collection('invitations').updateMany({ userId: vera.id }, { $unset: { issuedAt: '' } });
      await mongo.close();
      await page.reload();
      await page.getByRole('heading', { name: said[locale].pending }).waitFor();
      expect(await page.locator('.invitation dd').first().textContent(), `${locale}: the unknown send time`).to.equal(UNKNOWN_SENT[locale]);
      await page.locator('.invitation').scrollIntoViewIfNeeded();
      await screenshot(page, `invitation-console-sent-unknown-${locale}`);
      await page.getByRole('button', { name: said[locale].revoke, exact: true }).click();
      await page.getByRole('button', { name: said[locale].confirm }).click();
      await page.getByText(said[locale].revoked).waitFor();
      await page.getByRole('button', { name: said[locale].send }).waitFor();
      await screenshot(page, `invitation-console-revoked-${locale}`);
      expect((await fetch(link!)).status, 'the revoked link').to.equal(400);
      await page.goto(`${deploy.issuer}/console/#/users/${nomad.id}`);
      await page.getByRole('button', { name: said[locale].send }).click();
      await page.getByText(said[locale].none).waitFor();
      await screenshot(page, `invitation-console-refused-${locale}`);
    }
  });

  for (const locale of Object.keys(WORDS) as Array<keyof typeof WORDS>) {
    it(`sets the password from the emailed link in ${locale}: typed twice, the policy shown, then back to the application`, async () => {
      const words = WORDS[locale];
      const { link, html } = await invite(locale);
      const page = await newPage(locale);
      // The mail as its recipient sees it.
      await page.setContent(html);
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await screenshot(page, `invitation-mail-${locale}`);

      await page.goto(link);
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal(words.title);
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, `invitation-${locale}`);
      await page.getByLabel(words.password, { exact: true }).fill(CHOSEN);
      await page.getByLabel(words.confirm).fill(`${CHOSEN} typo`);
      await page.getByRole('button', { name: words.submit }).click();
      await page.getByRole('alert').waitFor();
      await screenshot(page, `invitation-mismatch-${locale}`);
      await page.getByLabel(words.password, { exact: true }).fill(CHOSEN);
      await page.getByLabel(words.confirm).fill(CHOSEN);
      await page.getByRole('button', { name: words.submit }).click();
      await page.getByRole('heading', { name: words.done }).waitFor();
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, `invitation-done-${locale}`);
      await page.getByRole('link', { name: words.back }).click();
      await page.waitForURL(REDIRECT_URI);

      await page.goto(link);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal(words.invalid);
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, `invitation-invalid-${locale}`);
      await page.context().close();
      expect((await gatehouse.services.accounts.authenticate(`inv-${locale.toLowerCase()}`, CHOSEN, '203.0.113.5')).ok, 'the password works').to.equal(true);
    });
  }
});
