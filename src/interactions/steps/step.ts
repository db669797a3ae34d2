import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults, interactionPolicy } from 'oidc-provider';
import type { Locale, Translate } from '../i18n.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
export type StepClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;
export type { InteractionResults };

/** What a step sees of the request it handles; built by the engine (src/interactions/engine.ts). */
export interface StepContext {
  readonly koa: Context;
  readonly provider: Provider;
  readonly details: InteractionDetails;
  /** What earlier steps of this authorization submitted (the library's `lastSubmission`). */
  readonly previous: InteractionResults;
  readonly client: StepClient | undefined;
  readonly locale: Locale;
  readonly t: Translate;
  /**
   * The step's view (or another of its views) with `uid`, a CSRF token and the client's name
   * added to `model`; `status` defaults to 200, or FORM_ERROR_STATUS (400) when `model.error` is set.
   */
  render(model: { readonly title: string; readonly [key: string]: unknown }, options?: { readonly view?: string; readonly status?: number }): Promise<void>;
  /**
   * Ends this step: `result` is merged over what earlier steps submitted and the authorization
   * resumes; the library's policy then decides whether another step (prompt) follows.
   */
  finish(result: InteractionResults): Promise<void>;
  /** Like `finish`, but answers nothing: resolves to the URL that resumes the authorization (a page links to it). */
  complete(result: InteractionResults): Promise<string>;
  /** A 303 to `url` (e.g. the URL `complete` gave). */
  redirect(url: string): void;
}

export type StepAction = (step: StepContext, form: Readonly<Record<string, string>>) => Promise<void>;

/**
 * One step of the hosted sign-in, dispatched by the name of the library's prompt that is
 * pending. A step answers one prompt: the library's own (`login`, `consent`) or a custom one
 * it declares in `prompt`, whose checks decide when the step is due.
 */
export interface SignInStep {
  readonly name: string;
  /** A custom prompt for the provider's interaction policy; steps for the library's own prompts leave it out. */
  readonly prompt?: () => interactionPolicy.Prompt;
  /** A page under views/pages, or an absolute path to an .ejs file (a step shipped outside views/). */
  readonly view: string;
  show(step: StepContext): Promise<void>;
  /** More pages of the step at GET /interaction/:uid/<page> (e.g. the login step's registration form). */
  readonly pages?: Readonly<Record<string, (step: StepContext) => Promise<void>>>;
  /** Form posts to /interaction/:uid/<action>, CSRF-checked; `abort` is the engine's own. */
  readonly actions: Readonly<Record<string, StepAction>>;
}
