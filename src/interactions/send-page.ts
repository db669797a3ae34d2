import type { Locale } from './i18n.ts';
import { languageLinks, returnPathOf } from './language.ts';
import type { PageModel, Views } from './views.ts';

/** The parts of a Koa context a page needs (Gatehouse's own and the provider's contexts alike). */
export interface PageContext {
  status: number;
  type: string;
  body: unknown;
  set(field: string, value: string): void;
  readonly response: { get(field: string): string };
  readonly method: string;
  readonly originalUrl: string;
}

/**
 * Renders a hosted page: never cached (pages carry CSRF tokens and personal data), with the
 * language switcher, and — for unexpected server-side failures (5xx) only — the request id the
 * Koa app put on the response (the same id the request log line carries) as the support
 * reference. A wrong password, a wrong code, an expired form or an unknown client is something
 * the person or the application can put right; a reference there only suggests calling support.
 */
export async function sendPage(ctx: PageContext, views: Views, page: string, locale: Locale, model: PageModel, status = 200): Promise<void> {
  const requestId = ctx.response.get('X-Request-Id') || undefined;
  const languages = languageLinks(views, locale, returnPathOf(ctx.method, ctx.originalUrl, views.paths.interaction));
  const html = await views.render(page, locale, { ...model, requestId, showReference: status >= 500, languages });
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = html;
}

/**
 * The status of a hosted form shown again with the person's error — a wrong password, one-time
 * code, recovery code or passkey, a refused registration or new password, a wrong device code:
 * 400, whatever the reason, so monitoring can count failed attempts by status. (Keycloak answers
 * 200 there.) One status for every reason: unknown user, wrong password, locked and disabled
 * accounts stay indistinguishable (README "Hosted pages"). Too many attempts is 429.
 */
export const FORM_ERROR_STATUS = 400;

/** Page errors whose message already says what to do next (the page adds only "contact support"). */
const WITH_NEXT_STEP = new Set(['expired', 'csrf', 'not_a_form', 'too_large', 'too_many_requests']);

const ERROR_MESSAGES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_redirect_uri',
  'unauthorized_client',
  'access_denied',
  'invalid_scope',
  'server_error',
]);

export interface ErrorPage {
  /** OAuth error code or one of Gatehouse's page errors (expired, csrf, not_a_form, too_large, not_found, too_many_requests). */
  readonly code: string;
  readonly description?: string | undefined;
  /** The values its message names (too_large: `{limit}`, already in the reader's units). */
  readonly params?: Readonly<Record<string, string>> | undefined;
}

/** The friendly error page: a localized message per known code, details folded away, never a stack. */
export function sendErrorPage(ctx: PageContext, views: Views, locale: Locale, { code, description, params }: ErrorPage, status: number): Promise<void> {
  const t = views.translate(locale);
  const known = ERROR_MESSAGES.has(code) || WITH_NEXT_STEP.has(code) || code === 'not_found';
  const message = t(known ? `error.${code}` : status >= 500 ? 'error.server_error' : 'error.lead', params);
  const oauthCode = ERROR_MESSAGES.has(code) || !known ? code : undefined;
  return sendPage(ctx, views, 'error', locale, {
    title: t('error.title'),
    message,
    code: oauthCode,
    ownNextStep: WITH_NEXT_STEP.has(code),
    // Server errors say nothing about internals.
    description: status >= 500 || code === 'server_error' ? undefined : description,
  }, status);
}
