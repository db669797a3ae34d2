import { zodDetails } from '../errors/normalize.ts';
import { bruteForceGroup } from '../settings/brute-force.ts';
import type { SettingsGroup } from '../settings/group.ts';
import { otpGroup } from '../settings/otp.ts';
import { passwordPolicyGroup } from '../settings/password-policy.ts';
import { signInGroup } from '../settings/sign-in.ts';
import { isObject, text, type Json, type UnmappedItem } from './export-json.ts';
import { shortened } from '../accounts/shortened.ts';

/**
 * A Keycloak realm's settings (Realm settings → Login, Security defenses → Brute force detection,
 * Authentication → Policies, Sessions, Tokens, Email) as Gatehouse's runtime settings where one
 * exists (src/settings/), the environment variable to set where the setting is the environment's
 * only, and everything else reported by name with the reason. Pure: src/keycloak/apply-realm-settings.ts
 * compares with the settings in force and applies the change through the settings operations.
 */

/** One runtime setting the realm gives a value. */
export interface PlannedSetting {
  /** The settings group (admin API /settings/<group>). */
  readonly group: string;
  readonly setting: string;
  /** The value; null: Keycloak's policy has no such rule, so the setting goes back to its default. */
  readonly value: unknown;
  /** What of the realm it comes from: `passwordPolicy length(12)`, `failureFactor 30`. */
  readonly keycloak: string;
}

/** A lifetime Gatehouse takes from its environment only (GATEHOUSE_*_TTL): the variable to set for Keycloak's value. */
export interface PlannedEnvironmentSetting {
  readonly variable: 'GATEHOUSE_ACCESS_TOKEN_TTL' | 'GATEHOUSE_AUTHORIZATION_CODE_TTL' | 'GATEHOUSE_SESSION_TTL' | 'GATEHOUSE_REFRESH_TOKEN_TTL' | 'GATEHOUSE_DEVICE_CODE_TTL' | 'GATEHOUSE_INTERACTION_TTL';
  /** The lifetime it sets (src/config/load.ts `lifetimes`), to compare with the one in force. */
  readonly lifetime: 'accessToken' | 'authorizationCode' | 'session' | 'refreshToken' | 'deviceCode' | 'interaction';
  readonly value: number;
  /** The realm's setting (`accessTokenLifespan`), and what differs beyond the value, if anything. */
  readonly keycloak: string;
  /** The realm's own value, when Gatehouse does not take it and `value` is the nearest it does. */
  readonly keycloakValue?: number;
  readonly note?: string;
}

export interface PlannedRealmSettings {
  readonly settings: readonly PlannedSetting[];
  readonly environment: readonly PlannedEnvironmentSetting[];
  /** The realm's display name (Keycloak's sign-in pages show it): GATEHOUSE_BRAND_NAME, environment only, reported when it differs from the one in force. */
  readonly brandName?: string | undefined;
  /** The realm's Frontend URL (`attributes.frontendUrl`): the base of the issuer its apps check (src/keycloak/apply-realm-settings.ts realmLayoutNotes). */
  readonly frontendUrl?: string | undefined;
}

/** The kind of the realm's notes about its users rather than a setting (duplicateEmailsAllowed): reported even when the realm's settings are left out. */
export const REALM_USERS_NOTE = 'realm';

const GROUPS: ReadonlyArray<SettingsGroup<object>> = [signInGroup, passwordPolicyGroup, bruteForceGroup, otpGroup] as unknown as ReadonlyArray<SettingsGroup<object>>;

const whole = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : undefined);

/** Keycloak's password policy, `length(12) and digits(1) and notUsername(undefined)`: its terms as Keycloak's PasswordPolicy.parse reads them. */
export function passwordPolicyTerms(policy: string): Array<{ readonly name: string; readonly config: string | undefined; readonly term: string }> {
  return policy
    .split(' and ')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((term) => {
      const open = term.indexOf('(');
      if (open === -1) return { name: term, config: undefined, term };
      const config = term.slice(open + 1, term.endsWith(')') ? -1 : undefined).trim();
      return { name: term.slice(0, open).trim(), config: config === '' || config === 'undefined' ? undefined : config, term };
    });
}

/** Keycloak's policies with a Gatehouse setting: the setting, and the value a term without its own gives (Keycloak's default). */
const POLICY_SETTINGS: Readonly<Record<string, { readonly setting: string; readonly fallback: number | true }>> = {
  length: { setting: 'password_min_length', fallback: 8 },
  maxLength: { setting: 'password_max_length', fallback: 64 },
  digits: { setting: 'password_digits', fallback: 1 },
  lowerCase: { setting: 'password_lowercase', fallback: 1 },
  upperCase: { setting: 'password_uppercase', fallback: 1 },
  specialChars: { setting: 'password_special', fallback: 1 },
  notUsername: { setting: 'password_not_username', fallback: true },
  notEmail: { setting: 'password_not_email', fallback: true },
  passwordHistory: { setting: 'password_history', fallback: 3 },
};

/** Keycloak's other policies, each with why it is not carried over. */
const POLICY_REASONS: Readonly<Record<string, string>> = {
  hashAlgorithm: 'Gatehouse hashes new passwords with argon2id (GATEHOUSE_ARGON2_*); imported hashes are kept and re-hashed at each user\'s first sign-in',
  hashIterations: 'Gatehouse hashes new passwords with argon2id (GATEHOUSE_ARGON2_MEMORY_KIB, _ITERATIONS, _PARALLELISM); imported hashes keep their iterations until the first sign-in',
  regexPattern: 'Gatehouse has no pattern rule: its rules are lengths, character classes, not the username or email, and history',
  notContainsUsername: 'Gatehouse refuses a password equal to the username (password_not_username), not one that contains it',
  passwordBlacklist: 'Gatehouse has no list of refused passwords',
  forceExpiredPasswordChange: 'Gatehouse\'s passwords do not expire',
  passwordAge: 'Gatehouse\'s history rule counts passwords (password_history), not their age',
  maxAuthAge: 'Gatehouse asks for the password again by its own rules, not by this age',
};

/** Keycloak's OTP algorithms → Gatehouse's. */
const OTP_ALGORITHMS: Readonly<Record<string, string>> = { HmacSHA1: 'SHA1', HmacSHA256: 'SHA256', HmacSHA512: 'SHA512' };

/**
 * Maps the realm's settings; what has no place (or a value Gatehouse does not take) goes to
 * `unmapped`, kind `realm setting` — or REALM_USERS_NOTE for what changes how the realm's users
 * import. Only what changes behaviour or asks something of the operator is noted: a value whose
 * effect Gatehouse has anyway (`sslRequired`, `internationalizationEnabled: false`) is not.
 */
export function mapRealmSettings(document: Json, unmapped: UnmappedItem[]): PlannedRealmSettings {
  const settings: PlannedSetting[] = [];
  const environment: PlannedEnvironmentSetting[] = [];
  const report: Note = (name, reason, kind = 'realm setting') => unmapped.push({ kind, name, reason });
  /** A value for a setting, if its group takes it; otherwise reported with the group's own reason. */
  const set = (setting: string, value: unknown, keycloak: string) => {
    const group = GROUPS.find((candidate) => setting in candidate.env)!;
    const parsed = group.patchSchema.safeParse({ [setting]: value });
    if (parsed.success) settings.push({ group: group.id, setting, value, keycloak });
    else report(keycloak, `not applied: Gatehouse's ${setting} ${zodDetails(parsed.error).map((detail) => detail.message).join('; ')}`);
  };

  // Authentication → Policies → Password policy: the whole policy; a rule it does not name goes back to its default (no such rule).
  const policy = text(document.passwordPolicy);
  if (policy !== undefined) {
    const named = new Set<string>();
    for (const { name, config, term } of passwordPolicyTerms(policy)) {
      const mapped = POLICY_SETTINGS[name];
      if (mapped === undefined) {
        report(`passwordPolicy ${term}`, POLICY_REASONS[name] ?? 'not a rule Gatehouse has');
        continue;
      }
      named.add(mapped.setting);
      const value = mapped.fallback === true ? true : config === undefined ? mapped.fallback : whole(config);
      if (value === undefined) report(`passwordPolicy ${term}`, `not applied: ${config} is not a whole number`);
      else set(mapped.setting, value, `passwordPolicy ${term}`);
    }
    for (const { setting } of Object.values(POLICY_SETTINGS)) if (!named.has(setting)) settings.push({ group: passwordPolicyGroup.id, setting, value: null, keycloak: 'passwordPolicy (no such rule)' });
  }

  mapBruteForce(document, set, report);
  mapOtpPolicy(document, set, report);
  mapLogin(document, set, report);
  mapLifetimes(document, environment, report);
  const brandName = mapDisplayName(document, report);
  const frontendUrl = isObject(document.attributes) ? text(document.attributes.frontendUrl)?.trim().replace(/\/+$/, '') : undefined;
  return { settings, environment, ...(brandName === undefined ? {} : { brandName }), ...(frontendUrl === undefined || frontendUrl === '' ? {} : { frontendUrl }) };
}

type Assign = (setting: string, value: unknown, keycloak: string) => void;
type Note = (name: string, reason: string, kind?: string) => void;

/**
 * Realm settings → Security defenses → Brute force detection. Keycloak counts a user's failures
 * from every address (failureFactor): Gatehouse's account key (lockout_account_threshold). Its own
 * (account, IP) and IP keys have no Keycloak counterpart and are left as they are.
 */
function mapBruteForce(document: Json, set: Assign, report: Note): void {
  if (document.bruteForceProtected !== true) {
    if (document.bruteForceProtected === false) report('bruteForceProtected false', 'Keycloak did not limit failed sign-ins in this realm; Gatehouse always does: its brute-force settings (/settings/brute-force) are left as they are');
    return;
  }
  const numbers: ReadonlyArray<readonly [string, string]> = [
    ['failureFactor', 'lockout_account_threshold'],
    ['waitIncrementSeconds', 'lockout_seconds'],
    ['maxFailureWaitSeconds', 'lockout_max_seconds'],
    ['maxDeltaTimeSeconds', 'lockout_window'],
  ];
  for (const [name, setting] of numbers) {
    const value = whole(document[name]);
    if (value !== undefined) set(setting, value, `${name} ${value}`);
  }
  if (document.permanentLockout === true) {
    const temporary = whole(document.maxTemporaryLockouts) ?? 0;
    report('permanentLockout true', `Gatehouse's locks are temporary (each further lock doubles, up to lockout_max_seconds): no account is disabled for failed sign-ins${temporary > 0 ? ` (Keycloak disabled it after ${temporary} temporary lockouts)` : ''}; disable one by hand with gatehouse users disable`);
  }
  const quick = whole(document.quickLoginCheckMilliSeconds);
  if (quick !== undefined && quick > 0) report(`quickLoginCheckMilliSeconds ${quick}`, `Gatehouse has no quick-login check (Keycloak locked for minimumQuickLoginWaitSeconds ${String(document.minimumQuickLoginWaitSeconds)} after two failures within ${quick} ms): it counts failures, not their pace`);
  const strategy = text(document.bruteForceStrategy);
  if (strategy !== undefined) report(`bruteForceStrategy ${strategy}`, 'Keycloak lengthens each further lock by waitIncrementSeconds; Gatehouse doubles it (lockout_seconds, then twice that, …, up to lockout_max_seconds), and counts failures within lockout_window where Keycloak forgets them maxDeltaTimeSeconds after the last one');
}

/** Authentication → Policies → OTP policy: how new authenticator apps are enrolled. */
function mapOtpPolicy(document: Json, set: Assign, report: Note): void {
  const type = text(document.otpPolicyType);
  if (type !== undefined && type !== 'totp') report(`otpPolicyType ${type}`, 'Gatehouse enrols time-based apps (TOTP) only: new enrolments use TOTP with the settings below');
  const algorithm = text(document.otpPolicyAlgorithm);
  if (algorithm !== undefined) {
    const mapped = OTP_ALGORITHMS[algorithm];
    if (mapped === undefined) report(`otpPolicyAlgorithm ${algorithm}`, 'not applied: Gatehouse takes HmacSHA1, HmacSHA256 or HmacSHA512');
    else set('otp_algorithm', mapped, `otpPolicyAlgorithm ${algorithm}`);
  }
  for (const [name, setting] of [['otpPolicyDigits', 'otp_digits'], ['otpPolicyPeriod', 'otp_period'], ['otpPolicyLookAheadWindow', 'otp_look_ahead']] as const) {
    const value = whole(document[name]);
    if (value !== undefined) set(setting, value, `${name} ${value}`);
  }
  if (document.otpPolicyCodeReusable === true) report('otpPolicyCodeReusable true', 'Gatehouse never accepts one code twice');
}

/** A realm attribute Keycloak keeps as a string (`actionTokenGeneratedByUserLifespan.reset-credentials`), as a whole number. */
const attribute = (document: Json, name: string): number | undefined => (isObject(document.attributes) ? whole(document.attributes[name]) : undefined);

/** Realm settings → Login (and the lifetimes of the links it sends, the user's and an administrator's: Tokens → action tokens). */
function mapLogin(document: Json, set: Assign, report: Note): void {
  const usersNote = (name: string, reason: string) => report(name, reason, REALM_USERS_NOTE);
  if (typeof document.registrationAllowed === 'boolean') set('self_registration', document.registrationAllowed, `registrationAllowed ${document.registrationAllowed}`);
  if (typeof document.resetPasswordAllowed === 'boolean') set('password_reset', document.resetPasswordAllowed, `resetPasswordAllowed ${document.resetPasswordAllowed}`);
  if (document.verifyEmail === true) set('require_verified_email', 'all', 'verifyEmail true');
  else if (document.verifyEmail === false && document.registrationAllowed === true) {
    // Only self-registered people are asked by Gatehouse's default (self-registered): without registration nobody is, as in Keycloak.
    report('verifyEmail false', "Keycloak asked no one to confirm an address; require_verified_email is left as it is (Gatehouse's default, self-registered, asks it of people who create their own account, whose account exists once they have: set it to off to match Keycloak)");
  }
  const byUser = whole(document.actionTokenGeneratedByUserLifespan);
  for (const [action, setting] of [['reset-credentials', 'password_reset_ttl'], ['verify-email', 'email_verification_ttl']] as const) {
    const own = attribute(document, `actionTokenGeneratedByUserLifespan.${action}`);
    if (own !== undefined) set(setting, own, `actionTokenGeneratedByUserLifespan.${action} ${own}`);
    else if (byUser !== undefined) set(setting, byUser, `actionTokenGeneratedByUserLifespan ${byUser}`);
  }
  const byAdmin = whole(document.actionTokenGeneratedByAdminLifespan);
  if (byAdmin !== undefined) set('invitation_ttl', byAdmin, `actionTokenGeneratedByAdminLifespan ${byAdmin}`);
  if (document.registrationEmailAsUsername === true) {
    usersNote('registrationEmailAsUsername true', "Gatehouse's usernames hold no @: people who register give their email address only and get a username made from its local part (jo@acme.test → jo, or jo-1234 when taken), as imported users whose username is an address do (each listed under user); everyone signs in with the address as before");
  } else if (document.registrationEmailAsUsername === false && document.registrationAllowed === true) {
    report('registrationEmailAsUsername false', "Gatehouse's registration form asks for no username: it is made from the email address's local part (jo@acme.test → jo, or jo-1234 when taken); people sign in with either");
  }
  if (document.editUsernameAllowed === true) report('editUsernameAllowed true', "Gatehouse's usernames do not change once given: the account page changes a person's name and email address, not the username (nor does the admin API)");
  // sslRequired is not noted: Gatehouse's URLs, redirects and cookies follow GATEHOUSE_ISSUER (https:// behind a TLS proxy), which the operator sets anyway.
  if (document.rememberMe === true) report('rememberMe true', 'Gatehouse has no "remember me": every sign-in session lasts GATEHOUSE_SESSION_TTL');
  if (document.loginWithEmailAllowed === false) report('loginWithEmailAllowed false', 'Gatehouse always takes the email address as well as the username at sign-in');
  if (document.duplicateEmailsAllowed === true) usersNote('duplicateEmailsAllowed true', "Gatehouse's email addresses are unique: a user whose address another user has is a conflict (reported, not imported)");
  if (document.internationalizationEnabled === true) {
    const supported = Array.isArray(document.supportedLocales) ? document.supportedLocales.filter((locale): locale is string => typeof locale === 'string') : [];
    const gatehouse = (locale: string) => (locale === 'zh-Hans' || locale === 'zh_CN' ? 'zh-CN' : locale);
    const missing = supported.filter((locale) => !PAGE_LOCALES.includes(gatehouse(locale)));
    if (missing.length > 0) report(`supportedLocales ${missing.join(', ')}`, 'Gatehouse\'s pages are in en, ru, zh-CN and ko: people whose browser asks for another language get English');
    const more = supported.length === 0 ? [] : PAGE_LOCALES.filter((locale) => !supported.some((one) => gatehouse(one) === locale));
    if (more.length > 0) report(`supportedLocales without ${more.join(', ')}`, `Gatehouse's pages are in every one of its languages: people whose browser asks for ${more.join(' or ')} get that one; there is no setting to leave one out`);
    const preferred = text(document.defaultLocale);
    if (preferred !== undefined && preferred !== 'en') report(`defaultLocale ${preferred}`, "Gatehouse picks each person's language from the browser (en, ru, zh-CN, ko), English when none of them is asked for");
  }
  // internationalizationEnabled false is not noted: Keycloak's pages were in English, and so are Gatehouse's for everyone whose browser asks for none of its other languages.
}

/**
 * Keycloak times each page of a sign-in (`accessCodeLifespanLogin` the sign-in form, 1800 s by
 * default; `accessCodeLifespanUserAction` the pages of required actions, 300 s), and the whole
 * sign-in lives as long as the longer; Gatehouse times the whole sign-in, every page and step of it
 * (GATEHOUSE_INTERACTION_TTL, 60–86400 s). The nearest: the longer of the two, within those bounds.
 */
function mapSignInTimeout(document: Json, environment: PlannedEnvironmentSetting[]): void {
  const login = whole(document.accessCodeLifespanLogin);
  const action = whole(document.accessCodeLifespanUserAction);
  const [name, value] = action !== undefined && action > (login ?? 0) ? ['accessCodeLifespanUserAction', action] : ['accessCodeLifespanLogin', login];
  if (value === undefined || value <= 0) return;
  const taken = Math.min(Math.max(value, INTERACTION_TTL.min), INTERACTION_TTL.max);
  const bounded = taken === value ? '' : ` (the realm's ${value} is outside what Gatehouse takes, ${INTERACTION_TTL.min}–${INTERACTION_TTL.max})`;
  const longer = name === 'accessCodeLifespanLogin' ? '' : ` (the pages of required actions had longer than the sign-in form's accessCodeLifespanLogin ${login ?? 'unset'} there)`;
  const note = `Keycloak timed each page of a sign-in${longer}; Gatehouse gives the whole sign-in, every page and step of it, this long from the authorization request${bounded}`;
  environment.push({ variable: 'GATEHOUSE_INTERACTION_TTL', lifetime: 'interaction', value: taken, keycloak: name, ...(taken === value ? {} : { keycloakValue: value }), note });
}

/** The shortest lifetimes startup takes (src/config/schema.ts; test/unit/keycloak-realm-settings.test.ts checks them against it). */
const LIFETIME_MIN: Readonly<Record<Exclude<PlannedEnvironmentSetting['variable'], 'GATEHOUSE_INTERACTION_TTL'>, number>> = {
  GATEHOUSE_ACCESS_TOKEN_TTL: 30,
  GATEHOUSE_AUTHORIZATION_CODE_TTL: 10,
  GATEHOUSE_SESSION_TTL: 60,
  GATEHOUSE_REFRESH_TOKEN_TTL: 60,
  GATEHOUSE_DEVICE_CODE_TTL: 60,
};

/** GATEHOUSE_INTERACTION_TTL's bounds (src/config/schema.ts). */
const INTERACTION_TTL = { min: 60, max: 86_400 } as const;

/** Most characters of GATEHOUSE_BRAND_NAME (src/config/schema.ts). */
const BRAND_NAME_MAX = 80;

/** The realm's display name, which Keycloak's sign-in pages show: Gatehouse's pages show GATEHOUSE_BRAND_NAME. */
function mapDisplayName(document: Json, report: Note): string | undefined {
  if (text(document.displayNameHtml) !== undefined) report('displayNameHtml', "Gatehouse's pages show their name as text (GATEHOUSE_BRAND_NAME) and a logo (GATEHOUSE_BRAND_LOGO_URL), not HTML");
  const name = text(document.displayName)?.trim();
  if (name === undefined || name === '') return undefined;
  if (name.length > BRAND_NAME_MAX) {
    report(`displayName ${shortened(name, 40)}…`, `not applied: GATEHOUSE_BRAND_NAME, which Gatehouse's pages show where Keycloak's showed the realm's name, takes at most ${BRAND_NAME_MAX} characters`);
    return undefined;
  }
  return name;
}

/** The languages of Gatehouse's pages (views/locales). */
const PAGE_LOCALES: readonly string[] = ['en', 'ru', 'zh-CN', 'ko'];

/** Realm settings → Sessions and Tokens, and Email: what Gatehouse takes from its environment only. */
function mapLifetimes(document: Json, environment: PlannedEnvironmentSetting[], report: Note): void {
  const env = (name: string, variable: keyof typeof LIFETIME_MIN, lifetime: PlannedEnvironmentSetting['lifetime'], note?: string) => {
    const given = whole(document[name]);
    if (given === undefined || given <= 0) return;
    // Startup refuses a lifetime below its minimum: suggest the nearest one it takes, and say so.
    const value = Math.max(given, LIFETIME_MIN[variable]);
    const below = value === given ? undefined : `the realm's ${given} is below what Gatehouse takes (at least ${value}): the nearest it takes`;
    const notes = [note, below].filter((part) => part !== undefined).join('; ');
    environment.push({ variable, lifetime, value, keycloak: name, ...(value === given ? {} : { keycloakValue: given }), ...(notes === '' ? {} : { note: notes }) });
  };
  env('accessTokenLifespan', 'GATEHOUSE_ACCESS_TOKEN_TTL', 'accessToken');
  env('accessCodeLifespan', 'GATEHOUSE_AUTHORIZATION_CODE_TTL', 'authorizationCode');
  env('ssoSessionMaxLifespan', 'GATEHOUSE_SESSION_TTL', 'session');
  env('oauth2DeviceCodeLifespan', 'GATEHOUSE_DEVICE_CODE_TTL', 'deviceCode');
  const offline = document.offlineSessionMaxLifespanEnabled === true ? 'offlineSessionMaxLifespan' : 'offlineSessionIdleTimeout';
  env(offline, 'GATEHOUSE_REFRESH_TOKEN_TTL', 'refreshToken', 'the nearest: a Gatehouse refresh token lives this long from its issue, where Keycloak counted an offline session idle (or, with offlineSessionMaxLifespanEnabled, from its start)');
  const idle = whole(document.ssoSessionIdleTimeout);
  if (idle !== undefined && idle > 0) report(`ssoSessionIdleTimeout ${idle}`, 'Gatehouse\'s sign-in sessions end GATEHOUSE_SESSION_TTL after the sign-in, not after idle time, and its refresh tokens live GATEHOUSE_REFRESH_TOKEN_TTL');
  for (const name of ['clientSessionIdleTimeout', 'clientSessionMaxLifespan']) {
    const value = whole(document[name]);
    if (value !== undefined && value > 0) report(`${name} ${value}`, 'Gatehouse has no per-application session lifetime: its grants follow GATEHOUSE_REFRESH_TOKEN_TTL');
  }
  if (document.revokeRefreshToken === false) report('revokeRefreshToken false', 'Keycloak let a refresh token be used again; Gatehouse rotates every refresh token and revokes the grant when a used one comes back after GATEHOUSE_REFRESH_REUSE_WINDOW seconds');
  else if (document.revokeRefreshToken === true) {
    const reuse = whole(document.refreshTokenMaxReuse) ?? 0;
    if (reuse > 0) report(`refreshTokenMaxReuse ${reuse}`, 'Gatehouse\'s reuse allowance is a time (GATEHOUSE_REFRESH_REUSE_WINDOW seconds), not a count');
    else report('refreshTokenMaxReuse 0', 'Gatehouse rotates every refresh token too, but takes a used one again for GATEHOUSE_REFRESH_REUSE_WINDOW seconds (10 by default: concurrent refreshes); set it to 0 for Keycloak\'s single use');
  }
  mapSignInTimeout(document, environment);
  const smtp = isObject(document.smtpServer) ? document.smtpServer : {};
  const host = text(smtp.host);
  if (host !== undefined) {
    const secure = smtp.ssl === true || smtp.ssl === 'true';
    const port = text(smtp.port) ?? (typeof smtp.port === 'number' ? String(smtp.port) : undefined);
    const user = smtp.auth === true || smtp.auth === 'true' ? text(smtp.user) : undefined;
    // The password is never written out (Keycloak's export may hold it): the operator puts it in.
    const credentials = user === undefined ? '' : `${encodeURIComponent(user)}:<password>@`;
    const url = `${secure ? 'smtps' : 'smtp'}://${credentials}${host}${port === undefined ? '' : `:${port}`}`;
    const from = text(smtp.from);
    const display = text(smtp.fromDisplayName);
    const mailFrom = from === undefined ? '' : `, GATEHOUSE_MAIL_FROM=${display === undefined ? from : `${display} <${from}>`}`;
    report('smtpServer', `Gatehouse's mail server is set by its environment: GATEHOUSE_SMTP_URL=${url}${mailFrom} (GATEHOUSE_SMTP_URL_FILE for a file holding it)`);
  }
}
