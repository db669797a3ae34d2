import type { Account } from 'oidc-provider';
import { mfaRequirement, type MfaPolicy } from './policy.ts';

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/**
 * Whether a user must show a second factor to sign in to this client: they have one enrolled
 * (app or passkey), or the policy requires one for their roles or groups or for the client
 * (`require_mfa`). The hosted sign-in asks for it; a grant that cannot ask (the password grant)
 * must refuse.
 */
export async function needsSecondFactor(policy: MfaPolicy, account: Account, clientRequires: boolean): Promise<boolean> {
  if ((account as { secondFactor?: boolean }).secondFactor === true) return true;
  const claims: Record<string, unknown> = await account.claims('userinfo', 'openid roles groups', {}, []);
  return mfaRequirement(policy, { amr: ['pwd'], roles: list(claims.roles), groups: list(claims.groups), clientRequires, acrValues: undefined }) !== undefined;
}
