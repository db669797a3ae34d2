import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from '../observability/logger.ts';
import { readForm } from './body.ts';
import { checkCsrfToken, issueCsrfToken } from './csrf.ts';
import type { Views } from './views.ts';

export type AuthenticationResult = { readonly ok: true; readonly sub: string } | { readonly ok: false };

export interface Authenticator {
  /** One generic failure for unknown user, wrong password, locked or disabled account. */
  authenticate(login: string, password: string, ip: string): Promise<AuthenticationResult>;
}

export interface InteractionDeps {
  readonly provider: () => Provider;
  readonly authenticator: Authenticator;
  readonly views: Views;
  readonly logger: Logger;
  readonly productName: string;
  readonly secureCookies: boolean;
}

const SCOPE_WORDS: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name and profile details',
  email: 'See your email address',
  address: 'See your postal address',
  phone: 'See your phone number',
  offline_access: 'Stay signed in to keep access when you are away',
  roles: 'See your roles',
  groups: 'See your groups',
};

const GENERIC_LOGIN_ERROR = 'Incorrect username or password.';

function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** Hosted sign-in and consent: interactionDetails → service call → interactionResult. */
export function interactionRoutes(deps: InteractionDeps): Router {
  const router = new Router();
  const { views } = deps;

  async function page(ctx: Context, name: string, model: Record<string, unknown> & { title: string }, status = 200) {
    noStore(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await views.render(name, { productName: deps.productName, requestId: ctx.state.requestId as string, ...model });
  }

  async function clientName(provider: Provider, clientId: unknown): Promise<string> {
    const client = typeof clientId === 'string' ? await provider.Client.find(clientId) : undefined;
    return (client?.clientName as string | undefined) ?? (typeof clientId === 'string' ? clientId : 'the application');
  }

  async function loginPage(ctx: Context, uid: string, clientId: unknown, login = '', error?: string) {
    const csrf = issueCsrfToken(ctx, deps.secureCookies);
    await page(ctx, 'login', { title: 'Sign in', uid, csrf, login, error, clientName: await clientName(deps.provider(), clientId) });
  }

  async function finish(ctx: Context, result: Parameters<Provider['interactionResult']>[2]) {
    const redirectTo = await deps.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    noStore(ctx);
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  async function requireCsrf(ctx: Context): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf)) ctx.throw(403, 'The form expired. Go back and try again.');
    return form;
  }

  router.get('/assets/gatehouse.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = views.stylesheet;
  });

  router.get('/interaction/:uid', async (ctx) => {
    const provider = deps.provider();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { uid, prompt, params } = details;
    if (prompt.name === 'login') return loginPage(ctx, uid, params.client_id, typeof params.login_hint === 'string' ? params.login_hint : '');
    const missing = [
      ...((prompt.details.missingOIDCScope as string[] | undefined) ?? []),
      ...Object.values((prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {}).flat(),
    ];
    const csrf = issueCsrfToken(ctx, deps.secureCookies);
    return page(ctx, 'consent', {
      title: 'Allow access',
      uid,
      csrf,
      clientName: await clientName(provider, params.client_id),
      scopes: [...new Set(missing)].map((scope) => SCOPE_WORDS[scope] ?? `Use ${scope}`),
    });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const form = await requireCsrf(ctx);
    const provider = deps.provider();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const login = (form.login ?? '').trim();
    const result = await deps.authenticator.authenticate(login, form.password ?? '', ctx.ip);
    if (!result.ok) return loginPage(ctx, details.uid, details.params.client_id, login, GENERIC_LOGIN_ERROR);
    return finish(ctx, { login: { accountId: result.sub, remember: form.remember === 'yes' } });
  });

  router.post('/interaction/:uid/confirm', async (ctx) => {
    await requireCsrf(ctx);
    const provider = deps.provider();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
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

  router.post('/interaction/:uid/abort', async (ctx) => {
    await requireCsrf(ctx);
    await deps.provider().interactionDetails(ctx.req, ctx.res);
    return finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the request.' });
  });

  return router;
}
