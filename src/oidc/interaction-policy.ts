import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_MFA } from './acr.ts';
import { clientFlag } from './client-metadata.ts';

const { base, Check } = interactionPolicy;

/** The prompt value of OpenID Connect "Initiating User Registration via OpenID Connect 1.0". */
export const CREATE_PROMPT = 'create';

/**
 * The library's default prompts, the sign-in steps' custom prompts between login and consent
 * (in step order: the library asks them in policy order), plus one login check: a session whose account no longer
 * resolves (findAccount returns undefined for disabled or deleted users) must sign in again.
 * Without it the library carries on with a session but no account and fails with a 500.
 */
export function gatehouseInteractionPolicy(custom: readonly (() => InstanceType<typeof interactionPolicy.Prompt>)[] = []): ReturnType<typeof base> {
  const policy = base();
  const login = policy.get('login');
  if (login === undefined) throw new Error('the default interaction policy has no login prompt');
  const accountGone = new Check('account_unavailable', 'the signed-in account is disabled or no longer exists', 'login_required', (ctx: KoaContextWithOIDC) =>
    ctx.oidc.session?.accountId !== undefined && ctx.oidc.account === undefined ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
  );
  const after = login.checks.findIndex((check) => check.reason === 'no_session');
  login.checks.splice(after + 1, 0, accountGone);
  // An essential acr of `mfa` (claims parameter) is reached by the second-factor step after a
  // sign-in, not by signing in again: the library's own checks would ask for the password in a loop.
  for (const reason of ['essential_acr', 'essential_acrs']) {
    const check = login.checks.get(reason);
    if (check === undefined) continue;
    const own = check.check;
    check.check = (ctx) => (ctx.oidc.session?.accountId !== undefined && essentialAcrs(ctx).includes(ACR_MFA) ? Check.NO_NEED_TO_PROMPT : own(ctx));
  }
  // First-party clients never see the consent page: the operator vouches for them. Two of the
  // library's consent checks would still ask: native apps on every sign-in (their identity cannot
  // be proven) and `prompt=consent` (which OIDC Core §11 requires for `offline_access`; Keycloak
  // ignores it for clients without "consent required" too). Their grant is made in grant-policy.ts.
  for (const reason of ['native_client_prompt', 'consent_prompt']) {
    const check = policy.get('consent')?.checks.get(reason);
    if (check === undefined) continue;
    const own = check.check;
    check.check = (ctx) => (ctx.oidc.client !== undefined && clientFlag(ctx.oidc.client, 'first_party') ? Check.NO_NEED_TO_PROMPT : own(ctx));
  }
  // `create` (OpenID Connect "Initiating User Registration") comes before login: registering is
  // how the user gets an account to sign in with. The other custom prompts go before consent.
  for (const made of custom.map((prompt) => prompt())) {
    if (made.name === CREATE_PROMPT) policy.add(made, 0);
    else policy.add(made, policy.findIndex((prompt) => prompt.name === 'consent'));
  }
  return policy;
}

/** The acr values a request's `claims` parameter asks for as essential in the ID token. */
export function essentialAcrs(ctx: KoaContextWithOIDC): string[] {
  const request = (ctx.oidc.claims as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } | null } } | undefined)?.id_token?.acr;
  if (request === null || request === undefined || request.essential !== true) return [];
  const values = Array.isArray(request.values) ? request.values : request.value !== undefined ? [request.value] : [];
  return values.filter((value): value is string => typeof value === 'string');
}
