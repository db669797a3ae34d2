import { availableParallelism } from 'node:os';
import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';
import { problemErrorMap } from '../errors/normalize.ts';
import { settingConflicts } from './conflicts.ts';
import type { PasswordPolicy } from './password-policy.ts';
import { productionProblems } from './production.ts';
import { RUNTIME_SETTINGS, settingsSchema, type RuntimeSettingName, type SettingName } from './schema.ts';
import { Secret } from './secret.ts';
import { misspelledSettings } from './misspelled.ts';
import { collectRaw, type ConfigSources } from './sources.ts';
import { gatehouseRoutes, issuerOf, keycloakRoutes, type RoutesTable } from '../routes/table.ts';

/**
 * With Redis: longer than the default access-token lifetime (600 s), so an app's refresh finds its
 * grant and session in memory. Safe because with Redis a change reaches every instance by a notice
 * that is retried until it lands, and an instance that cannot hear notices serves nothing from
 * memory (src/cache/change-channel.ts; docs/STORAGE.md, *Change notices when Redis is away*).
 */
const DEFAULT_SESSION_CACHE_TTL = 900;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly env: 'production' | 'development' | 'test';
  /** GATEHOUSE_ISSUER: where Gatehouse is reached; every path below comes from `routes`. */
  readonly publicUrl: string;
  /** The OpenID issuer: the public URL's origin and the routes table's provider base. */
  readonly issuer: string;
  /** Every path Gatehouse serves (src/routes/table.ts). */
  readonly routes: RoutesTable;
  readonly port: number;
  readonly host: string;
  readonly mongodbUri: Secret;
  readonly redisUrl: Secret | undefined;
  readonly secret: Secret;
  readonly admin: { readonly username: string; readonly password: Secret } | undefined;
  readonly refreshReuseWindowSeconds: number;
  /** How long a client may be served from the in-process cache without Redis invalidation. */
  readonly clientCacheTtlSeconds: number;
  /** How long a user profile may be served from the in-process cache without Redis invalidation; 0 = off. */
  readonly accountCacheTtlSeconds: number;
  /** How long a Session or Grant may be served from the in-process cache; 0 = off. */
  readonly sessionCacheTtlSeconds: number;
  /** Prefix of every Redis key and channel Gatehouse uses. */
  readonly redisPrefix: string;
  readonly logLevel: LogLevel;
  /** Environment variables close to a setting's name that are none (src/config/misspelled.ts): warned about at startup. */
  readonly notices: readonly string[];
  readonly trustProxy: boolean;
  /** With trustProxy: how many X-Forwarded-For entries (from the right) come from our proxies. */
  readonly proxyHops: number;
  readonly shutdownTimeoutMs: number;
  /** Worker processes serving requests (GATEHOUSE_WORKERS); 1 = the single process, no cluster. */
  readonly workers: number;
  /** How workers get connections (NODE_CLUSTER_SCHED_POLICY): `none` = each accepts from the shared socket (default), `rr` = node:cluster's round-robin. */
  readonly clusterSchedulingPolicy: 'rr' | 'none';
  /** Node's server timeouts (GATEHOUSE_KEEP_ALIVE_TIMEOUT, _HEADERS_TIMEOUT, _REQUEST_TIMEOUT). */
  readonly connections: { readonly keepAliveTimeoutMs: number; readonly headersTimeoutMs: number; readonly requestTimeoutMs: number };
  readonly mongodbTimeoutMs: number;
  readonly redisTimeoutMs: number;
  /** Token and session lifetimes in seconds. */
  readonly lifetimes: {
    readonly accessToken: number;
    readonly authorizationCode: number;
    readonly idToken: number;
    readonly refreshToken: number;
    readonly session: number;
    readonly deviceCode: number;
    /** How long a sign-in (an interaction, every page and step of it) may take: GATEHOUSE_INTERACTION_TTL. */
    readonly interaction: number;
  };
  /** PKCE for confidential clients too (public clients always need it). */
  readonly requirePkce: boolean;
  /** Outgoing provider requests may reach loopback/private addresses (internal back-channel URIs). */
  readonly allowPrivateNetworkFetch: boolean;
  /** Dynamic client registration behind initial access tokens. */
  readonly registration: boolean;
  readonly passwords: {
    readonly argon2: { readonly memoryKiB: number; readonly iterations: number; readonly parallelism: number };
    readonly poolSize: number;
    readonly queueLimit: number;
    /** Milliseconds an idle hashing worker lives; 0 = until shutdown. */
    readonly idleTimeoutMs: number;
    /** What a new password must be, until the runtime settings change it (src/settings/password-policy.ts). */
    readonly policy: PasswordPolicy;
    /** "Forgot password?" is offered (GATEHOUSE_PASSWORD_RESET); the runtime setting may change it (src/settings/). */
    readonly resetEnabled: boolean;
    /** Seconds a password-reset link works. */
    readonly resetTtlSeconds: number;
  };
  /** Who must use a second factor besides users who enrolled one (docs: README, Multi-factor sign-in). */
  readonly mfa: { readonly requiredRoles: readonly string[]; readonly requiredGroups: readonly string[] };
  /** The OTP policy of new authenticator apps (src/settings/otp.ts). */
  readonly otp: { readonly digits: 6 | 8; readonly period: 30 | 60; readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512'; readonly lookAhead: number };
  readonly lockout: {
    readonly threshold: number;
    readonly accountThreshold: number;
    readonly ipThreshold: number;
    readonly windowSeconds: number;
    readonly lockSeconds: number;
    readonly maxLockSeconds: number;
  };
  readonly keys: KeySettings;
  readonly pages: PageSettings;
  readonly attemptLimits: AttemptLimitSettings;
  readonly metrics: {
    /** Separate listener for /metrics; undefined = served on `port`. */
    readonly port: number | undefined;
    readonly token: Secret | undefined;
  };
  readonly audit: { readonly retentionDays: number; readonly clientCredentials: 'each' | 'per-minute' };
  /** The admin console: seconds without activity before it signs the operator out. */
  readonly console: { readonly idleTimeoutSeconds: number };
  /** Outgoing mail; undefined = GATEHOUSE_SMTP_URL unset, features that need email are off. */
  readonly mail: MailSettings | undefined;
  readonly selfService: SelfServiceSettings;
  /**
   * Runtime settings (src/settings/) that the environment or the config file sets: their values
   * above are fixed, and the admin API, CLI and console show them read-only.
   */
  readonly pinned: readonly RuntimeSettingName[];
}

/** Email verification and self-registration (README: Email verification, Self-registration). */
export interface SelfServiceSettings {
  /** Seconds an email-verification link works. */
  readonly verificationTtlSeconds: number;
  /** Seconds an operator's invitation link works (README: Inviting users). */
  readonly invitationTtlSeconds: number;
  /** Whose unconfirmed email stops their sign-in: nobody, self-registered users, or everyone with an email. */
  readonly requireVerifiedEmail: 'off' | 'self-registered' | 'all';
  readonly registration: boolean;
  /** Lowercased email domains registration accepts; empty = any. */
  readonly registrationDomains: readonly string[];
  /** Roles every new user gets (GATEHOUSE_DEFAULT_ROLES; Keycloak's realm default roles). */
  readonly defaultRoles: readonly string[];
}

export interface MailSettings {
  readonly smtpUrl: Secret;
  readonly from: string;
  /** One delivery attempt's bound (connection, greeting and socket timeouts). */
  readonly timeoutMs: number;
}

/** Branding and template overrides of the hosted pages. */
export interface PageSettings {
  readonly brandName: string;
  readonly logoUrl: string | undefined;
  /** Validated `#rgb` / `#rrggbb`. */
  readonly primaryColor: string;
  readonly supportUrl: string | undefined;
  /** Operator templates; any file missing there falls back to the built-in one. */
  readonly viewsDir: string | undefined;
}

export interface AttemptLimitSettings {
  readonly clientAuthFailures: number;
  readonly userCodeFailures: number;
  readonly windowSeconds: number;
}

export interface KeySettings {
  readonly publishDelayMs: number;
  readonly retentionMs: number;
  /** 0 = no automatic rotation. */
  readonly rotationIntervalMs: number;
  readonly pollIntervalMs: number;
}

/** One problem per setting; the message always starts with the setting's name. */
export class ConfigError extends GatehouseError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`, { status: 500, code: 'server_error', expose: false, exitCode: EXIT.config });
    this.problems = problems;
  }
}

const DEV_DEFAULTS: Partial<Record<SettingName, string>> = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/gatehouse',
};

/** A comma-separated list of names, blanks dropped. */
function names(list: string): string[] {
  return list.split(',').map((name) => name.trim()).filter((name) => name !== '');
}

/**
 * The settings, checked once at startup: read from the environment and files (sources.ts),
 * parsed against the schema (schema.ts), checked across settings (conflicts.ts) and for
 * production (production.ts), then frozen. Every problem found is reported at once.
 */
/**
 * An http:// issuer in production is allowed (a private network, a test rig) but said: its
 * cookies go without Secure and SameSite=None, and OpenID Connect expects https. Loopback names
 * are what browsers treat as secure contexts and what docker-compose's quick start uses: not said.
 */
function plainHttpIssuer(env: string, publicUrl: string): string[] {
  const url = new URL(publicUrl);
  if (env !== 'production' || url.protocol !== 'http:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return [];
  return ['GATEHOUSE_ISSUER: http:// in production: cookies go without Secure, and applications expect an https:// issuer; set the public https:// URL (behind a TLS proxy, the proxy\'s)'];
}

export function loadConfig(sources: ConfigSources): Config {
  const problems: string[] = [];
  const raw = collectRaw(sources, problems);
  const isProduction = (raw.NODE_ENV ?? 'production') === 'production';
  if (!isProduction) {
    for (const [name, value] of Object.entries(DEV_DEFAULTS)) raw[name] ??= value;
  }
  const result = settingsSchema.safeParse(raw, { error: problemErrorMap });
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? 'configuration');
      const message = issue.code === 'invalid_type' && raw[name] === undefined ? 'is required' : issue.message;
      problems.push(`${name}: ${message}`);
    }
  }
  const parsed = result.success ? result.data : undefined;
  if (isProduction) problems.push(...productionProblems(raw, parsed));
  problems.push(...settingConflicts(raw, parsed));
  if (problems.length > 0 || !result.success) throw new ConfigError([...new Set(problems)]);

  const s = result.data;
  const workers = s.GATEHOUSE_WORKERS === 'auto' ? availableParallelism() : s.GATEHOUSE_WORKERS;
  const publicUrl = (s.GATEHOUSE_ISSUER ?? `http://localhost:${s.PORT}`).replace(/\/+$/, '');
  const routes = s.GATEHOUSE_KEYCLOAK_REALM === undefined ? gatehouseRoutes(publicUrl) : keycloakRoutes(publicUrl, s.GATEHOUSE_KEYCLOAK_REALM);
  return Object.freeze({
    env: s.NODE_ENV,
    publicUrl,
    issuer: issuerOf(publicUrl, routes),
    routes,
    port: s.PORT,
    host: s.HOST,
    mongodbUri: new Secret(s.MONGODB_URI as string),
    redisUrl: s.REDIS_URL === undefined ? undefined : new Secret(s.REDIS_URL),
    secret: new Secret(s.GATEHOUSE_SECRET),
    admin:
      s.GATEHOUSE_ADMIN_USERNAME !== undefined && s.GATEHOUSE_ADMIN_PASSWORD !== undefined
        ? Object.freeze({ username: s.GATEHOUSE_ADMIN_USERNAME, password: new Secret(s.GATEHOUSE_ADMIN_PASSWORD) })
        : undefined,
    refreshReuseWindowSeconds: s.GATEHOUSE_REFRESH_REUSE_WINDOW,
    clientCacheTtlSeconds: s.GATEHOUSE_CLIENT_CACHE_TTL,
    accountCacheTtlSeconds: s.GATEHOUSE_ACCOUNT_CACHE_TTL,
    // Without Redis another instance learns of a session change only when its entry expires,
    // and meanwhile refuses tokens the change made valid (sign-in to a second app), so the
    // cache is opt-in there.
    sessionCacheTtlSeconds: s.GATEHOUSE_SESSION_CACHE_TTL ?? (s.REDIS_URL === undefined ? 0 : DEFAULT_SESSION_CACHE_TTL),
    redisPrefix: s.GATEHOUSE_REDIS_PREFIX,
    logLevel: s.GATEHOUSE_LOG_LEVEL,
    notices: [...misspelledSettings(sources.env), ...plainHttpIssuer(s.NODE_ENV, publicUrl)],
    trustProxy: s.GATEHOUSE_TRUST_PROXY,
    proxyHops: s.GATEHOUSE_PROXY_HOPS,
    shutdownTimeoutMs: s.GATEHOUSE_SHUTDOWN_TIMEOUT * 1000,
    workers,
    clusterSchedulingPolicy: s.NODE_CLUSTER_SCHED_POLICY,
    connections: Object.freeze({
      keepAliveTimeoutMs: s.GATEHOUSE_KEEP_ALIVE_TIMEOUT * 1000,
      headersTimeoutMs: s.GATEHOUSE_HEADERS_TIMEOUT * 1000,
      requestTimeoutMs: s.GATEHOUSE_REQUEST_TIMEOUT * 1000,
    }),
    mongodbTimeoutMs: s.GATEHOUSE_MONGODB_TIMEOUT * 1000,
    redisTimeoutMs: s.GATEHOUSE_REDIS_TIMEOUT * 1000,
    lifetimes: Object.freeze({
      accessToken: s.GATEHOUSE_ACCESS_TOKEN_TTL,
      authorizationCode: s.GATEHOUSE_AUTHORIZATION_CODE_TTL,
      idToken: s.GATEHOUSE_ID_TOKEN_TTL,
      refreshToken: s.GATEHOUSE_REFRESH_TOKEN_TTL,
      session: s.GATEHOUSE_SESSION_TTL,
      deviceCode: s.GATEHOUSE_DEVICE_CODE_TTL,
      interaction: s.GATEHOUSE_INTERACTION_TTL,
    }),
    requirePkce: s.GATEHOUSE_REQUIRE_PKCE,
    allowPrivateNetworkFetch: s.GATEHOUSE_ALLOW_PRIVATE_NETWORK_FETCH,
    registration: s.GATEHOUSE_REGISTRATION,
    passwords: Object.freeze({
      argon2: Object.freeze({
        memoryKiB: s.GATEHOUSE_ARGON2_MEMORY_KIB,
        iterations: s.GATEHOUSE_ARGON2_ITERATIONS,
        parallelism: s.GATEHOUSE_ARGON2_PARALLELISM,
      }),
      // Each worker process has its own pool: together they hash on about as many threads as there are cores.
      poolSize: s.GATEHOUSE_HASH_POOL_SIZE ?? Math.max(1, Math.ceil(availableParallelism() / workers)),
      queueLimit: s.GATEHOUSE_HASH_QUEUE_LIMIT,
      idleTimeoutMs: s.GATEHOUSE_HASH_IDLE_TIMEOUT * 1000,
      policy: Object.freeze({
        minLength: s.GATEHOUSE_PASSWORD_MIN_LENGTH,
        maxLength: s.GATEHOUSE_PASSWORD_MAX_LENGTH,
        digits: s.GATEHOUSE_PASSWORD_DIGITS,
        lowercase: s.GATEHOUSE_PASSWORD_LOWERCASE,
        uppercase: s.GATEHOUSE_PASSWORD_UPPERCASE,
        special: s.GATEHOUSE_PASSWORD_SPECIAL,
        notUsername: s.GATEHOUSE_PASSWORD_NOT_USERNAME,
        notEmail: s.GATEHOUSE_PASSWORD_NOT_EMAIL,
        history: s.GATEHOUSE_PASSWORD_HISTORY,
      }),
      resetEnabled: s.GATEHOUSE_PASSWORD_RESET,
      resetTtlSeconds: s.GATEHOUSE_PASSWORD_RESET_TTL,
    }),
    otp: Object.freeze({
      digits: s.GATEHOUSE_OTP_DIGITS as 6 | 8,
      period: s.GATEHOUSE_OTP_PERIOD as 30 | 60,
      algorithm: s.GATEHOUSE_OTP_ALGORITHM,
      lookAhead: s.GATEHOUSE_OTP_LOOK_AHEAD,
    }),
    mfa: Object.freeze({
      requiredRoles: Object.freeze(names(s.GATEHOUSE_MFA_REQUIRED_ROLES)),
      requiredGroups: Object.freeze(names(s.GATEHOUSE_MFA_REQUIRED_GROUPS)),
    }),
    lockout: Object.freeze({
      threshold: s.GATEHOUSE_LOCKOUT_THRESHOLD,
      accountThreshold: s.GATEHOUSE_LOCKOUT_ACCOUNT_THRESHOLD,
      ipThreshold: s.GATEHOUSE_LOCKOUT_IP_THRESHOLD,
      windowSeconds: s.GATEHOUSE_LOCKOUT_WINDOW,
      lockSeconds: s.GATEHOUSE_LOCKOUT_SECONDS,
      maxLockSeconds: s.GATEHOUSE_LOCKOUT_MAX_SECONDS,
    }),
    keys: Object.freeze({
      publishDelayMs: s.GATEHOUSE_KEY_PUBLISH_DELAY * 1000,
      retentionMs: s.GATEHOUSE_KEY_RETENTION * 1000,
      rotationIntervalMs: s.GATEHOUSE_KEY_ROTATION_INTERVAL * 1000,
      pollIntervalMs: s.GATEHOUSE_KEY_POLL_INTERVAL * 1000,
    }),
    pages: Object.freeze({
      brandName: s.GATEHOUSE_BRAND_NAME,
      logoUrl: s.GATEHOUSE_BRAND_LOGO_URL,
      primaryColor: s.GATEHOUSE_BRAND_PRIMARY_COLOR.toLowerCase(),
      supportUrl: s.GATEHOUSE_SUPPORT_URL,
      viewsDir: s.GATEHOUSE_VIEWS_DIR,
    }),
    attemptLimits: Object.freeze({
      clientAuthFailures: s.GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT,
      userCodeFailures: s.GATEHOUSE_USER_CODE_FAILURE_LIMIT,
      windowSeconds: s.GATEHOUSE_ATTEMPT_WINDOW,
    }),
    metrics: Object.freeze({
      port: s.GATEHOUSE_METRICS_PORT,
      token: s.GATEHOUSE_METRICS_TOKEN === undefined ? undefined : new Secret(s.GATEHOUSE_METRICS_TOKEN),
    }),
    audit: Object.freeze({ retentionDays: s.GATEHOUSE_AUDIT_RETENTION_DAYS, clientCredentials: s.GATEHOUSE_AUDIT_CLIENT_CREDENTIALS }),
    console: Object.freeze({ idleTimeoutSeconds: s.GATEHOUSE_CONSOLE_IDLE_TIMEOUT }),
    mail:
      s.GATEHOUSE_SMTP_URL === undefined || s.GATEHOUSE_MAIL_FROM === undefined
        ? undefined
        : Object.freeze({ smtpUrl: new Secret(s.GATEHOUSE_SMTP_URL), from: s.GATEHOUSE_MAIL_FROM, timeoutMs: s.GATEHOUSE_SMTP_TIMEOUT * 1000 }),
    selfService: Object.freeze({
      verificationTtlSeconds: s.GATEHOUSE_EMAIL_VERIFICATION_TTL,
      invitationTtlSeconds: s.GATEHOUSE_INVITATION_TTL,
      requireVerifiedEmail: s.GATEHOUSE_REQUIRE_VERIFIED_EMAIL,
      registration: s.GATEHOUSE_SELF_REGISTRATION,
      registrationDomains: Object.freeze(names(s.GATEHOUSE_SELF_REGISTRATION_DOMAINS).map((domain) => domain.toLowerCase().replace(/^@/, ''))),
      defaultRoles: Object.freeze([...new Set(names(s.GATEHOUSE_DEFAULT_ROLES))]),
    }),
    pinned: Object.freeze(RUNTIME_SETTINGS.filter((name) => raw[name] !== undefined)),
  });
}
