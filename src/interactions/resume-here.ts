import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { CookieSigner } from '../http/cookie-signer.ts';
import { forgetProviderRoute } from '../http/route-label.ts';

export interface ResumeHereOptions {
  /** The path of the authorization's resume route for an interaction (`<authorization>/<uid>`), as the browser would request it. */
  readonly resumePath: (uid: string) => string;
  /** Runs the step's save and the resume with the interaction's save held back for the resume (src/storage/oidc/interaction-hand-off.ts). */
  readonly handOff: <T>(uid: string, run: () => Promise<T>) => Promise<T>;
}

/**
 * A step that finishes answers with what the browser would get one request later: instead of a
 * 303 to the resume URL (`/auth/:uid`), which the browser follows at once, this request goes on
 * as that GET through the rest of the app (the pages in front of the provider, the gates, the
 * provider mount), and the provider answers it — the redirect to the client, the next step's page,
 * the form_post page. One HTTP request per sign-in less (its parsing, middlewares, cookie checks,
 * response write), on the server and in the browser.
 *
 * The provider binds the resume to the browser by the resume cookie (the interaction's uid,
 * signed), set with the interaction cookie in the same response at /auth, with the same options
 * but a path (`/auth/:uid`) this request does not reach. This request has already proven the same
 * binding: it read the interaction through the interaction cookie (`interactionDetails`: signed,
 * equal to the uid in the path). So the resume cookie the browser holds is presented on its
 * behalf (signed with the keys the provider verifies with), and the provider's answer clears it
 * in the browser as before. Everything else the provider checks at the resume (the session
 * cookie, which has the root path, the interaction's session, the result) is unchanged.
 *
 * Only for the authorization's resume route of this interaction (the provider builds returnTo
 * from the issuer: always this server); any other returnTo (the device flow's) is redirected to
 * as before. The access log and metrics keep the request as the POST it was.
 */
export async function resumeHere(ctx: Context, next: Next, provider: Provider, options: Pick<ResumeHereOptions, 'resumePath'>, uid: string, returnTo: string): Promise<boolean> {
  if (new URL(returnTo).pathname !== options.resumePath(uid)) return false;
  const { req } = ctx;
  const name = provider.cookieName('resume');
  const pair = `${name}=${uid}`;
  const signer = ctx.app.keys as unknown as CookieSigner;
  const presented = `${pair}; ${name}.sig=${signer.sign(pair)}`;
  const { method, url } = req;
  const cookies = req.headers.cookie;
  // First in the header: a cookie parser takes the first of a name.
  req.headers.cookie = cookies === undefined || cookies === '' ? presented : `${presented}; ${cookies}`;
  req.method = 'GET';
  req.url = options.resumePath(uid);
  try {
    await next();
  } finally {
    req.method = method;
    req.url = url;
    if (cookies === undefined) delete req.headers.cookie;
    else req.headers.cookie = cookies;
    forgetProviderRoute(req);
  }
  return true;
}
