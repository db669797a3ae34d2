import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Logger } from '../observability/logger.ts';
import { signInEngine } from './engine.ts';
import { pageErrors } from './page-errors.ts';
import type { ResumeHereOptions } from './resume-here.ts';
import type { SignInStep } from './steps/step.ts';
import type { PagePaths, Views } from './views.ts';

export interface InteractionDeps {
  readonly provider: () => Provider;
  /** The sign-in steps (src/interactions/steps); their custom prompts must be in the provider's policy too. */
  readonly steps: readonly SignInStep[];
  readonly views: Views;
  readonly logger: Logger;
  readonly secureCookies: boolean;
  /** The hosted pages' paths (routes table): `<interaction>/:uid/...` and `<assets>/*.css`. */
  readonly paths: PagePaths;
  /** More page routes behind the same error boundary (the upstream sign-in's start and callback). */
  readonly extraRoutes?: readonly Router[];
  /** Who is signed in, for the consent page's "Signed in as … Not you? Sign out". */
  readonly signedIn?: { name(sub: string): Promise<string | undefined>; readonly signOutPath: string };
  /** A finished step goes on as the resume request in the same request (resume-here.ts). */
  readonly resumeHere?: ResumeHereOptions;
}

/** The hosted pages' assets and the sign-in engine, behind the pages' error boundary. */
export function interactionRoutes(deps: InteractionDeps): Router {
  const router = new Router();
  const { views } = deps;

  const { interaction, assets } = deps.paths;
  router.use(pageErrors(views, deps.logger, interaction));

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

  for (const [name, script] of Object.entries(views.scripts)) {
    router.get(`${assets}/${name}.js`, (ctx) => {
      ctx.type = 'application/javascript';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = script;
    });
  }

  const engine = signInEngine({ ...deps, interactionPath: interaction });
  router.use(engine.routes());
  for (const extra of deps.extraRoutes ?? []) router.use(extra.routes());
  return router;
}
