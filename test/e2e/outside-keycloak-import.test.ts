import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { spawnCli } from '../helpers/process.ts';
import { launchChromium, reportFailedPage, screenshot } from './browser.ts';
import { cliEnv, operator, startCodeFlow, type Operator } from './outside.ts';
import { RelyingPartyServer } from './relying-party.ts';

const REALM = 'acme';
const FIXTURES = fileURLToPath(new URL('../fixtures/keycloak/', import.meta.url));
/** Realm settings as Keycloak 26.7.3 exported them (realm-export-settings.json, the `policies` realm). */
const SETTINGS = [
  'passwordPolicy',
  'bruteForceProtected', 'permanentLockout', 'failureFactor', 'waitIncrementSeconds', 'maxFailureWaitSeconds', 'maxDeltaTimeSeconds', 'quickLoginCheckMilliSeconds', 'minimumQuickLoginWaitSeconds',
  'otpPolicyType', 'otpPolicyAlgorithm', 'otpPolicyDigits', 'otpPolicyPeriod', 'otpPolicyLookAheadWindow',
  'registrationAllowed', 'resetPasswordAllowed', 'verifyEmail', 'rememberMe', 'loginWithEmailAllowed',
  'accessTokenLifespan', 'ssoSessionIdleTimeout', 'ssoSessionMaxLifespan', 'actionTokenGeneratedByUserLifespan',
  'internationalizationEnabled', 'supportedLocales', 'defaultLocale', 'smtpServer',
] as const;
const SMTP_PASSWORD = 'smtp-secret-0123456789';

/**
 * From outside: an operator moves a Keycloak realm over with `gatehouse import --keycloak` (the CLI
 * as a process), a dry run first, then for real; the realm is Keycloak's own export of `acme`
 * (clients, roles, groups, users with their hashes) with the realm settings of Keycloak's
 * `policies` export (password policy, brute force, OTP, login options, SMTP) and a user Keycloak
 * marked UPDATE_PASSWORD. Then the migrated app — openid-client against the Keycloak URL layout —
 * signs the imported users in with their Keycloak passwords in Chromium.
 */
describe('outside: gatehouse import --keycloak of a realm with its settings, then the imported users sign in', function () {
  this.timeout(150_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let ops: Operator;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let dir: string;
  let file: string;
  let issuer: string;

  before(async () => {
    await rp.start();
    deploy = await deployment('outside_kc', { settings: { GATEHOUSE_KEYCLOAK_REALM: REALM } });
    gatehouse = await deploy.start();
    issuer = `${deploy.issuer}/realms/${REALM}`;
    ops = await operator(deploy);
    browser = await launchChromium();

    const realm = JSON.parse(readFileSync(join(FIXTURES, 'realm-export.json'), 'utf8')) as Record<string, any>;
    const policies = JSON.parse(readFileSync(join(FIXTURES, 'realm-export-settings.json'), 'utf8')) as Record<string, any>;
    for (const key of SETTINGS) realm[key] = policies[key];
    realm.attributes = { ...realm.attributes, 'actionTokenGeneratedByUserLifespan.reset-credentials': '900' };
    // The operator's own app: the portal's callback is where this test's app listens.
    const portal = (realm.clients as Array<Record<string, any>>).find((client) => client.clientId === 'portal')!;
    portal.redirectUris = [`${rp.origin}/oauth/callback`];
    // Keycloak's "Required user actions: Update Password" on one user.
    (realm.users as Array<Record<string, any>>).find((user) => user.username === 'dee-pbkdf2')!.requiredActions = ['UPDATE_PASSWORD'];
    dir = mkdtempSync(join(tmpdir(), 'outside-kc-'));
    file = join(dir, 'acme-realm.json');
    writeFileSync(file, JSON.stringify(realm, null, 2));
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, 'outside-keycloak-import-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const values = async (group: string) =>
    Object.fromEntries(Object.entries((await ops.call('GET', `/settings/${group}`)).body.settings as Record<string, { value: unknown }>).map(([name, setting]) => [name, setting.value]));

  it('the dry run lists users, clients and settings that would change, the SMTP server without its password, and changes nothing', async () => {
    const dry = await spawnCli(['import', '--keycloak', file, '--dry-run'], cliEnv(deploy));
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include('password_min_length: 8 → 12 (passwordPolicy length(12))');
    expect(dry.stdout).to.include('lockout_account_threshold: 20 → 7 (failureFactor 7)');
    expect(dry.stdout).to.include('users: 5 new, 0 updated');
    expect(dry.stdout).to.match(/GATEHOUSE_SMTP_URL=smtp:\/\/mailer:<password>@smtp\.acme\.test:587/);
    expect(dry.stdout + dry.stderr).not.to.include(SMTP_PASSWORD);
    expect(await values('password-policy')).to.include({ password_min_length: 8 });
    expect((await ops.call('GET', '/users?q=ada')).body.users).to.deep.equal([]);
    expect((await ops.call('GET', '/clients/portal')).status).to.equal(404);
  });

  it('the import applies them: settings, users with their Keycloak hashes, UPDATE_PASSWORD as update_password', async () => {
    // README step 1: --api gives the imported apps Keycloak's kind of access token, a JWT.
    const real = await spawnCli(['import', '--keycloak', file, '--api', `${issuer}/api`], cliEnv(deploy));
    expect(real.code, real.stderr).to.equal(0);
    expect(real.stdout + real.stderr).not.to.include(SMTP_PASSWORD);
    expect(await values('password-policy')).to.include({ password_min_length: 12, password_max_length: 64, password_digits: 1, password_uppercase: 1, password_special: 1, password_not_username: true, password_history: 3 });
    expect(await values('brute-force')).to.include({ lockout_account_threshold: 7, lockout_max_seconds: 1800, lockout_window: 7200 });
    expect(await values('otp')).to.include({ otp_digits: 8, otp_period: 60, otp_algorithm: 'SHA256', otp_look_ahead: 2 });
    const [dee] = (await ops.call('GET', '/users?q=dee-pbkdf2')).body.users as Array<{ id: string }>;
    expect((await ops.call('GET', `/users/${dee!.id}`)).body.required_actions).to.deep.equal(['update_password']);
    expect((await ops.call('GET', '/clients/portal')).body).to.include({ token_claims: 'keycloak' });
  });

  it('the migrated app signs ada in with her Keycloak password (Keycloak URL layout, openid-client, code + PKCE)', async () => {
    const app = await oidc.discovery(new URL(issuer), 'portal', { client_secret: 'portal-secret-0123456789abcdef' }, undefined, { execute: [oidc.allowInsecureRequests] });
    expect(app.serverMetadata().authorization_endpoint).to.equal(`${issuer}/protocol/openid-connect/auth`);
    context = await browser.newContext({ locale: 'en' });
    page = await context.newPage();
    const flow = await startCodeFlow(page, app, `${rp.origin}/oauth/callback`);
    await page.fill('#username', 'ada-argon2');
    await page.fill('#password', 'Argon2 password #1');
    await page.click('button.primary');
    const tokens = await flow.finish();
    expect(tokens.claims()).to.include({ iss: issuer, preferred_username: 'ada-argon2', email: 'ada-argon2@acme.test' });
    // token_claims: keycloak — Keycloak's claims, the groups' roles included.
    const access = decodeJwt(tokens.access_token);
    expect((access.realm_access as { roles: string[] } | undefined)?.roles).to.include('editor');
  });

  it('dee, marked UPDATE_PASSWORD in Keycloak, chooses a new password under the imported policy before the app gets tokens', async () => {
    const app = await oidc.discovery(new URL(issuer), 'portal', { client_secret: 'portal-secret-0123456789abcdef' }, undefined, { execute: [oidc.allowInsecureRequests] });
    await context?.close();
    context = await browser.newContext({ locale: 'en' });
    page = await context.newPage();
    const flow = await startCodeFlow(page, app, `${rp.origin}/oauth/callback`);
    await page.fill('#username', 'dee-pbkdf2');
    await page.fill('#password', 'Pbkdf2 sha1 password #4');
    await page.click('button.primary');
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    // Keycloak's policy now: 12 characters at least, a digit, an uppercase letter, a special character.
    await page.fill('#password', 'twelve chars long 1');
    await page.fill('#confirm', 'twelve chars long 1');
    await page.click('button.primary');
    await page.waitForSelector('#password-error');
    await screenshot(page, 'outside-keycloak-policy-refused-en');
    expect(await page.textContent('#password-error')).to.match(/uppercase/);
    await page.fill('#password', 'Migrated to Gatehouse #2026');
    await page.fill('#confirm', 'Migrated to Gatehouse #2026');
    await page.click('button.primary');
    const tokens = await flow.finish();
    expect(tokens.claims()).to.include({ preferred_username: 'dee-pbkdf2' });
    const [dee] = (await ops.call('GET', '/users?q=dee-pbkdf2')).body.users as Array<{ id: string }>;
    expect((await ops.call('GET', `/users/${dee!.id}`)).body.required_actions).to.deep.equal([]);
  });
});
