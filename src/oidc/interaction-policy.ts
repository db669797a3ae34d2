import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { base, Check, Prompt } = interactionPolicy;

/**
 * The library's default prompts, the sign-in steps' custom prompts between login and consent
 * (in step order: the library asks them in policy order), plus one login check: a session whose account no longer
 * resolves (findAccount returns undefined for disabled or deleted users) must sign in again.
 * Without it the library carries on with a session but no account and fails with a 500.
 */
export function gatehouseInteractionPolicy(custom: readonly (() => InstanceType<typeof Prompt>)[] = []): ReturnType<typeof base> {
  const policy = base();
  const login = policy.get('login');
  if (login === undefined) throw new Error('the default interaction policy has no login prompt');
  const accountGone = new Check('account_unavailable', 'the signed-in account is disabled or no longer exists', 'login_required', (ctx: KoaContextWithOIDC) =>
    ctx.oidc.session?.accountId !== undefined && ctx.oidc.account === undefined ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
  );
  const after = login.checks.findIndex((check) => check.reason === 'no_session');
  login.checks.splice(after + 1, 0, accountGone);
  const consent = policy.findIndex((prompt) => prompt.name === 'consent');
  custom.forEach((prompt, i) => policy.add(prompt(), consent + i));
  return policy;
}
