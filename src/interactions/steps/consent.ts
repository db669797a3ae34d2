import type { ConsentGiven } from '../../consents/records.ts';
import { isOidcScope } from '../../oidc/claims.ts';
import type { SignInStep, StepContext } from './step.ts';
import { isolate } from '../breakable.ts';

const KNOWN_CLAIMS = new Set([
  ...['sub', 'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website'],
  ...['gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'address', 'roles', 'groups'],
]);

const webUrl = (value: unknown): string | undefined =>
  typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value : undefined;

export interface SignedIn {
  name(sub: string): Promise<string | undefined>;
  readonly signOutPath: string;
}

/** How the consent page names an API: by its display name, as the account page does. */
export interface ApiNames {
  /** The API's display name; undefined for an unknown one (then its address is shown). */
  name(identifier: string): Promise<string | undefined>;
  /** Gatehouse's own admin API, named in the reader's language. */
  readonly adminAudience: string;
}

/** What the consent page says a claim scope gives: the operator's description in the reader's language, or undefined. */
export interface ScopeDescriptions {
  describe(scope: string, locale: string): string | undefined;
}

/** Where the consent page's Allow is kept beyond the sign-in session (src/consents/records.ts). */
export interface ConsentKeeper {
  add(accountId: string, clientId: string, given: ConsentGiven): Promise<void>;
}

/** Everything a grant gives (the session's earlier consents included), as a consent record keeps it. */
function givenBy(grant: { getOIDCScope(): string; getOIDCClaims(): string[]; resources?: Record<string, unknown> | undefined; getResourceScope(resource: string): string }): ConsentGiven {
  const resources: Record<string, string[]> = {};
  for (const indicator of Object.keys(grant.resources ?? {})) resources[indicator] = grant.getResourceScope(indicator).split(' ').filter(Boolean);
  return { scopes: grant.getOIDCScope().split(' ').filter(Boolean), claims: grant.getOIDCClaims(), resources };
}

/**
 * The consent prompt: lists what the client asks for; approving records it in the grant, and in
 * the user's consent record for the client (`keeper`), so a later sign-in session is not asked
 * again for it. Deny (the engine's abort) writes nothing.
 */
export function consentStep(signedIn?: SignedIn, keeper?: ConsentKeeper, apis?: ApiNames, descriptions?: ScopeDescriptions): SignInStep {
  async function signedInAccount(details: StepContext['details']): Promise<{ name: string; switchHref: string } | undefined> {
    const sub = details.session?.accountId;
    const name = sub === undefined || signedIn === undefined ? undefined : await signedIn.name(sub);
    if (name === undefined) return undefined;
    const query = typeof details.params.client_id === 'string' ? `?${new URLSearchParams({ client_id: details.params.client_id })}` : '';
    return { name, switchHref: `${signedIn!.signOutPath}${query}` };
  }

  async function apiName(identifier: string, t: StepContext['t']): Promise<string> {
    if (identifier === apis?.adminAudience) return t('api.admin');
    const name = await apis?.name(identifier);
    return name === undefined || name.trim() === '' ? identifier : name;
  }

  return {
    name: 'consent',
    view: 'consent',
    async show({ details, client, t, render, locale }) {
      /** An operator's words, isolated (FSI … PDI) so right-to-left text in them cannot reorder the page's; EJS escapes them. */
      const scopeText = (scope: string) => {
        if (isOidcScope(scope)) return t(`scope.${scope}`);
        const description = descriptions?.describe(scope, locale);
        return description === undefined ? t('scope.other', { scope: isolate(scope) }) : isolate(description);
      };
      const { prompt } = details;
      const oidcScopes = (prompt.details.missingOIDCScope as string[] | undefined) ?? [];
      const resourceScopes = Object.entries((prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {});
      const claims = ((prompt.details.missingOIDCClaims as string[] | undefined) ?? []).filter((claim) => claim !== 'sub');
      const name = client?.clientName ?? client?.clientId ?? '';
      const links = [
        { href: webUrl(client?.clientUri), label: 'consent.link_home' },
        { href: webUrl(client?.policyUri), label: 'consent.link_privacy' },
        { href: webUrl(client?.tosUri), label: 'consent.link_terms' },
      ].filter((link) => link.href !== undefined);
      const apiNames = new Map(await Promise.all(resourceScopes.map(async ([api]) => [api, await apiName(api, t)] as const)));
      await render({
        title: t('consent.title'),
        client: { name, logoUri: webUrl(client?.logoUri), links },
        account: await signedInAccount(details),
        scopes: [
          ...oidcScopes.map(scopeText),
          ...resourceScopes.flatMap(([api, scopes]) => scopes.map((scope) => t('scope.resource', { scope: isolate(scope), api: isolate(apiNames.get(api)!) }))),
        ],
        claims: claims.map((claim) => (KNOWN_CLAIMS.has(claim) ? t(`claim.${claim}`) : t('claim.other', { claim }))),
      });
    },
    actions: {
      async confirm({ koa, provider, details, finish }) {
        const { prompt, params, session } = details;
        const accountId = session?.accountId;
        if (accountId === undefined) return koa.throw(400, 'There is nothing to approve.');
        const grant =
          details.grantId !== undefined
            ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId, clientId: params.client_id as string });
        if (grant === undefined) return koa.throw(400, 'The request expired. Go back to the application and try again.');
        const scope = prompt.details.missingOIDCScope as string[] | undefined;
        if (scope !== undefined) grant.addOIDCScope(scope.join(' '));
        const claims = prompt.details.missingOIDCClaims as string[] | undefined;
        if (claims !== undefined) grant.addOIDCClaims(claims);
        const resourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
        for (const [indicator, scopes] of Object.entries(resourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        await keeper?.add(accountId, grant.clientId!, givenBy(grant));
        return finish({ consent: details.grantId === undefined ? { grantId } : {} });
      },
    },
  };
}
