import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';
import { consoleOperator, launchChromium, screenshot, seriousViolations, settingsPageInEveryLocale } from './browser.ts';

describe('console: Sign-in & self-service (headless Chromium, two instances)', function () {
  this.timeout(240_000);
  let inbox: Inbox;
  let browser: Browser;
  let main: TwoInstances;

  before(async () => {
    inbox = await startInbox();
    main = await twoInstances('settings_console', { operator: true, mail: inbox });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await main?.stop();
    await inbox?.close();
  });

  const operatorPage = consoleOperator(() => browser, 'sign-in-settings');

  /** The sign-in page instance B serves for a new authorization request, in a browser of its own. */
  async function signInPageOnB(): Promise<Page> {
    const page = await (await browser.newContext({ locale: 'en' })).newPage();
    await page.goto(main.authorizationUrl(main.b));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    return page;
  }

  async function createAccountShownOnB(): Promise<boolean> {
    const page = await signInPageOnB();
    const shown = (await page.getByRole('link', { name: 'Create account' }).count()) > 0;
    await page.context().close();
    return shown;
  }

  it('switching self-registration on in the console shows "Create account" on the sign-in page; off, it is gone and the registration URL refuses', async () => {
    expect(await createAccountShownOnB()).to.equal(false);
    const page = await operatorPage(main.deploy.issuer);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Sign-in & self-service' }).click();
    await page.getByRole('heading', { name: 'Sign-in & self-service', level: 1 }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'sign-in-settings-en');

    await page.getByLabel('People can create their own account').check();
    await page.getByLabel('Allowed email domains').fill('example.com, example.org');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    expect(await page.getByLabel('People can create their own account').isChecked()).to.equal(true);
    expect(await page.getByText('Changed here (default: No).').count()).to.equal(1);

    // Instance B follows (Redis notice) and its sign-in page links to registration.
    await within(NOTICE_MS, createAccountShownOnB);
    const signIn = await signInPageOnB();
    await signIn.getByRole('link', { name: 'Create account' }).click();
    await signIn.getByRole('heading', { name: 'Create account' }).waitFor();
    const registerUrl = signIn.url();
    expect(await signIn.locator('main').innerText()).to.include('example.com, example.org');

    // A bad value is named under its field; nothing is saved.
    await page.getByLabel('Verification link lifetime (seconds)').fill('5');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').filter({ hasText: 'Verification link lifetime (seconds): must be at least 60' }).waitFor();
    expect(await page.getByLabel('Verification link lifetime (seconds)').getAttribute('aria-invalid')).to.equal('true');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.getByLabel('Verification link lifetime (seconds)').fill('86400');

    await page.getByLabel('People can create their own account').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await within(NOTICE_MS, async () => !(await createAccountShownOnB()));
    const refused = await signIn.goto(registerUrl);
    expect(refused?.status(), 'the registration URL refuses once it is off').to.equal(404);
    await screenshot(signIn, 'sign-in-settings-register-refused');
    await signIn.context().close();

    // The domains were changed here: one confirmed action returns them to the default.
    await page.getByRole('button', { name: 'Restore defaults' }).click();
    await page.getByRole('button', { name: 'Yes, restore the defaults' }).click();
    await page.getByText('Defaults restored.').waitFor();
    expect(await page.getByLabel('Allowed email domains').inputValue()).to.equal('');
    expect(await page.getByRole('button', { name: 'Restore defaults' }).count(), 'nothing left to restore').to.equal(0);
    const view = await main.a.services.signInSettings.read();
    expect(view.stored, 'nothing stored any more').to.deep.equal({});

    await main.a.audit.flush();
    const { events } = await main.a.services.audit.query({ types: ['settings.updated'], limit: 10 });
    expect(events.map((event) => event.details)).to.deep.include({ fields: ['self_registration'], before: { self_registration: true }, after: { self_registration: false } });
    expect(events.every((event) => event.actor.type === 'user')).to.equal(true);
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });

  it('in en, ru, zh-CN and ko at 1280 and 390 px: no serious axe violations, nothing wider than the screen', async () => {
    await settingsPageInEveryLocale(operatorPage, main.deploy.issuer, { route: 'settings/sign-in', drawn: '#f-password_reset_ttl', keys: /signInSettings\./, name: 'sign-in-settings' });
  });

  describe('with environment pins', () => {
    let pinned: TwoInstances;
    before(async () => {
      pinned = await twoInstances('settings_console_pinned', { operator: true, mail: inbox, settings: { GATEHOUSE_PASSWORD_RESET: 'false' } });
    });
    after(() => pinned?.stop());

    it('shows a pinned setting locked, with its variable, and saves the others', async () => {
      const page = await operatorPage(pinned.deploy.issuer);
      await page.goto(`${pinned.deploy.issuer}/console/#/settings/sign-in`);
      const reset = page.getByLabel('Offer “Forgot password?”');
      await reset.waitFor();
      expect(await reset.isDisabled()).to.equal(true);
      expect(await reset.isChecked()).to.equal(false);
      expect(await page.locator('#f-password_reset-hint').innerText()).to.include('GATEHOUSE_PASSWORD_RESET');
      expect(await page.getByLabel('People can create their own account').isDisabled()).to.equal(false);
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, 'sign-in-settings-pinned');

      await page.getByLabel('Require a confirmed email address before sign-in').selectOption('all');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByText('Settings saved.').waitFor();
      expect((await pinned.a.services.signInSettings.read()).settings).to.include({ require_verified_email: 'all', password_reset: false });
      // What was changed here can be restored; the card says which settings.
      expect(await page.locator('#restore-defaults-heading + p').innerText()).to.include('require_verified_email');
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, 'sign-in-settings-restore');
      await page.context().close();
    });
  });
});
