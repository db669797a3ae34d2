import { z } from 'zod';
import { PASSWORD_INPUT_CAP, PASSWORD_POLICY_BOUNDS } from './password-policy.ts';
import { problemText } from '../errors/problems.ts';
import { SERVICE_ACCOUNT_PREFIX, usernameProblem } from './username-rule.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Minimum length of GATEHOUSE_SECRET: 32 characters carry at least 128 bits even as hex. */
export const MIN_SECRET_LENGTH = 32;

const booleanSetting = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const seconds = (min: number) =>
  z.coerce
    .number({ message: 'must be a number of seconds' })
    .int({ message: 'must be a whole number of seconds' })
    .min(min, { message: `must be at least ${min}` });

const integer = (min: number, max: number, unit = 'a whole number') =>
  z.coerce
    .number({ message: `must be ${unit}` })
    .int({ message: `must be ${unit}` })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });
const within = (bounds: { min: number; max: number }) => integer(bounds.min, bounds.max);

const httpUrl = z
  .string()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
    message: 'must be an absolute http(s) URL, e.g. https://sso.example.com',
  })
  .refine((v) => !URL.canParse(v) || (new URL(v).search === '' && new URL(v).hash === ''), {
    message: 'must not contain a query string or fragment',
  });

const absoluteUrl = z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
  message: 'must be an absolute http(s) URL',
});

/**
 * The raw settings, keyed by their environment-variable names (a config file uses the same
 * names). Values are strings as they come from the environment; the schema converts them.
 */
export const settingsSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  GATEHOUSE_ISSUER: httpUrl.optional(),
  /** Serve Keycloak's URL layout: the issuer becomes <GATEHOUSE_ISSUER>/realms/<name>. */
  GATEHOUSE_KEYCLOAK_REALM: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { message: 'must be a realm name: letters, digits, ".", "_" and "-" (as in the Keycloak URLs)' })
    .optional(),
  PORT: z.coerce.number({ message: 'must be a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/.+/, { message: 'must be a mongodb:// or mongodb+srv:// URI' })
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
    .optional(),
  GATEHOUSE_SECRET: z
    .string({ message: 'is required' })
    .min(MIN_SECRET_LENGTH, { message: `must be at least ${MIN_SECRET_LENGTH} characters` }),
  GATEHOUSE_ADMIN_USERNAME: z
    .string()
    .min(1)
    .refine((v) => usernameProblem(v) !== 'username_format', { message: problemText('username_format') })
    .refine((v) => usernameProblem(v) !== 'username_reserved', { message: problemText('username_reserved', { prefix: SERVICE_ACCOUNT_PREFIX }) })
    .optional(),
  GATEHOUSE_ADMIN_PASSWORD: z.string().min(12, { message: 'must be at least 12 characters' }).optional(),
  GATEHOUSE_REFRESH_REUSE_WINDOW: seconds(0).default(10),
  GATEHOUSE_CLIENT_CACHE_TTL: seconds(0).default(5),
  GATEHOUSE_ACCOUNT_CACHE_TTL: seconds(0).default(5),
  /** Unset: 5 with REDIS_URL, 0 without (see loadConfig). */
  GATEHOUSE_SESSION_CACHE_TTL: seconds(0).optional(),
  GATEHOUSE_REDIS_PREFIX: z
    .string()
    .regex(/^[\x21-\x7e]*$/, { message: 'must be printable ASCII without spaces' })
    .default('gatehouse:'),
  GATEHOUSE_LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  GATEHOUSE_TRUST_PROXY: booleanSetting.default(false),
  /** Proxies in front of Gatehouse that append to X-Forwarded-For; only the last this many entries are believed. */
  GATEHOUSE_PROXY_HOPS: integer(1, 10).default(1),
  GATEHOUSE_SHUTDOWN_TIMEOUT: seconds(0).default(10),
  /** Worker processes (node:cluster): a whole number, or `auto` for one per core. */
  GATEHOUSE_WORKERS: z
    .string()
    .trim()
    .regex(/^(auto|\d+)$/, { message: 'must be a whole number of at least 1, or auto' })
    .transform((v) => (v === 'auto' ? ('auto' as const) : Number(v)))
    .refine((v) => v === 'auto' || (v >= 1 && v <= 256), { message: 'must be between 1 and 256, or auto' })
    .default(1),
  /** Node's own cluster switch: `rr` = the supervisor accepts and hands connections round-robin; absent = Gatehouse's `none`. */
  NODE_CLUSTER_SCHED_POLICY: z.enum(['rr', 'none'], { message: 'must be rr or none' }).default('none'),
  /** Longer than a proxy's idle timeout (60 s on common load balancers), so Gatehouse never closes a connection the proxy is about to reuse. */
  GATEHOUSE_KEEP_ALIVE_TIMEOUT: seconds(1).default(65),
  /** How long a client may take to send a request's headers (slow clients cannot hold connections). */
  GATEHOUSE_HEADERS_TIMEOUT: seconds(1).default(20),
  /** How long a client may take to send a whole request, headers and body. */
  GATEHOUSE_REQUEST_TIMEOUT: seconds(1).default(30),
  GATEHOUSE_MONGODB_TIMEOUT: seconds(1).default(5),
  GATEHOUSE_ACCESS_TOKEN_TTL: seconds(30).default(600),
  GATEHOUSE_AUTHORIZATION_CODE_TTL: seconds(10).default(60),
  GATEHOUSE_ID_TOKEN_TTL: seconds(60).default(3600),
  GATEHOUSE_REFRESH_TOKEN_TTL: seconds(60).default(30 * 24 * 3600),
  GATEHOUSE_SESSION_TTL: seconds(60).default(14 * 24 * 3600),
  GATEHOUSE_DEVICE_CODE_TTL: seconds(60).default(600),
  /** How long a sign-in may take, from the authorization request to its end, every page and step of it (Keycloak's accessCodeLifespanLogin). */
  GATEHOUSE_INTERACTION_TTL: integer(60, 86_400, 'a whole number of seconds').default(3600),
  GATEHOUSE_REQUIRE_PKCE: booleanSetting.default(false),
  /** Let outgoing provider requests (back-channel logout, client jwks_uri) reach private addresses. */
  GATEHOUSE_ALLOW_PRIVATE_NETWORK_FETCH: booleanSetting.default(false),
  /** Dynamic client registration (RFC 7591/7592), behind initial access tokens. */
  GATEHOUSE_REGISTRATION: booleanSetting.default(false),
  GATEHOUSE_REDIS_TIMEOUT: seconds(1).default(2),
  // Password hashing (argon2id); defaults are OWASP's m=19 MiB, t=2, p=1.
  GATEHOUSE_ARGON2_MEMORY_KIB: integer(1024, 4_194_304, 'a whole number of KiB').default(19_456),
  GATEHOUSE_ARGON2_ITERATIONS: integer(1, 100).default(2),
  GATEHOUSE_ARGON2_PARALLELISM: integer(1, 64).default(1),
  /** Worker threads that hash; default: the cores divided among the worker processes (at least 1). */
  GATEHOUSE_HASH_POOL_SIZE: integer(1, 256).optional(),
  /** Hash jobs allowed to wait for a worker before sign-in answers 503. */
  GATEHOUSE_HASH_QUEUE_LIMIT: integer(0, 100_000).default(64),
  /** Seconds a hashing worker may sit idle before it exits (each holds a V8 isolate); 0 = workers stay. */
  GATEHOUSE_HASH_IDLE_TIMEOUT: seconds(0).default(60),
  GATEHOUSE_PASSWORD_MIN_LENGTH: within(PASSWORD_POLICY_BOUNDS.minLength).default(8),
  // The rest of the password policy (Keycloak's policy types); 0 / false = off.
  GATEHOUSE_PASSWORD_MAX_LENGTH: within(PASSWORD_POLICY_BOUNDS.maxLength).default(PASSWORD_INPUT_CAP),
  GATEHOUSE_PASSWORD_DIGITS: within(PASSWORD_POLICY_BOUNDS.digits).default(0),
  GATEHOUSE_PASSWORD_LOWERCASE: within(PASSWORD_POLICY_BOUNDS.lowercase).default(0),
  GATEHOUSE_PASSWORD_UPPERCASE: within(PASSWORD_POLICY_BOUNDS.uppercase).default(0),
  GATEHOUSE_PASSWORD_SPECIAL: within(PASSWORD_POLICY_BOUNDS.special).default(0),
  GATEHOUSE_PASSWORD_NOT_USERNAME: booleanSetting.default(false),
  GATEHOUSE_PASSWORD_NOT_EMAIL: booleanSetting.default(false),
  /** The last N passwords (the current one included) may not be chosen again; 0 = off. */
  GATEHOUSE_PASSWORD_HISTORY: within(PASSWORD_POLICY_BOUNDS.history).default(0),
  // Brute-force protection: failures that lock, per (account, IP), per account, per IP.
  /** Roles and groups whose members must use a second factor (comma-separated names). */
  GATEHOUSE_MFA_REQUIRED_ROLES: z.string().default(''),
  GATEHOUSE_MFA_REQUIRED_GROUPS: z.string().default(''),
  // OTP policy of new authenticator apps (Keycloak's OTP policy); the look-ahead applies to every app.
  GATEHOUSE_OTP_DIGITS: z.enum(['6', '8'], { message: 'must be 6 or 8' }).default('6').transform(Number),
  GATEHOUSE_OTP_PERIOD: z.enum(['30', '60'], { message: 'must be 30 or 60' }).default('30').transform(Number),
  GATEHOUSE_OTP_ALGORITHM: z.enum(['SHA1', 'SHA256', 'SHA512'], { message: 'must be SHA1, SHA256 or SHA512' }).default('SHA1'),
  GATEHOUSE_OTP_LOOK_AHEAD: integer(0, 10).default(1),
  GATEHOUSE_LOCKOUT_THRESHOLD: integer(1, 1000).default(5),
  GATEHOUSE_LOCKOUT_ACCOUNT_THRESHOLD: integer(1, 100_000).default(20),
  GATEHOUSE_LOCKOUT_IP_THRESHOLD: integer(1, 1_000_000).default(100),
  GATEHOUSE_LOCKOUT_WINDOW: seconds(1).default(3600),
  /** First lockout; each further one of the same key within a day doubles, up to the maximum. */
  GATEHOUSE_LOCKOUT_SECONDS: seconds(1).default(60),
  GATEHOUSE_LOCKOUT_MAX_SECONDS: seconds(1).default(86_400),
  /** How long a new signing key is published before it signs; longer than relying parties' JWKS caches. */
  GATEHOUSE_KEY_PUBLISH_DELAY: seconds(1).default(3600),
  /** How long a retired key stays published; the longest token/session lifetime (14 days). */
  GATEHOUSE_KEY_RETENTION: seconds(1).default(1_209_600),
  /** Automatic rotation when the newest signing key is this old; 0 turns it off. */
  GATEHOUSE_KEY_ROTATION_INTERVAL: seconds(0).default(0),
  /** How often each instance checks the key set's version (the fallback to Redis notices). */
  GATEHOUSE_KEY_POLL_INTERVAL: seconds(1).default(5),
  // Hosted pages: branding without code, and an optional directory of template overrides.
  GATEHOUSE_BRAND_NAME: z.string().trim().min(1).max(80, { message: 'must be at most 80 characters' }).default('Gatehouse'),
  GATEHOUSE_BRAND_LOGO_URL: absoluteUrl.optional(),
  GATEHOUSE_BRAND_PRIMARY_COLOR: z
    .string()
    .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, { message: 'must be a hex colour such as #1f5fbf' })
    .default('#1f5fbf'),
  GATEHOUSE_SUPPORT_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^(https?|mailto):$/.test(new URL(v).protocol), {
      message: 'must be an absolute https://, http:// or mailto: URL',
    })
    .optional(),
  GATEHOUSE_VIEWS_DIR: z.string().min(1).optional(),
  /** Failed client authentications (per client and IP) before the token endpoints answer 429. */
  GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT: integer(1, 100_000).default(20),
  /** Wrong device user codes per IP before the device page answers 429. */
  GATEHOUSE_USER_CODE_FAILURE_LIMIT: integer(1, 100_000).default(10),
  /** Window (and block time) of the two limits above. */
  GATEHOUSE_ATTEMPT_WINDOW: seconds(1).default(900),
  /** Serve /metrics on this port only (not on PORT); unset = on PORT. */
  GATEHOUSE_METRICS_PORT: z.coerce.number({ message: 'must be a port number' }).int().min(0).max(65535).optional(),
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  GATEHOUSE_METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  /** Days audit events are kept in MongoDB; 0 = forever. */
  GATEHOUSE_AUDIT_RETENTION_DAYS: integer(0, 36_500, 'a whole number of days').default(90),
  /** client_credentials issuances in the audit trail: one event each, or counted per client, address and minute. */
  GATEHOUSE_AUDIT_CLIENT_CREDENTIALS: z.enum(['each', 'per-minute'], { message: "must be 'each' or 'per-minute'" }).default('each'),
  /** The admin console signs an operator out after this long without a click or key press. */
  GATEHOUSE_CONSOLE_IDLE_TIMEOUT: seconds(60).default(900),
  /** Outgoing mail (password reset, verification); unset = the features that need email are off. */
  GATEHOUSE_SMTP_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^smtps?:$/.test(new URL(v).protocol), {
      message: 'must be an smtp:// or smtps:// URL, e.g. smtps://user:password@mail.example.com:465',
    })
    .optional(),
  /** The From: of every email, e.g. "Example Sign-in <no-reply@example.com>". */
  GATEHOUSE_MAIL_FROM: z.string().trim().min(3).max(320).optional(),
  /** "Forgot password?" on the sign-in page (with SMTP); false: no link, and the reset pages refuse. */
  GATEHOUSE_PASSWORD_RESET: booleanSetting.default(true),
  /** How long a password-reset link works (it works once). */
  GATEHOUSE_PASSWORD_RESET_TTL: seconds(60).default(1800),
  /** How long an operator's invitation link works (it works once); at most 30 days. */
  GATEHOUSE_INVITATION_TTL: seconds(60).max(2_592_000, { message: 'must be at most 2592000 (30 days)' }).default(259_200),
  /** How long one delivery attempt may take (connect, greeting, each reply) before it is retried in the background. */
  GATEHOUSE_SMTP_TIMEOUT: seconds(1).default(10),
  /** How long an email-verification link works (it works once). */
  GATEHOUSE_EMAIL_VERIFICATION_TTL: seconds(60).default(86_400),
  /** Whose unconfirmed email stops a sign-in until it is confirmed. */
  GATEHOUSE_REQUIRE_VERIFIED_EMAIL: z.enum(['off', 'self-registered', 'all'], { message: 'must be off, self-registered or all' }).default('self-registered'),
  /** People may create their own account from the sign-in page. */
  GATEHOUSE_SELF_REGISTRATION: booleanSetting.default(false),
  /** Email domains self-registration accepts (comma-separated); empty = any. */
  GATEHOUSE_SELF_REGISTRATION_DOMAINS: z.string().default(''),
  /** Roles every new user gets (Keycloak's realm default roles), comma-separated. */
  GATEHOUSE_DEFAULT_ROLES: z
    .string()
    .refine((value) => value.split(',').every((name) => name.trim().length <= 128), { message: 'each role must be at most 128 characters' })
    .refine((value) => value.split(',').filter((name) => name.trim() !== '').length <= 100, { message: 'must name at most 100 roles' })
    .refine((value) => !value.split(',').some((name) => name.trim() === 'admin'), {
      message: "must not name admin (Gatehouse's administrator role: every new user, self-registered ones included, would administer Gatehouse)",
    })
    .default(''),
});

export type RawSettings = z.input<typeof settingsSchema>;
export type ParsedSettings = z.output<typeof settingsSchema>;
export type SettingName = keyof RawSettings;

export const SETTING_NAMES = Object.keys(settingsSchema.shape) as SettingName[];

/**
 * Settings an operator may also change while Gatehouse runs (admin API, CLI, console: see
 * src/settings/). Set in the environment or the config file, one of these pins its value:
 * the stored value is then ignored and the setting is read-only everywhere.
 */
export const RUNTIME_SETTINGS = [
  'GATEHOUSE_SELF_REGISTRATION',
  'GATEHOUSE_SELF_REGISTRATION_DOMAINS',
  'GATEHOUSE_REQUIRE_VERIFIED_EMAIL',
  'GATEHOUSE_EMAIL_VERIFICATION_TTL',
  'GATEHOUSE_PASSWORD_RESET',
  'GATEHOUSE_PASSWORD_RESET_TTL',
  'GATEHOUSE_INVITATION_TTL',
  'GATEHOUSE_DEFAULT_ROLES',
  'GATEHOUSE_PASSWORD_MIN_LENGTH',
  'GATEHOUSE_PASSWORD_MAX_LENGTH',
  'GATEHOUSE_PASSWORD_DIGITS',
  'GATEHOUSE_PASSWORD_LOWERCASE',
  'GATEHOUSE_PASSWORD_UPPERCASE',
  'GATEHOUSE_PASSWORD_SPECIAL',
  'GATEHOUSE_PASSWORD_NOT_USERNAME',
  'GATEHOUSE_PASSWORD_NOT_EMAIL',
  'GATEHOUSE_PASSWORD_HISTORY',
  'GATEHOUSE_LOCKOUT_THRESHOLD',
  'GATEHOUSE_LOCKOUT_ACCOUNT_THRESHOLD',
  'GATEHOUSE_LOCKOUT_IP_THRESHOLD',
  'GATEHOUSE_LOCKOUT_WINDOW',
  'GATEHOUSE_LOCKOUT_SECONDS',
  'GATEHOUSE_LOCKOUT_MAX_SECONDS',
  'GATEHOUSE_MFA_REQUIRED_ROLES',
  'GATEHOUSE_MFA_REQUIRED_GROUPS',
  'GATEHOUSE_OTP_DIGITS',
  'GATEHOUSE_OTP_PERIOD',
  'GATEHOUSE_OTP_ALGORITHM',
  'GATEHOUSE_OTP_LOOK_AHEAD',
] as const satisfies readonly SettingName[];
export type RuntimeSettingName = (typeof RUNTIME_SETTINGS)[number];

/** Settings that hold secrets: they also accept NAME_FILE and are never printed. */
export const SECRET_SETTINGS: readonly SettingName[] = [
  'GATEHOUSE_SECRET',
  'GATEHOUSE_ADMIN_PASSWORD',
  'MONGODB_URI',
  'REDIS_URL',
  'GATEHOUSE_METRICS_TOKEN',
  'GATEHOUSE_SMTP_URL',
];
