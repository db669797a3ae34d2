import type { KoaContextWithOIDC } from 'oidc-provider';
import { unavailableStore } from '../errors/store-unavailable.ts';
import { markWrongUserCode } from '../limits/gates.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProviderPageHooks } from '../oidc/configuration.ts';
import { isPageRoute } from '../oidc/page-routes.ts';
import { backLink, type BackLink } from './back-link.ts';
import type { Locale } from './i18n.ts';
import { chosenLocale } from './language.ts';
import { sendErrorPage, sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** The provider's page hooks, rendered with Gatehouse's templates and strings. */
export type ProviderPages = ProviderPageHooks;

export interface ProviderPagesDeps {
  readonly views: Views;
  readonly logger: Logger;
}

/**
 * The library hands each hook a ready-made <form> (action plus hidden CSRF fields). Gatehouse
 * renders its own accessible form from the same action and hidden fields, so the library's
 * CSRF checks stay in charge and no inline script or handler reaches the page.
 */
export function formParts(form: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*\saction="([^"]*)"/.exec(form)?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const input of form.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /\sname="([^"]*)"/.exec(input[0])?.[1];
    const value = /\svalue="([^"]*)"/.exec(input[0])?.[1];
    if (name !== undefined && value !== undefined) fields[name] = decodeEntities(value);
  }
  return { action: decodeEntities(action), fields };
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[entity] ?? '');
}

export function localeOf(views: Views, ctx: KoaContextWithOIDC): Locale {
  const params = (ctx as Partial<KoaContextWithOIDC>).oidc?.params;
  return views.negotiate(chosenLocale(ctx) ?? params?.ui_locales, ctx.get('accept-language'));
}

function clientName(ctx: KoaContextWithOIDC): string {
  const client = (ctx as Partial<KoaContextWithOIDC>).oidc?.client;
  return client?.clientName ?? client?.clientId ?? '';
}

const webUrl = (value: unknown): string | undefined =>
  typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value : undefined;

/**
 * After sign-out, the way back to the application that asked for it (when the library knows
 * it: client_id or id_token_hint): its home page, else where it takes people after sign-out,
 * else its sign-in callback's origin. Only http(s) addresses the client registered.
 */
async function backToClient(ctx: KoaContextWithOIDC): Promise<BackLink | undefined> {
  // The library forwards client_id to the success page only when the person stayed signed in;
  // the sign-out page left the application's id in a short-lived cookie for this link.
  const remembered = ctx.cookies.get(SIGNING_OUT_CLIENT, { signed: false });
  if (remembered !== undefined) ctx.cookies.set(SIGNING_OUT_CLIENT, null, { signed: false });
  const oidcContext = (ctx as Partial<KoaContextWithOIDC>).oidc;
  const client = oidcContext?.client ?? (remembered === undefined ? undefined : await oidcContext?.provider.Client.find(remembered));
  if (client === undefined) return undefined;
  const href =
    webUrl(client.clientUri) ??
    (client.postLogoutRedirectUris ?? []).map(webUrl).find(Boolean) ??
    (client.redirectUris ?? []).map((uri) => (webUrl(uri) === undefined ? undefined : `${new URL(uri).origin}/`)).find(Boolean);
  return href === undefined ? undefined : backLink(client.clientName ?? client.clientId, href);
}

/** Carries the application's client_id from the sign-out page to the signed-out page (no secret). */
const SIGNING_OUT_CLIENT = 'gatehouse.signout';

/**
 * Whether the application asked for this sign-out with an ID token of the signed-in person's
 * current session (the library has already verified the hint's signature and audience before
 * it renders the page): then, as in Keycloak, no confirmation is asked. A hint for someone else
 * or for another session still gets the question.
 */
function hintedBySession(ctx: KoaContextWithOIDC): boolean {
  const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
  const hint = oidc?.entities?.IdTokenHint as { payload?: { sub?: unknown; sid?: unknown } } | undefined;
  const { client, session } = oidc ?? {};
  if (hint?.payload === undefined || client === undefined || session?.accountId === undefined || client.subjectType === 'pairwise') return false;
  if (hint.payload.sub !== session.accountId) return false;
  return hint.payload.sid === undefined || hint.payload.sid === session.sidFor(client.clientId);
}

const WRONG_CODE = new Set(['NotFoundError', 'ExpiredError', 'AlreadyUsedError', 'NoCodeError']);

export function providerPages({ views, logger }: ProviderPagesDeps): ProviderPages {
  return {
    async renderError(ctx, out, error) {
      const status = ctx.status >= 400 ? ctx.status : 500;
      // The library renders a page whenever the Accept header prefers HTML; API routes answer JSON always.
      if (!isPageRoute((ctx as Partial<KoaContextWithOIDC>).oidc?.route)) {
        ctx.set('Cache-Control', 'no-store');
        ctx.type = 'json';
        ctx.body = out;
        return;
      }
      // A store outage (503) is logged once, as a warning, by the provider's error events (src/oidc/events.ts).
      if (status >= 500 && unavailableStore(error) === undefined) logger.error({ err: error, requestId: ctx.response.get('X-Request-Id') }, 'provider error page');
      const code = error.name === 'SessionNotFound' ? 'expired' : String(out.error ?? 'server_error');
      await sendErrorPage(ctx, views, localeOf(views, ctx), { code, description: out.error_description as string | undefined }, status);
    },

    async logoutSource(ctx, form) {
      const locale = localeOf(views, ctx);
      const client = (ctx as Partial<KoaContextWithOIDC>).oidc?.client;
      if (client !== undefined) {
        ctx.cookies.set(SIGNING_OUT_CLIENT, client.clientId, { signed: false, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 600_000 });
      }
      const { action, fields } = formParts(form);
      const auto = hintedBySession(ctx);
      const title = views.translate(locale)(auto ? 'logout.signing_out' : 'logout.title');
      await sendPage(ctx, views, 'logout', locale, { title, action, fields, clientName: clientName(ctx), auto });
    },

    async postLogoutSuccessSource(ctx) {
      const locale = localeOf(views, ctx);
      await sendPage(ctx, views, 'signed-out', locale, { title: views.translate(locale)('signed_out.title'), back: await backToClient(ctx) });
    },

    async userCodeInputSource(ctx, form, _out, error) {
      const session = (ctx as Partial<KoaContextWithOIDC>).oidc?.session as { exp?: unknown; touched?: boolean } | undefined;
      if (error !== undefined && session !== undefined && typeof session.exp !== 'number') {
        // The form came back without a live session (cookie gone or session expired): the library
        // just made a new, unsaved one and would fail persisting it (a 500). Start over with a
        // fresh form instead.
        session.touched = false;
        ctx.set('Cache-Control', 'no-store');
        ctx.status = 303;
        ctx.redirect(ctx.oidc.urlFor('code_verification'));
        return;
      }
      const locale = localeOf(views, ctx);
      const t = views.translate(locale);
      if (error?.name === 'AbortedError') {
        // Cancelled (the confirmation's Cancel, or the sign-in's): the device is not signed in; nothing
        // more to do here — Keycloak's "you may close this browser window" — or another code to enter.
        await sendPage(ctx, views, 'device-cancelled', locale, { title: t('device.cancelled_title'), retryUrl: ctx.oidc.urlFor('code_verification') });
        return;
      }
      let message: string | undefined;
      let status = 200;
      if (error !== undefined) {
        const wrongCode = WRONG_CODE.has(error.name);
        // Counted by the gate before the check (userCodeGate); marked here so it keeps the count.
        if (wrongCode && error.name !== 'NoCodeError') markWrongUserCode(ctx.req);
        message = wrongCode ? t('device.wrong_code') : t('device.failed');
        status = wrongCode ? 400 : ctx.status >= 400 ? ctx.status : 400;
      }
      const { action, fields } = formParts(form);
      const typed = (error as { userCode?: unknown } | undefined)?.userCode;
      await sendPage(ctx, views, 'device-input', locale, {
        title: t('device.input_title'),
        action,
        fields,
        code: typeof typed === 'string' ? typed : '',
        error: message,
      }, status);
    },

    async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
      const locale = localeOf(views, ctx);
      const { action, fields } = formParts(form);
      delete fields.confirm;
      await sendPage(ctx, views, 'device-confirm', locale, {
        title: views.translate(locale)('device.confirm_title'),
        action,
        fields,
        userCode,
        clientName: client.clientName ?? client.clientId,
      });
    },

    async successSource(ctx) {
      const locale = localeOf(views, ctx);
      await sendPage(ctx, views, 'device-success', locale, { title: views.translate(locale)('device.success_title'), clientName: clientName(ctx) });
    },
  };
}
