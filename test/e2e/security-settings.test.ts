import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';
import { consoleOperator, launchChromium, screenshot, seriousViolations, settingsPageInEveryLocale } from './browser.ts';

describe('console: Password & sign-in security (headless Chromium, two instances)', function () {
  this.timeout(240_000);
  let browser: Browser;
  let main: TwoInstances;

  before(async () => {
    main = await twoInstances('security_console', { operator: true });
    // The MFA requirement names only roles that exist.
    await main.a.services.roles.ensure(['finance', 'auditors']);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await main?.stop();
  });

  const operatorPage = consoleOperator(() => browser, 'security-settings');

  it('changes the password policy, brute-force detection and the MFA requirement; the other instance follows; a bad value is named at its field', async () => {
    const page = await operatorPage(main.deploy.issuer);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Password & sign-in security' }).click();
    await page.getByRole('heading', { name: 'Password & sign-in security', level: 1 }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    expect(await page.getByLabel('Minimum length (characters)').inputValue()).to.equal('8');
    expect(await page.locator('#f-password_min_length-hint').innerText()).to.include('GATEHOUSE_PASSWORD_MIN_LENGTH');

    await page.getByLabel('Minimum length (characters)').fill('12');
    await page.getByLabel('Digits', { exact: true }).fill('2');
    await page.getByLabel('Not the username').check();
    await page.getByLabel('Password history').fill('3');
    await page.getByRole('button', { name: 'Save password policy' }).click();
    await page.locator('#group-password-policy').getByText('Settings saved.').waitFor();
    expect(await page.getByLabel('Minimum length (characters)').inputValue()).to.equal('12');
    expect(await page.getByLabel('Not the username').isChecked()).to.equal(true);
    expect(await page.locator('#f-password_min_length-hint').innerText()).to.include('Changed here (default: 8).');
    expect(await page.locator('#f-password_not_username-hint').innerText()).to.include('Changed here (default: off).');
    await within(NOTICE_MS, async () => {
      const policy = await main.b.services.runtimeSettings.passwordPolicy.current();
      return policy.password_min_length === 12 && policy.password_digits === 2 && policy.password_not_username && policy.password_history === 3;
    });

    // The longest lock may not be shorter than the first: refused, named under its field, nothing saved.
    await page.getByLabel('Failures from one address against one account').fill('3');
    await page.getByLabel('Longest lock (seconds)').fill('30');
    await page.getByRole('button', { name: 'Save brute-force detection' }).click();
    await page.getByRole('alert').filter({ hasText: 'Longest lock (seconds): must be at least the first lock' }).first().waitFor();
    expect(await page.getByLabel('Longest lock (seconds)').getAttribute('aria-invalid')).to.equal('true');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'security-settings-invalid');
    expect((await main.a.services.runtimeSettings.bruteForce.read()).stored).to.deep.equal({});
    await page.getByLabel('Longest lock (seconds)').fill('86400');
    await page.getByRole('button', { name: 'Save brute-force detection' }).click();
    await page.locator('#group-brute-force').getByText('Settings saved.').waitFor();
    await within(NOTICE_MS, async () => (await main.b.services.runtimeSettings.bruteForce.current()).lockout_threshold === 3);

    await page.getByLabel('Roles that require a second factor').fill('finance, auditors');
    await page.getByRole('button', { name: 'Save multi-factor requirement' }).click();
    await page.locator('#group-mfa').getByText('Settings saved.').waitFor();
    await within(NOTICE_MS, async () => (await main.b.services.runtimeSettings.mfa.current()).mfa_required_roles.join() === 'finance,auditors');
    await page.getByLabel('Code length (digits)').selectOption('8');
    await page.getByLabel('Algorithm').selectOption('SHA256');
    await page.getByRole('button', { name: 'Save OTP policy' }).click();
    await page.locator('#group-otp').getByText('Settings saved.').waitFor();
    await within(NOTICE_MS, async () => {
      const otp = await main.b.services.runtimeSettings.otpPolicyNow();
      return otp.digits === 8 && otp.algorithm === 'SHA256' && otp.period === 30;
    });
    await screenshot(page, 'security-settings-saved');

    // What was changed here goes back to its default with one confirmed action per card.
    await page.getByRole('button', { name: 'Restore the default policy' }).click();
    await page.getByRole('button', { name: 'Yes, restore the defaults' }).click();
    await page.locator('#group-password-policy').getByText('Defaults restored.').waitFor();
    expect(await page.getByLabel('Minimum length (characters)').inputValue()).to.equal('8');

    await main.a.audit.flush();
    const { events } = await main.a.services.audit.query({ types: ['settings.updated'], limit: 10 });
    expect(events.map((event) => event.target?.id)).to.have.members(['password-policy', 'brute-force', 'mfa', 'otp', 'password-policy']);
    expect(events.every((event) => event.actor.type === 'user')).to.equal(true);
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });

  it('in en, ru, zh-CN and ko at 1280 and 390 px: no serious axe violations, nothing wider than the screen', async () => {
    await settingsPageInEveryLocale(operatorPage, main.deploy.issuer, { route: 'settings/security', drawn: '#f-otp_look_ahead', keys: /securitySettings\.|signInSettings\./, name: 'security-settings' });
  });

  describe('with environment pins', () => {
    let pinned: TwoInstances;
    before(async () => {
      pinned = await twoInstances('security_console_pinned', { operator: true, settings: { GATEHOUSE_LOCKOUT_THRESHOLD: '4', GATEHOUSE_PASSWORD_MIN_LENGTH: '10', GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', GATEHOUSE_MFA_REQUIRED_GROUPS: 'ops' } });
    });
    after(() => pinned?.stop());

    it('shows pinned settings locked with their variable; a card whose only setting is pinned has no save button', async () => {
      const page = await operatorPage(pinned.deploy.issuer);
      await page.goto(`${pinned.deploy.issuer}/console/#/settings/security`);
      const threshold = page.getByLabel('Failures from one address against one account');
      await threshold.waitFor();
      expect(await threshold.isDisabled()).to.equal(true);
      expect(await threshold.inputValue()).to.equal('4');
      expect(await page.locator('#f-lockout_threshold-hint').innerText()).to.include('GATEHOUSE_LOCKOUT_THRESHOLD');
      expect(await page.getByLabel('Minimum length (characters)').isDisabled()).to.equal(true);
      expect(await page.getByLabel('Digits', { exact: true }).isDisabled(), 'the rest of the card stays editable').to.equal(false);
      expect(await page.getByRole('button', { name: 'Save password policy' }).count()).to.equal(1);
      expect(await page.getByLabel('Roles that require a second factor').isDisabled()).to.equal(true);
      expect(await page.getByRole('button', { name: 'Save multi-factor requirement' }).count()).to.equal(0);
      expect(await page.getByLabel('Counting window (seconds)').isDisabled()).to.equal(false);
      // A locked field looks locked: not the white (dark: black) of a field one can type in.
      const background = (label: string) => page.getByLabel(label).evaluate((field) => getComputedStyle(field).backgroundColor);
      expect(await background('Failures from one address against one account'), 'a pinned field').to.not.equal(await background('Counting window (seconds)'));
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, 'security-settings-pinned');

      await page.getByLabel('Counting window (seconds)').fill('600');
      await page.getByRole('button', { name: 'Save brute-force detection' }).click();
      await page.locator('#group-brute-force').getByText('Settings saved.').waitFor();
      expect((await pinned.a.services.runtimeSettings.bruteForce.read()).settings).to.include({ lockout_window: 600, lockout_threshold: 4 });
      await page.context().close();
    });
  });
});
