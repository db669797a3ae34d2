import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { allowFormTargets } from '../http/content-security-policy.ts';
import type { Logger } from '../observability/logger.ts';
import { loginResult } from '../oidc/acr.ts';
import { clientFormTargets } from '../oidc/form-targets.ts';
import { isOidcScope } from '../oidc/claims.ts';
import { readForm } from './body.ts';
import { checkCsrfToken, issueCsrfToken } from './csrf.ts';
import type { Locale } from './i18n.ts';
import { chosenLocale } from './language.ts';
import { CsrfError, pageErrors } from './page-errors.ts';
import { sendPage } from './send-page.ts';
import type { PagePaths, Views } from './views.ts';

export type AuthenticationResult = { readonly ok: true; readonly sub: string } | { readonly ok: false };

export interface Authenticator {
  /** One generic failure for unknown user, wrong password, locked or disabled account. May throw HashQueueFullError. */
  authenticate(login: string, password: string, ip: string, clientId: string): Promise<AuthenticationResult>;
  /** A sign-in form is being shown; a password may follow (the hashing pool starts a worker). */
  prepare?(): void;
}

export interface InteractionDeps {
  readonly provider: () => Provider;
  readonly authenticator: Authenticator;
  readonly views: Views;
  readonly logger: Logger;
  readonly secureCookies: boolean;
  /** The hosted pages' paths (routes table): `<interaction>/:uid/...` and `<assets>/*.css`. */
  readonly paths: PagePaths;
  /** Who is signed in, for the consent page's "Signed in as … Not you? Sign out". */
  readonly signedIn?: { name(sub: string): Promise<string | undefined>; readonly signOutPath: string };
  /** The "Forgot password?" link under the sign-in form (src/interactions/password-reset-routes.ts). */
  readonly forgotPasswordPath?: string;
}

type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;
type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const KNOWN_CLAIMS = new Set([
  ...['sub', 'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website'],
  ...['gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'address', 'roles', 'groups'],
]);

const webUrl = (value: unknown): string | undefined =>
  typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value : undefined;

/** Hosted sign-in and consent: interactionDetails → service call → interactionResult. */
export function interactionRoutes(deps: InteractionDeps): Router {
  const router = new Router();
  const { views } = deps;

  const { interaction, assets } = deps.paths;
  const csrfCookie = { secure: deps.secureCookies, path: interaction };
  router.use(pageErrors(views, deps.logger, interaction));

  async function clientOf(provider: Provider, clientId: unknown): Promise<Client | undefined> {
    return typeof clientId === 'string' ? provider.Client.find(clientId) : undefined;
  }

  function localeOf(ctx: Context, details: Details): Locale {
    const locale = views.negotiate(chosenLocale(ctx) ?? details.params.ui_locales, ctx.get('accept-language'));
    ctx.state.locale = locale;
    return locale;
  }

  /** The page's forms end in a redirect to the client: let form-action allow it (see content-security-policy.ts). */
  function allowClientTargets(ctx: Context, client: Client | undefined): void {
    allowFormTargets(ctx.response, clientFormTargets(client));
  }

  async function loginPage(ctx: Context, details: Details, form: { login: string; remember: boolean; error?: string }) {
    deps.authenticator.prepare?.();
    const locale = localeOf(ctx, details);
    const t = views.translate(locale);
    const client = await clientOf(deps.provider(), details.params.client_id);
    allowClientTargets(ctx, client);
    await sendPage(ctx, views, 'login', locale, {
      title: t('login.title'),
      uid: details.uid,
      csrf: issueCsrfToken(ctx, csrfCookie),
      clientName: client?.clientName ?? client?.clientId ?? '',
      login: form.login,
      remember: form.remember,
      forgotHref: deps.forgotPasswordPath,
      error: form.error === undefined ? undefined : t(form.error),
    });
  }

  async function signedInAccount(details: Details): Promise<{ name: string; switchHref: string } | undefined> {
    const sub = details.session?.accountId;
    const name = sub === undefined || deps.signedIn === undefined ? undefined : await deps.signedIn.name(sub);
    if (name === undefined) return undefined;
    const query = typeof details.params.client_id === 'string' ? `?${new URLSearchParams({ client_id: details.params.client_id })}` : '';
    return { name, switchHref: `${deps.signedIn!.signOutPath}${query}` };
  }

  async function consentPage(ctx: Context, details: Details) {
    const locale = localeOf(ctx, details);
    const t = views.translate(locale);
    const client = await clientOf(deps.provider(), details.params.client_id);
    allowClientTargets(ctx, client);
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
    await sendPage(ctx, views, 'consent', locale, {
      title: t('consent.title'),
      uid: details.uid,
      csrf: issueCsrfToken(ctx, csrfCookie),
      client: { name, logoUri: webUrl(client?.logoUri), links },
      account: await signedInAccount(details),
      scopes: [
        ...oidcScopes.map((scope) => (isOidcScope(scope) ? t(`scope.${scope}`) : t('scope.other', { scope }))),
        ...resourceScopes.flatMap(([api, scopes]) => scopes.map((scope) => t('scope.resource', { scope, api }))),
      ],
      claims: claims.map((claim) => (KNOWN_CLAIMS.has(claim) ? t(`claim.${claim}`) : t('claim.other', { claim }))),
    });
  }

  async function finish(ctx: Context, result: Parameters<Provider['interactionResult']>[2]) {
    const redirectTo = await deps.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  async function requireCsrf(ctx: Context): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf)) throw new CsrfError();
    return form;
  }

  router.get(`${assets}/gatehouse.css`, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = views.stylesheet;
  });

  router.get(`${assets}/theme.css`, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = views.theme;
  });

  router.get(`${interaction}/:uid`, async (ctx) => {
    const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'login') {
      const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
      return loginPage(ctx, details, { login: hint, remember: false });
    }
    return consentPage(ctx, details);
  });

  router.post(`${interaction}/:uid/login`, async (ctx) => {
    const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
    localeOf(ctx, details);
    const form = await requireCsrf(ctx);
    if (details.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const login = (form.login ?? '').trim();
    const remember = form.remember === 'yes';
    const result = await deps.authenticator.authenticate(login, form.password ?? '', ctx.ip, String(details.params.client_id));
    if (!result.ok) return loginPage(ctx, details, { login, remember, error: 'login.failed' });
    return finish(ctx, { login: loginResult({ accountId: result.sub, remember }) });
  });

  router.post(`${interaction}/:uid/confirm`, async (ctx) => {
    const provider = deps.provider();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    localeOf(ctx, details);
    await requireCsrf(ctx);
    const { prompt, params, session } = details;
    const accountId = session?.accountId;
    if (prompt.name !== 'consent' || accountId === undefined) return ctx.throw(400, 'There is nothing to approve.');
    const grant =
      details.grantId !== undefined
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id as string });
    if (grant === undefined) return ctx.throw(400, 'The request expired. Go back to the application and try again.');
    const scope = prompt.details.missingOIDCScope as string[] | undefined;
    if (scope !== undefined) grant.addOIDCScope(scope.join(' '));
    const claims = prompt.details.missingOIDCClaims as string[] | undefined;
    if (claims !== undefined) grant.addOIDCClaims(claims);
    const resourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
    for (const [indicator, scopes] of Object.entries(resourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return finish(ctx, { consent: details.grantId === undefined ? { grantId } : {} });
  });

  router.post(`${interaction}/:uid/abort`, async (ctx) => {
    localeOf(ctx, await deps.provider().interactionDetails(ctx.req, ctx.res));
    await requireCsrf(ctx);
    return finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the request.' });
  });

  return router;
}
