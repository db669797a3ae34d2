import { expect } from 'chai';
import type { Browser, Response } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { consoleOperator, launchChromium, POLLING, screenshot, seriousViolations } from './browser.ts';

const SECRET = 'kc-client-secret-7d1f93aa';
const NEW_SECRET = 'kc-client-secret-rotated-55e0c2';

describe('admin console: upstream sign-in providers (headless Chromium)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let consoleUrl: string;

  before(async () => {
    deploy = await deployment('console-upstream');
    gatehouse = await deploy.start();
    consoleUrl = `${deploy.issuer}/console/`;
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    browser = await launchChromium();
  });
  const signedIn = consoleOperator(() => browser, 'console-upstream');
  const operatorPage = (width?: number) => signedIn(deploy.issuer, width === undefined ? {} : { width });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('creates a provider from a preset, shows the redirect URI, edits every field, never shows the secret back, deletes it; a user\'s link is listed and removed; all in the audit page', async function () {
    this.timeout(180_000);
    const page = await operatorPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Every admin API answer the console got, to prove no secret ever comes back.
    const answers: Promise<string>[] = [];
    page.on('response', (response: Response) => {
      if (new URL(response.url()).pathname.startsWith('/admin/api/v1/')) answers.push(response.text().catch(() => ''));
    });

    await page.getByRole('link', { name: 'Sign-in providers', exact: true }).click();
    await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
    await page.getByText('No upstream providers yet.').waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);

    // Keycloak preset without its realm URL: the API's 400 names base_url, shown under that field.
    await page.selectOption('#new-upstream-preset', 'keycloak');
    expect(await page.isVisible('#f-base_url')).to.equal(true);
    expect(await page.isVisible('#f-tenant')).to.equal(false);
    expect(await page.textContent('label[for="f-base_url"]')).to.equal('Realm URL');
    await page.fill('#f-alias', 'partner-kc');
    await page.fill('#f-client_id', 'gatehouse');
    await page.fill('#f-client_secret', SECRET);
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.locator('#f-base_url-error').filter({ hasText: 'realm URL' }).waitFor();
    expect(await page.getAttribute('#f-base_url', 'aria-invalid')).to.equal('true');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.fill('#f-base_url', 'https://kc.partner.example/realms/staff');
    await page.getByRole('button', { name: 'Add provider' }).click();

    // Its page: the redirect URI to register at Keycloak, the secret only as "set".
    await page.getByRole('heading', { name: 'Provider Keycloak', level: 1 }).waitFor();
    await page.getByText('Keycloak was added.').waitFor();
    const redirectUri = gatehouse.services.upstreamCallbackUrl('partner-kc');
    expect(await page.getByTestId('redirect-uri').textContent()).to.equal(redirectUri);
    expect(await page.getByTestId('post-logout-redirect-uri').textContent()).to.equal(gatehouse.services.upstreamLogoutCallbackUrl('partner-kc'));
    expect(await page.locator('main').textContent()).to.include('Currently set');
    expect(await page.inputValue('#f-client_secret')).to.equal('');
    expect(await page.getAttribute('#f-client_secret', 'type')).to.equal('password');
    expect(await page.inputValue('#f-issuer')).to.equal('https://kc.partner.example/realms/staff');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'console-upstream-created');

    // A claim name with a space: the 400 names claims.email and the message sits under that input.
    await page.fill('#f-claims\\.email', 'e mail');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.locator('[id="f-claims.email-error"]').waitFor();
    expect(await page.getAttribute('[id="f-claims.email"]', 'aria-invalid')).to.equal('true');
    // A mapping line without a role, or with a part empty, is caught before it is sent, on its line.
    await page.fill('#f-claims\\.email', 'mail');
    // A blank line is no rule, but counts as a line of the box: the error names the line as the box shows it.
    await page.fill('#f-role_mappings', 'realm_access.roles kc-admin admin\n\nbroken-line\ngroups = Order Admins ->  ');
    await page.getByRole('button', { name: 'Save provider' }).click();
    const ruleErrors = page.locator('#f-role_mappings-error');
    await ruleErrors.filter({ hasText: 'broken-line' }).waitFor();
    expect(await ruleErrors.textContent()).to.include('Line 4: "groups = Order Admins ->": the name after -> is empty');
    // The API's own refusal of a rule's role (role_mappings.1.role: two spaces in a row) is said on that rule's line too.
    await page.fill('#f-role_mappings', 'realm_access.roles kc-admin admin\n\ngroups = Team -> Order  Manager');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await ruleErrors.filter({ hasText: 'Line 3:' }).waitFor();
    // So is a rule with an arrow but no value, said as such.
    await page.fill('#f-role_mappings', 'groups = -> Order Manager');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await ruleErrors.filter({ hasText: '"groups = -> Order Manager": the value between = and -> is empty' }).waitFor();

    // Every field the API takes.
    await page.fill('#f-display_name', 'Partner Keycloak');
    await page.fill('#f-icon_url', 'https://kc.partner.example/icon.png');
    await page.fill('#f-scopes', 'openid profile email roles');
    await page.fill('#f-claims\\.username', 'email');
    // Rules as claim = value -> name: a role and a group whose names hold a space, a value too;
    // a line in the older claim value role form is still read.
    await page.fill('#f-role_mappings', 'realm_access.roles kc-admin admin\ngroups  =  Order Admins  ->  Order Manager');
    await page.fill('#f-group_mappings', 'department = Sales Team -> /Sales Team');
    await page.selectOption('#f-mapping_mode', 'first_sign_in');
    await page.selectOption('#f-token_endpoint_auth_method', 'client_secret_post');
    await page.uncheck('#f-create_accounts');
    await page.check('#f-link_by_email');
    await page.fill('#f-allowed_domains', 'partner.example staff.partner.example');
    await page.fill('#f-home_domains', 'partner.example');
    expect(await page.isVisible('#f-clients')).to.equal(false);
    await page.selectOption('#f-visibility', 'listed');
    await page.fill('#f-clients', 'crm-app\nwiki');
    await page.check('#f-upstream_logout');
    expect(await page.isChecked('#f-hide_on_login')).to.equal(false);
    await page.check('#f-hide_on_login');
    await page.uncheck('#f-enabled');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByRole('heading', { name: 'Provider Partner Keycloak', level: 1 }).waitFor();
    await page.getByText('Saved.').waitFor();
    const stored = (await gatehouse.services.upstream.get('partner-kc'))!;
    expect(stored).to.deep.include({
      display_name: 'Partner Keycloak',
      icon_url: 'https://kc.partner.example/icon.png',
      scopes: ['openid', 'profile', 'email', 'roles'],
      role_mappings: [
        { claim: 'realm_access.roles', value: 'kc-admin', role: 'admin' },
        { claim: 'groups', value: 'Order Admins', role: 'Order Manager' },
      ],
      group_mappings: [{ claim: 'department', value: 'Sales Team', group: '/Sales Team' }],
      mapping_mode: 'first_sign_in',
      token_endpoint_auth_method: 'client_secret_post',
      create_accounts: false,
      link_by_email: true,
      allowed_domains: ['partner.example', 'staff.partner.example'],
      home_domains: ['partner.example'],
      clients: ['crm-app', 'wiki'],
      upstream_logout: true,
      hide_on_login: true,
      enabled: false,
    });
    expect(stored.claims).to.include({ username: 'email', email: 'mail', subject: 'sub' });
    // "Added" was said once, right after creation.
    expect(await page.getByText('was added').count()).to.equal(0);
    // The form shows what was saved, rules as lines in the new form.
    expect(await page.inputValue('#f-role_mappings')).to.equal('realm_access.roles = kc-admin -> admin\ngroups = Order Admins -> Order Manager');
    expect(await page.inputValue('#f-group_mappings')).to.equal('department = Sales Team -> /Sales Team');
    expect(await page.isVisible('#f-clients')).to.equal(true);

    // A new secret: write-only, the field is empty again and the secret is still only "set".
    await page.fill('#f-client_secret', NEW_SECRET);
    await page.getByRole('button', { name: 'Save provider' }).click();
    // The page is drawn anew after the save: the secret field comes back empty.
    await page.waitForFunction(() => (document.getElementById('f-client_secret') as HTMLInputElement | null)?.value === '', undefined, POLLING);
    await page.getByText('Saved.').waitFor();
    expect(await page.locator('main').textContent()).to.include('Currently set').and.not.include(NEW_SECRET);
    const updates = await gatehouse.services.audit.query({ types: ['upstream_provider.updated'], limit: 10 });
    expect(updates.events.map((event) => (event.details as { fields: string[] }).fields)).to.deep.include(['client_secret']);
    expect(JSON.stringify(updates.events)).to.not.include(NEW_SECRET);
    await screenshot(page, 'console-upstream-edited');

    // The list: name, alias, kind, status, visibility.
    await page.getByRole('link', { name: 'All sign-in providers' }).click();
    const row = page.locator('tbody tr').filter({ hasText: 'partner-kc' });
    await row.waitFor();
    expect(await row.textContent()).to.include('Partner Keycloak').and.include('OpenID Connect').and.include('Disabled').and.include('2 listed clients').and.include('hidden on sign-in');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'console-upstream-list');

    // A user's link to it (as a brokered sign-in makes one): listed on the user's page and removed.
    const kim = await gatehouse.services.accounts.createUser({ username: 'kim', password: PASSWORD });
    await gatehouse.services.upstream.link('partner-kc', 'kc-sub-4242', kim.id, 'kim@partner.example');
    await page.goto(`${consoleUrl}#/users/${kim.id}`);
    const linkRow = page.locator('tbody tr').filter({ hasText: 'kc-sub-4242' });
    await linkRow.waitFor();
    expect(await linkRow.getByRole('link', { name: 'partner-kc' }).getAttribute('href')).to.equal('#/upstream/partner-kc');
    expect(await linkRow.textContent()).to.include('kim@partner.example');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await linkRow.getByRole('button', { name: 'Remove link' }).click();
    await linkRow.getByRole('button', { name: 'Yes, remove the partner-kc link' }).click();
    await page.getByText('Link removed').waitFor();
    expect(await gatehouse.services.upstream.linksOf(kim.id)).to.deep.equal([]);

    // Delete with confirmation.
    await page.goto(`${consoleUrl}#/upstream/partner-kc`);
    await page.getByRole('heading', { name: 'Provider Partner Keycloak', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete provider' }).click();
    await page.getByRole('button', { name: 'Yes, delete partner-kc and its links' }).click();
    await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
    await page.getByText('No upstream providers yet.').waitFor();
    expect(await gatehouse.services.upstream.get('partner-kc')).to.equal(undefined);

    // The audit page shows each action, by the operator.
    for (const type of ['upstream_provider.created', 'upstream_provider.updated', 'upstream_provider.deleted', 'user.upstream_unlinked']) {
      await page.goto(`${consoleUrl}#/audit?type=${type}`);
      await page.waitForFunction((wanted) => [...document.querySelectorAll('tbody tr td:nth-child(2)')].some((cell) => cell.textContent === wanted), type, POLLING);
      const first = page.locator('tbody tr').first();
      expect(await first.textContent(), type).to.include('operator');
    }

    // Nothing the console received holds either secret.
    const bodies = await Promise.all(answers);
    expect(bodies.some((body) => body.includes('partner-kc'))).to.equal(true);
    expect(bodies.filter((body) => body.includes(SECRET) || body.includes(NEW_SECRET))).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });

  it('every preset creates through the API with its own fields; custom OAuth 2.0 asks for its endpoints', async function () {
    this.timeout(120_000);
    const page = await operatorPage();
    const create = async (preset: string, alias: string, extra: Record<string, string> = {}) => {
      await page.goto(`${consoleUrl}#/upstream`);
      await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
      await page.selectOption('#new-upstream-preset', preset);
      await page.fill('#f-alias', alias);
      await page.fill('#f-client_id', `${alias}-client`);
      await page.fill('#f-client_secret', 'a-secret-of-sorts');
      for (const [field, value] of Object.entries(extra)) await page.fill(`#f-${field}`, value);
      await page.getByRole('button', { name: 'Add provider' }).click();
      await page.getByTestId('redirect-uri').waitFor();
      return (await gatehouse.services.upstream.get(alias))!;
    };
    expect(await create('google', 'google')).to.include({ kind: 'oidc', issuer: 'https://accounts.google.com', display_name: 'Google' });
    expect(await create('microsoft', 'entra', { tenant: 'contoso.onmicrosoft.com' })).to.include({ issuer: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0' });
    expect(await create('github', 'github')).to.include({ kind: 'oauth2', token_endpoint: 'https://github.com/login/oauth/access_token' });
    expect(await create('gitlab', 'gitlab', { base_url: 'https://git.example.com' })).to.include({ issuer: 'https://git.example.com' });
    expect(await create('oidc', 'corp', { issuer: 'https://sso.corp.example', display_name: 'Corp SSO' })).to.include({ kind: 'oidc', issuer: 'https://sso.corp.example', display_name: 'Corp SSO' });
    // Custom OAuth 2.0 without its user info endpoint: the 400 names it, under its field.
    await page.goto(`${consoleUrl}#/upstream`);
    await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
    await page.selectOption('#new-upstream-preset', 'oauth2');
    expect(await page.isVisible('#f-issuer')).to.equal(false);
    await page.fill('#f-alias', 'legacy');
    await page.fill('#f-client_id', 'legacy-client');
    await page.fill('#f-authorization_endpoint', 'https://legacy.example/authorize');
    await page.fill('#f-token_endpoint', 'https://legacy.example/token');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.locator('#f-userinfo_endpoint-error').waitFor();
    await page.fill('#f-userinfo_endpoint', 'https://legacy.example/me');
    await page.fill('#f-client_secret', 'legacy-secret');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByRole('heading', { name: 'Provider legacy', level: 1 }).waitFor();
    // An oauth2 provider has no issuer field; its endpoints are edited directly.
    expect(await page.locator('#f-issuer').count()).to.equal(0);
    expect(await page.inputValue('#f-userinfo_endpoint')).to.equal('https://legacy.example/me');
    // A taken alias is reported at the alias field.
    await page.goto(`${consoleUrl}#/upstream`);
    await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
    await page.selectOption('#new-upstream-preset', 'google');
    await page.fill('#f-alias', 'google');
    await page.fill('#f-client_id', 'again');
    await page.fill('#f-client_secret', 'again-secret');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.locator('#f-alias-error').waitFor();
    expect(await page.locator('tbody tr').count()).to.equal(6);
    // The admin API never returns a secret, in the list or one by one.
    const ops = await adminClient(gatehouse, 'upstream-check');
    const listed = await callAdmin(deploy.issuer, await ops.token(), 'GET', '/upstream-providers');
    expect(JSON.stringify(listed.body)).to.not.include('a-secret-of-sorts').and.not.include('legacy-secret');
    expect((listed.body as Array<{ has_secret: boolean }>).every((provider) => provider.has_secret)).to.equal(true);
    await page.context().close();
  });

  it('keyboard only at 390 px: choose a preset, fill the form, add, and delete with confirmation', async function () {
    this.timeout(90_000);
    const page = await operatorPage(390);
    await page.goto(`${consoleUrl}#/upstream`);
    await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || '');
    const tabTo = async (target: string, key = 'Tab') => {
      for (let i = 0; i < 60; i += 1) {
        if ((await focused()) === target) return;
        await page.keyboard.press(key);
      }
      throw new Error(`never reached ${target}`);
    };
    await tabTo('new-upstream-preset');
    // A closed select changes with the arrow keys: google → microsoft → github.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.inputValue('#new-upstream-preset')).to.equal('github');
    await page.keyboard.press('Tab');
    expect(await focused()).to.equal('f-alias');
    await page.keyboard.type('gh');
    await tabTo('f-client_id');
    await page.keyboard.type('gh-client');
    await page.keyboard.press('Tab');
    await page.keyboard.type('gh-secret');
    await tabTo('Add provider');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Provider GitHub', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.tagName)).to.equal('H1');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).to.be.at.most(0);
    await screenshot(page, 'console-upstream-390-item');
    await tabTo('Delete provider');
    await page.keyboard.press('Enter');
    expect(await focused()).to.equal('Yes, delete gh and its links');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Upstream sign-in providers', level: 1 }).waitFor();
    expect(await gatehouse.services.upstream.get('gh')).to.equal(undefined);
    await page.context().close();
  });
});
