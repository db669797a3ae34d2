import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { allowFormTargets } from '../http/content-security-policy.ts';
import { clientFormTargets } from '../oidc/form-targets.ts';
import { readForm } from './body.ts';
import { resumeHere, type ResumeHereOptions } from './resume-here.ts';
import { checkCsrfToken, issueCsrfToken, type CsrfBinding } from './csrf.ts';
import { chosenLocale } from './language.ts';
import { CsrfError } from './page-errors.ts';
import { FORM_ERROR_STATUS, sendPage } from './send-page.ts';
import type { InteractionDetails, InteractionResults, SignInStep, StepClient, StepContext } from './steps/step.ts';
import type { Views } from './views.ts';

export interface EngineDeps {
  readonly provider: () => Provider;
  readonly steps: readonly SignInStep[];
  readonly views: Views;
  readonly secureCookies: boolean;
  /** Where the pages live (the routes table's interaction path, `/interaction` by default). */
  readonly interactionPath: string;
  /** When set, a finished step goes on as the resume request in this one instead of redirecting the browser to it (resume-here.ts). */
  readonly resumeHere?: ResumeHereOptions;
}

/**
 * The hosted sign-in as a list of steps: GET /interaction/:uid shows the step of the pending
 * prompt, POST /interaction/:uid/<action> runs that action of the pending step. Which step comes next is the
 * library's decision (its interaction policy, with each step's custom prompt in it); results are
 * merged with what earlier steps submitted, so a later step sees and keeps them.
 */
export function signInEngine(deps: EngineDeps): Router {
  const { views, interactionPath: base } = deps;
  const csrfCookie = { secure: deps.secureCookies, path: base };
  const byPrompt = new Map<string, SignInStep>();
  for (const step of deps.steps) {
    if (byPrompt.has(step.name)) throw new Error(`two sign-in steps answer the prompt ${step.name}`);
    if (step.actions.abort !== undefined) throw new Error(`sign-in step ${step.name}: "abort" is the engine's own action`);
    byPrompt.set(step.name, step);
  }

  async function contextFor(ctx: Context, next: Next): Promise<{ step: SignInStep | undefined; context: StepContext }> {
    const provider = deps.provider();
    const details: InteractionDetails = await provider.interactionDetails(ctx.req, ctx.res);
    // The language switcher's choice (a cookie) first, then ui_locales, then the browser's.
    const locale = views.negotiate(chosenLocale(ctx) ?? details.params.ui_locales, ctx.get('accept-language'));
    ctx.state.locale = locale;
    const t = views.translate(locale);
    const clientId = details.params.client_id;
    const client: StepClient | undefined = typeof clientId === 'string' ? await provider.Client.find(clientId) : undefined;
    const step = byPrompt.get(details.prompt.name);
    const context: StepContext = {
      koa: ctx,
      provider,
      details,
      previous: (details.lastSubmission ?? {}) as InteractionResults,
      client,
      locale,
      t,
      async render(model, options = {}) {
        // The page's forms end in a redirect to the client: let form-action allow it (see content-security-policy.ts).
        allowFormTargets(ctx.response, clientFormTargets(client));
        const view = options.view ?? step?.view ?? 'error';
        await sendPage(ctx, views, view, locale, {
          clientName: client?.clientName ?? client?.clientId ?? '',
          // The device flow's sign-in (a phone, the application on a TV): no application page to go back to.
          deviceFlow: typeof details.deviceCode === 'string',
          ...model,
          uid: details.uid,
          csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(details)),
        }, options.status ?? (model.error === undefined ? 200 : FORM_ERROR_STATUS));
      },
      complete: (result) => recordResult(details, result),
      redirect: (url) => redirect(ctx, url),
      finish: (result) => finish(ctx, next, provider, details, result),
    };
    return { step, context };
  }

  /** Records the result and resumes the authorization: here (resume-here.ts), else by redirecting the browser. */
  async function finish(ctx: Context, next: Next, provider: Provider, details: InteractionDetails, result: Parameters<typeof recordResult>[1]): Promise<void> {
    const here = deps.resumeHere;
    if (here === undefined) return redirect(ctx, await recordResult(details, result));
    await here.handOff(details.uid, async () => {
      const returnTo = await recordResult(details, result);
      if (!(await resumeHere(ctx, next, provider, here, details.uid, returnTo))) redirect(ctx, returnTo);
    });
  }

  function redirect(ctx: Context, url: string): void {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(url);
  }

  /**
   * A form's CSRF token is bound to its interaction and to the sign-in session the interaction
   * started in (the session's id, a cookie value; none before the first sign-in): a token from
   * another interaction or another browser's session does not pass (src/interactions/csrf.ts).
   */
  const bindingOf = (details: InteractionDetails): CsrfBinding => ({ session: details.session?.cookie, form: `interaction:${details.uid}` });

  async function requireCsrf(ctx: Context, details: InteractionDetails): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf, bindingOf(details))) throw new CsrfError();
    return form;
  }

  const router = new Router();

  router.get(`${base}/:uid`, async (ctx, next) => {
    const { step, context } = await contextFor(ctx, next);
    if (step === undefined) return ctx.throw(500, `no sign-in step answers the prompt ${context.details.prompt.name}`);
    return step.show(context);
  });

  router.post(`${base}/:uid/abort`, async (ctx, next) => {
    const { context } = await contextFor(ctx, next);
    await requireCsrf(ctx, context.details);
    return finish(ctx, next, context.provider, context.details, { error: 'access_denied', error_description: 'The user cancelled the request.' });
  });

  // A step's further pages; one route per page name, like the actions below.
  const pages = new Set(deps.steps.flatMap((step) => Object.keys(step.pages ?? {})));
  for (const name of pages) {
    router.get(`${base}/:uid/${name}`, async (ctx, next) => {
      const { step, context } = await contextFor(ctx, next);
      const page = step?.pages !== undefined && Object.hasOwn(step.pages, name) ? step.pages[name] : undefined;
      // The step is over (back button): show what is due now.
      if (page === undefined) return redirect(ctx, `${base}/${encodeURIComponent(context.details.uid)}`);
      return page(context);
    });
  }

  // One route per action name (the request log and metrics label each by its template).
  const actions = new Set(deps.steps.flatMap((step) => Object.keys(step.actions)));
  for (const name of actions) {
    router.post(`${base}/:uid/${name}`, async (ctx, next) => {
      const { step, context } = await contextFor(ctx, next);
      const form = await requireCsrf(ctx, context.details);
      const action = step !== undefined && Object.hasOwn(step.actions, name) ? step.actions[name] : undefined;
      // A form of a step that is already complete (back button, second tab).
      if (action === undefined) return ctx.throw(400, 'This sign-in step is already complete.');
      return action(context, form);
    });
  }

  return router;
}

/** The custom prompts the steps add to the provider's interaction policy, in step order. */
export function stepPrompts(steps: readonly SignInStep[]) {
  return steps.flatMap((step) => (step.prompt === undefined ? [] : [step.prompt]));
}

/**
 * Records a result on the interaction this request already read (interactionDetails, bound to
 * the browser by its interaction cookie and session) and resolves to the URL that resumes the
 * authorization. Provider#interactionResult does the same after reading the cookie and the
 * interaction again: one Redis read, a signed-cookie check and a context less per sign-in step.
 * A result merges with what earlier steps submitted; an error replaces it.
 */
export async function recordResult(interaction: InteractionDetails, result: InteractionResults | { error: string; error_description?: string }, now: () => number = Date.now): Promise<string> {
  interaction.result = 'error' in result ? result : { ...interaction.lastSubmission, ...result };
  const ttl = (interaction.exp ?? 0) - Math.floor(now() / 1000);
  // Expired while this request ran (a slow hash): as if the provider had not found it.
  if (ttl <= 0) throw new errors.SessionNotFound('interaction session not found');
  await interaction.save(ttl);
  return interaction.returnTo;
}

/**
 * Records a result on an interaction found by its uid rather than by the browser's interaction
 * cookie, and resolves to the URL that resumes the authorization. For a leg that comes back on
 * another path (an upstream provider's callback, which the interaction cookie's path does not
 * cover); the browser must still bring the resume cookie, so the result stays bound to it. Does
 * what Provider#interactionResult does after its cookie lookup. Undefined when the interaction
 * has expired or was already resumed.
 */
export async function resumeInteraction(provider: Provider, uid: string, result: InteractionResults, now: () => number = Date.now): Promise<string | undefined> {
  const interaction = await provider.Interaction.find(uid);
  if (interaction === undefined) return undefined;
  interaction.result = 'error' in result ? result : { ...interaction.lastSubmission, ...result };
  const ttl = (interaction.exp ?? 0) - Math.floor(now() / 1000);
  if (ttl <= 0) return undefined;
  await interaction.save(ttl);
  return interaction.returnTo;
}
