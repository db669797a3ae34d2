import { ConfigError, type Config } from '../config/load.ts';
import { problemErrorMap } from '../errors/normalize.ts';
import { bruteForceGroup, configuredBruteForce } from './brute-force.ts';
import type { SettingsGroup } from './group.ts';
import { configuredMfa, mfaGroup } from './mfa.ts';
import { configuredOtp, otpGroup } from './otp.ts';
import { configuredPasswordPolicy, passwordPolicyGroup } from './password-policy.ts';
import { configuredSignIn, signInGroup } from './sign-in.ts';

/**
 * One group's configured values held to the rule a change through the admin API is held to:
 * each problem as `VARIABLE: "item": why` (the item when the setting is a list).
 */
function groupProblems<S extends object>(group: SettingsGroup<S>, configured: S): string[] {
  const variable = (setting: string) => (group.env as Record<string, string>)[setting] ?? setting;
  const parsed = group.patchSchema.safeParse(configured, { error: problemErrorMap });
  const problems = (parsed.error?.issues ?? []).map((issue) => {
    const [setting, index] = issue.path;
    const value = (configured as Record<string, unknown>)[String(setting)];
    const item = typeof index === 'number' && Array.isArray(value) ? `${JSON.stringify(value[index])}: ` : '';
    return `${variable(String(setting))}: ${item}${issue.message}`;
  });
  if (problems.length > 0) return problems;
  return (group.problems?.(configured) ?? []).map((detail) => `${variable(detail.path.split('.')[0]!)}: ${detail.message}`);
}

/**
 * The runtime settings' configured values (an environment variable's or the configuration file's,
 * else the default) checked once at startup against the rules the admin API applies to a change:
 * a value the API would refuse — a default role or an MFA role named `Order  Manager` (two
 * spaces), one holding an invisible character, a self-registration domain that is no domain —
 * stops the server and the CLI with the variable named, instead of being handed to users or
 * pinned where no one can correct it. The configuration's own schema (src/config/schema.ts) does
 * not know these rules: they live with the settings (src/roles/label-name.ts for names), which
 * src/config must not import (folders import each other in one direction).
 */
export function configuredSettingProblems(config: Config): string[] {
  return [
    ...groupProblems(signInGroup, configuredSignIn(config)),
    ...groupProblems(passwordPolicyGroup, configuredPasswordPolicy(config)),
    ...groupProblems(bruteForceGroup, configuredBruteForce(config)),
    ...groupProblems(mfaGroup, configuredMfa(config)),
    ...groupProblems(otpGroup, configuredOtp(config)),
  ];
}

/** The configuration, or a ConfigError naming each runtime setting whose configured value the admin API would refuse. */
export function withCheckedSettings(config: Config): Config {
  const problems = configuredSettingProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
