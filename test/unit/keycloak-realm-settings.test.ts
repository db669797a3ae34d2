import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { UnmappedItem } from '../../src/keycloak/export-json.ts';
import { mapRealmSettings, passwordPolicyTerms, type PlannedRealmSettings } from '../../src/keycloak/map-realm-settings.ts';
import { planKeycloakRealm } from '../../src/keycloak/realm-import.ts';
import { settingsSchema } from '../../src/config/schema.ts';

type Json = Record<string, unknown>;
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/keycloak/${name}`, import.meta.url), 'utf8')) as Json;
/** Realm settings as a real Keycloak 26.7.3 exported them: its defaults (realm-export.json), and a realm with every policy set (realm-export-settings.json). */
const DEFAULTS = fixture('realm-export.json');
const POLICIES = fixture('realm-export-settings.json');
const USERS_NOTES = new Set(['duplicateEmailsAllowed true', 'registrationEmailAsUsername true']);

function mapped(document: Json): { plan: PlannedRealmSettings; unmapped: UnmappedItem[]; values: Record<string, unknown>; reason: (name: string) => string | undefined } {
  const unmapped: UnmappedItem[] = [];
  const plan = mapRealmSettings(document, unmapped);
  const values = Object.fromEntries(plan.settings.map((one) => [one.setting, one.value]));
  const reason = (name: string) => unmapped.find((item) => item.name === name)?.reason;
  // Notes about the realm's users rather than a setting are of their own kind: --no-realm-settings keeps them.
  for (const item of unmapped) expect(item.kind, item.name).to.equal(USERS_NOTES.has(item.name) ? 'realm' : 'realm setting');
  return { plan, unmapped, values, reason };
}

describe('Keycloak realm settings → Gatehouse runtime settings (pure)', () => {
  it('reads a password policy as Keycloak writes it, terms with and without a value', () => {
    expect(passwordPolicyTerms('length(12) and digits(1) and notUsername(undefined) and regexPattern(^(a|b)+$) and hashAlgorithm(pbkdf2-sha512)')).to.deep.equal([
      { name: 'length', config: '12', term: 'length(12)' },
      { name: 'digits', config: '1', term: 'digits(1)' },
      { name: 'notUsername', config: undefined, term: 'notUsername(undefined)' },
      { name: 'regexPattern', config: '^(a|b)+$', term: 'regexPattern(^(a|b)+$)' },
      { name: 'hashAlgorithm', config: 'pbkdf2-sha512', term: 'hashAlgorithm(pbkdf2-sha512)' },
    ]);
  });

  it("maps the exported password policy onto the password-policy group: each rule it has, the rules it lacks back to their default, the others reported by name", () => {
    expect(POLICIES.passwordPolicy).to.be.a('string').and.match(/hashIterations\(27500\)/);
    const { plan, values, reason } = mapped(POLICIES);
    expect(values).to.include({
      password_min_length: 12,
      password_max_length: 64,
      password_digits: 1,
      password_uppercase: 1,
      password_special: 1,
      password_not_username: true,
      password_not_email: true,
      password_history: 3,
      password_lowercase: null,
    });
    expect(plan.settings.filter((one) => one.group === 'password-policy')).to.have.length(9);
    expect(plan.settings.find((one) => one.setting === 'password_min_length')!.keycloak).to.equal('passwordPolicy length(12)');
    expect(reason('passwordPolicy hashIterations(27500)')).to.match(/argon2id/);
    expect(reason('passwordPolicy regexPattern(^[^ ]+$)')).to.match(/no pattern rule/);
    expect(reason('passwordPolicy forceExpiredPasswordChange(365)')).to.match(/do not expire/);
  });

  it('reports a policy value Gatehouse does not take instead of applying it, and Keycloak\'s defaults for terms without one', () => {
    const { values, reason } = mapped({ passwordPolicy: 'length(6) and digits and passwordHistory(undefined) and maxLength(x)' });
    expect(values).to.not.have.property('password_min_length');
    expect(reason('passwordPolicy length(6)')).to.match(/^not applied: Gatehouse's password_min_length .*8/);
    expect(values).to.include({ password_digits: 1, password_history: 3 });
    expect(reason('passwordPolicy maxLength(x)')).to.match(/not a whole number/);
    // Not named, not taken: the maximum stays as it is rather than going back to the default.
    expect(values).to.not.have.property('password_max_length');
  });

  it('leaves the password policy alone when the realm has none (a Keycloak 26 default export)', () => {
    expect(DEFAULTS.passwordPolicy).to.equal(undefined);
    const { plan } = mapped(DEFAULTS);
    expect(plan.settings.filter((one) => one.group === 'password-policy')).to.deep.equal([]);
  });

  it('maps brute force detection onto the account lock, when Keycloak had it on', () => {
    const { values, reason, plan } = mapped(POLICIES);
    expect(values).to.include({ lockout_account_threshold: 7, lockout_seconds: 120, lockout_max_seconds: 1800, lockout_window: 7200 });
    // Gatehouse's (account, IP) and IP keys have no Keycloak counterpart.
    expect(plan.settings.map((one) => one.setting)).to.not.include.members(['lockout_threshold', 'lockout_ip_threshold']);
    expect(reason('quickLoginCheckMilliSeconds 1000')).to.match(/no quick-login check/);
    expect(reason('bruteForceStrategy MULTIPLE')).to.match(/doubles/);
    expect(reason('permanentLockout true')).to.equal(undefined);
    const permanent = mapped({ ...POLICIES, permanentLockout: true, maxTemporaryLockouts: 3 });
    expect(permanent.reason('permanentLockout true')).to.match(/temporary/).and.match(/after 3 temporary lockouts/);
  });

  it('with brute force detection off (Keycloak\'s default) says so and changes no lockout setting', () => {
    expect(DEFAULTS.bruteForceProtected).to.equal(false);
    const { plan, reason } = mapped(DEFAULTS);
    expect(plan.settings.filter((one) => one.group === 'brute-force')).to.deep.equal([]);
    expect(reason('bruteForceProtected false')).to.match(/Gatehouse always does/);
  });

  it('maps the OTP policy onto the otp group; counter-based and values Gatehouse does not take are reported', () => {
    expect(mapped(POLICIES).values).to.include({ otp_algorithm: 'SHA256', otp_digits: 8, otp_period: 60, otp_look_ahead: 2 });
    expect(mapped(DEFAULTS).values).to.include({ otp_algorithm: 'SHA1', otp_digits: 6, otp_period: 30, otp_look_ahead: 1 });
    const odd = mapped({ ...POLICIES, otpPolicyType: 'hotp', otpPolicyPeriod: 45, otpPolicyCodeReusable: true });
    expect(odd.reason('otpPolicyType hotp')).to.match(/time-based/);
    expect(odd.reason('otpPolicyPeriod 45')).to.match(/^not applied: Gatehouse's otp_period/);
    expect(odd.values).to.not.have.property('otp_period');
    expect(odd.reason('otpPolicyCodeReusable true')).to.match(/never accepts one code twice/);
  });

  it('maps login options and the links\' lifetimes onto the sign-in group (a per-action lifetime wins), and reports the rest', () => {
    const { values, reason, plan } = mapped(POLICIES);
    expect(values).to.include({ self_registration: true, password_reset: true, require_verified_email: 'all', password_reset_ttl: 900, email_verification_ttl: 600 });
    expect(plan.settings.find((one) => one.setting === 'password_reset_ttl')!.keycloak).to.equal('actionTokenGeneratedByUserLifespan.reset-credentials 900');
    expect(reason('rememberMe true')).to.match(/no "remember me"/);
    expect(reason('supportedLocales de')).to.match(/en, ru, zh-CN and ko/);
    const defaults = mapped(DEFAULTS);
    expect(defaults.values).to.include({ self_registration: false, password_reset: false, password_reset_ttl: 300, email_verification_ttl: 300 });
    expect(defaults.values).to.not.have.property('require_verified_email');
    // Without registration nobody is asked to confirm an address in Gatehouse either: nothing to say.
    expect(defaults.reason('verifyEmail false')).to.equal(undefined);
    expect(mapped({ ...DEFAULTS, registrationAllowed: true }).reason('verifyEmail false')).to.match(/left as it is/);
  });

  it('names every login, session and token option Gatehouse has no setting for, with what it does instead; takes the admin-sent link lifetime as the invitation lifetime', () => {
    // A Keycloak 26.7.3 default export: what an operator importing a realm just to move users brings along.
    const defaults = mapped(DEFAULTS);
    expect(defaults.values).to.include({ invitation_ttl: 43200 });
    expect(defaults.plan.settings.find((one) => one.setting === 'invitation_ttl')!.keycloak).to.equal('actionTokenGeneratedByAdminLifespan 43200');
    expect(defaults.reason('revokeRefreshToken false')).to.match(/rotates every refresh token/);
    // What needs nothing of the operator is not said: HTTPS follows the issuer, pages without i18n were English and are for
    // everyone whose browser asks for none of Gatehouse's other languages, the sign-in timeout is an environment setting.
    for (const name of ['sslRequired none', 'internationalizationEnabled false', 'accessCodeLifespanLogin 1800', 'accessCodeLifespanUserAction 300']) expect(defaults.reason(name), name).to.equal(undefined);
    expect(defaults.unmapped.map((item) => item.name)).to.have.members(['bruteForceProtected false', 'ssoSessionIdleTimeout 1800', 'revokeRefreshToken false']);
    // Keycloak's defaults Gatehouse shares are not reported: no registration, usernames not editable, sign-in by email, unique addresses, no remember me.
    for (const name of ['registrationEmailAsUsername false', 'editUsernameAllowed false', 'loginWithEmailAllowed true', 'duplicateEmailsAllowed false', 'rememberMe false']) expect(defaults.reason(name), name).to.equal(undefined);

    // The settings realm, with email as username, editable usernames and strict refresh tokens.
    const strict = mapped({ ...POLICIES, registrationEmailAsUsername: true, editUsernameAllowed: true, sslRequired: 'external', revokeRefreshToken: true, refreshTokenMaxReuse: 0, loginWithEmailAllowed: false, duplicateEmailsAllowed: true, supportedLocales: ['en', 'de'], defaultLocale: 'de' });
    expect(strict.reason('registrationEmailAsUsername true')).to.match(/usernames hold no @/).and.match(/jo@acme\.test → jo/);
    expect(strict.reason('editUsernameAllowed true')).to.match(/do not change once given/);
    expect(strict.reason('sslRequired external')).to.equal(undefined);
    expect(strict.reason('refreshTokenMaxReuse 0')).to.match(/GATEHOUSE_REFRESH_REUSE_WINDOW/).and.match(/set it to 0/);
    expect(strict.reason('loginWithEmailAllowed false')).to.match(/always takes the email/);
    expect(strict.reason('duplicateEmailsAllowed true')).to.match(/unique/);
    expect(strict.reason('supportedLocales de')).to.match(/get English/);
    expect(strict.reason('supportedLocales without ru, zh-CN, ko')).to.match(/no setting to leave one out/);
    expect(strict.reason('defaultLocale de')).to.match(/from the browser/);
    expect(strict.reason('internationalizationEnabled false')).to.equal(undefined);
    // Registration on without email as username: the form Keycloak had asked for a username.
    expect(mapped({ ...POLICIES, registrationEmailAsUsername: false }).reason('registrationEmailAsUsername false')).to.match(/asks for no username/);
    expect(mapped({ ...POLICIES, actionTokenGeneratedByAdminLifespan: 30 }).reason('actionTokenGeneratedByAdminLifespan 30')).to.match(/not applied: Gatehouse's invitation_ttl/);
  });

  it('gives the variable to set for lifetimes only the environment sets, and never writes out the SMTP password', () => {
    const { plan, reason, unmapped } = mapped(POLICIES);
    expect(plan.environment).to.deep.include({ variable: 'GATEHOUSE_ACCESS_TOKEN_TTL', lifetime: 'accessToken', value: 900, keycloak: 'accessTokenLifespan' });
    expect(plan.environment).to.deep.include({ variable: 'GATEHOUSE_SESSION_TTL', lifetime: 'session', value: 43200, keycloak: 'ssoSessionMaxLifespan' });
    expect(plan.environment.find((one) => one.keycloak === 'offlineSessionIdleTimeout')).to.include({ variable: 'GATEHOUSE_REFRESH_TOKEN_TTL', value: 2592000 });
    expect(reason('ssoSessionIdleTimeout 1800')).to.match(/not after idle time/);
    expect((POLICIES.smtpServer as Json).password).to.be.a('string');
    expect(reason('smtpServer')).to.include('GATEHOUSE_SMTP_URL=smtp://mailer:<password>@smtp.acme.test:587').and.include('GATEHOUSE_MAIL_FROM=ACME Sign-in <no-reply@acme.test>');
    expect(JSON.stringify(unmapped)).to.not.include((POLICIES.smtpServer as Json).password as string);
  });

  it('suggests only lifetimes startup takes: a realm value below Gatehouse\'s minimum becomes that minimum, and says so (GATEHOUSE_ACCESS_TOKEN_TTL=20 stopped startup)', () => {
    const short = { ...POLICIES, accessTokenLifespan: 20, accessCodeLifespan: 5, ssoSessionMaxLifespan: 30, oauth2DeviceCodeLifespan: 45, offlineSessionIdleTimeout: 50, accessCodeLifespanLogin: 30 };
    const { plan } = mapped(short);
    expect(plan.environment.find((one) => one.variable === 'GATEHOUSE_ACCESS_TOKEN_TTL')).to.deep.include({ value: 30, keycloakValue: 20 });
    expect(plan.environment.find((one) => one.variable === 'GATEHOUSE_ACCESS_TOKEN_TTL')!.note).to.include("the realm's 20 is below what Gatehouse takes (at least 30): the nearest it takes");
    expect(plan.environment.find((one) => one.variable === 'GATEHOUSE_AUTHORIZATION_CODE_TTL')).to.deep.include({ value: 10, keycloakValue: 5 });
    // Every suggested value is one src/config takes (the bounds are the config schema's, not a copy that may drift).
    for (const one of [...plan.environment, ...mapped(POLICIES).plan.environment, ...mapped(DEFAULTS).plan.environment]) {
      const field = settingsSchema.shape[one.variable];
      expect(field.safeParse(String(one.value)).success, `${one.variable}=${one.value}`).to.equal(true);
      if (one.keycloakValue !== undefined) expect(field.safeParse(String(one.keycloakValue)).success, `${one.variable}=${one.keycloakValue} is refused`).to.equal(false);
    }
    // A value within the bounds is taken as it is, with no note about them.
    expect(mapped(POLICIES).plan.environment.find((one) => one.variable === 'GATEHOUSE_ACCESS_TOKEN_TTL')).to.not.have.property('keycloakValue');
  });

  it("takes the sign-in timeout (accessCodeLifespanLogin; the user-action pages' when longer) as GATEHOUSE_INTERACTION_TTL, within what Gatehouse takes", () => {
    expect(DEFAULTS.accessCodeLifespanLogin).to.equal(1800);
    const interaction = (document: Json) => mapped(document).plan.environment.find((one) => one.variable === 'GATEHOUSE_INTERACTION_TTL');
    expect(interaction(DEFAULTS)).to.include({ lifetime: 'interaction', value: 1800, keycloak: 'accessCodeLifespanLogin' });
    expect(interaction(DEFAULTS)!.note).to.match(/Keycloak timed each page of a sign-in; Gatehouse gives the whole sign-in/);
    expect(interaction({ ...DEFAULTS, accessCodeLifespanUserAction: 2400 })).to.include({ value: 2400, keycloak: 'accessCodeLifespanUserAction' });
    expect(interaction({ ...DEFAULTS, accessCodeLifespanUserAction: 2400 })!.note).to.include('accessCodeLifespanLogin 1800');
    expect(interaction({ ...DEFAULTS, accessCodeLifespanLogin: 30, accessCodeLifespanUserAction: 20 })).to.include({ value: 60, keycloak: 'accessCodeLifespanLogin' });
    expect(interaction({ ...DEFAULTS, accessCodeLifespanLogin: 30, accessCodeLifespanUserAction: 20 })!.note).to.include("the realm's 30 is outside what Gatehouse takes, 60–86400");
    expect(interaction({ ...DEFAULTS, accessCodeLifespanLogin: 200_000 })).to.include({ value: 86_400 });
    expect(interaction({ ...DEFAULTS, accessCodeLifespanLogin: undefined, accessCodeLifespanUserAction: undefined })).to.equal(undefined);
  });

  it("takes the realm's display name as the brand name its pages showed; an HTML one or one over 80 characters is reported", () => {
    expect(DEFAULTS.displayName).to.equal('ACME');
    expect(mapped(DEFAULTS).plan.brandName).to.equal('ACME');
    expect(mapped({ ...DEFAULTS, displayName: '  ' }).plan.brandName).to.equal(undefined);
    const html = mapped({ ...DEFAULTS, displayNameHtml: '<b>ACME</b>' });
    expect(html.reason('displayNameHtml')).to.match(/as text \(GATEHOUSE_BRAND_NAME\)/);
    const long = mapped({ ...DEFAULTS, displayName: 'x'.repeat(81) });
    expect(long.plan.brandName).to.equal(undefined);
    expect(long.reason(`displayName ${'x'.repeat(40)}…`)).to.match(/at most 80 characters/);
  });

  it('is part of the realm plan, which no longer lists the password policy and brute force as merely unmapped', () => {
    const { plan } = planKeycloakRealm({ ...POLICIES, users: [] });
    expect(plan.settings.settings.length).to.be.greaterThan(20);
    expect(plan.unmapped.filter((item) => item.name === 'passwordPolicy' || item.name === 'bruteForceProtected')).to.deep.equal([]);
  });
});
