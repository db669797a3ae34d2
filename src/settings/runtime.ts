import type { Redis } from 'ioredis';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';
import type { Config } from '../config/load.ts';
import type { LockoutPolicy } from '../accounts/login-limiter-policy.ts';
import { bruteForceGroup, configuredBruteForce, lockoutPolicyOf, type BruteForceSettings } from './brute-force.ts';
import type { MfaPolicy } from '../mfa/policy.ts';
import { configuredMfa, mfaGroup, mfaPolicyOf, type MfaSettings } from './mfa.ts';
import { pinnedIn, type SettingsGroup } from './group.ts';
import { openSettingsNotices } from './notices.ts';
import { configuredOtp, otpGroup, otpPolicyOf, type OtpSettings } from './otp.ts';
import type { OtpPolicy } from '../mfa/totp.ts';
import { configuredPasswordPolicy, passwordPolicyGroup, passwordPolicyOf, type PasswordPolicySettings } from './password-policy.ts';
import { configuredSignIn, signInGroup, type SignInSettings } from './sign-in.ts';
import { readSettingsDocuments, type StoredSettings } from './model.ts';
import { openSettingsStore, type SettingsStore } from './store.ts';

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface RuntimeSettingsDeps {
  readonly config: Config;
  readonly mongo: Parameters<typeof openSettingsStore>[1]['mongo'];
  readonly redis: Redis | undefined;
  readonly logger: WarnLogger;
  /**
   * The instance's one subscriber connection (src/cache/change-subscriber.ts): with it, the other
   * instances' changes are listened to; without (one-shot processes, CLI commands), changes are
   * announced and none listened to.
   */
  readonly subscriber?: ChangeSubscriber | undefined;
  readonly now: () => number;
}

/** Every group of runtime settings, as operators see them: the admin API, CLI and console list them in this order. */
export interface RuntimeSettings {
  readonly signIn: SettingsStore<SignInSettings>;
  readonly passwordPolicy: SettingsStore<PasswordPolicySettings>;
  readonly bruteForce: SettingsStore<BruteForceSettings>;
  readonly mfa: SettingsStore<MfaSettings>;
  readonly otp: SettingsStore<OtpSettings>;
  /** The password policy in force, as src/accounts checks it. */
  passwordPolicyNow(): Promise<PasswordPolicy>;
  /** The lockout thresholds and durations in force, as the login limiter applies them. */
  lockoutPolicyNow(): Promise<LockoutPolicy>;
  /** Who must use a second factor, as the sign-in, the password grant and the account page ask. */
  mfaPolicyNow(): Promise<MfaPolicy>;
  /** How new authenticator apps are enrolled, and the look-ahead every code is checked with. */
  otpPolicyNow(): Promise<OtpPolicy>;
  /** The roles every new user gets (sign-in group's default_roles). */
  defaultRolesNow(): Promise<readonly string[]>;
  /** The stores by group id (admin API paths, CLI). */
  readonly groups: ReadonlyArray<SettingsStore<object>>;
  close(): Promise<void>;
}

export async function openRuntimeSettings({ config, mongo, redis, logger, subscriber, now }: RuntimeSettingsDeps): Promise<RuntimeSettings> {
  const notices = await openSettingsNotices({ redis, redisPrefix: config.redisPrefix, logger, subscriber });
  // Every group's document in one read (a server start, every CLI command), not one per group. A
  // group changed meanwhile (its notice came during the read) reads its own again on opening.
  const ids = [signInGroup.id, passwordPolicyGroup.id, bruteForceGroup.id, mfaGroup.id, otpGroup.id];
  const noticed = new Set<string>();
  for (const id of ids) notices.listen(id, () => noticed.add(id));
  const docs = await readSettingsDocuments(mongo, ids);
  const initial = <S extends object>(group: SettingsGroup<S>) => (noticed.has(group.id) ? undefined : ((docs.get(group.id) ?? null) as StoredSettings<S> | null));
  const open = <S extends object>(group: SettingsGroup<S>, configured: S) =>
    openSettingsStore(group, { mongo, notices, configured, pinned: pinnedIn(group, config.pinned), logger, now, initial: initial(group) });
  const [signIn, passwordPolicy, bruteForce, mfa, otp] = await Promise.all([
    open(signInGroup, configuredSignIn(config)),
    open(passwordPolicyGroup, configuredPasswordPolicy(config)),
    open(bruteForceGroup, configuredBruteForce(config)),
    open(mfaGroup, configuredMfa(config)),
    open(otpGroup, configuredOtp(config)),
  ]);
  return {
    signIn,
    passwordPolicy,
    passwordPolicyNow: async () => passwordPolicyOf(await passwordPolicy.current()),
    bruteForce,
    lockoutPolicyNow: async () => lockoutPolicyOf(await bruteForce.current()),
    mfa,
    mfaPolicyNow: async () => mfaPolicyOf(await mfa.current()),
    otp,
    otpPolicyNow: async () => otpPolicyOf(await otp.current()),
    defaultRolesNow: async () => (await signIn.current()).default_roles,
    groups: [signIn, passwordPolicy, bruteForce, mfa, otp] as unknown as ReadonlyArray<SettingsStore<object>>,
    close: () => notices.close(),
  };
}
