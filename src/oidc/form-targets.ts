import type { KoaContextWithOIDC } from 'oidc-provider';
import { allowFormTargets, redirectSources } from '../http/content-security-policy.ts';
import type { AfterResponseStep } from './after-response.ts';
import { PAGE_ROUTE_NAMES } from './page-routes.ts';

type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;

const NONE: readonly string[] = Object.freeze([]);
/**
 * Each client's sources, made once: the library hands out one Client object for unchanged
 * metadata (a changed registration is a new object), and every sign-in page asks for them.
 * Keeping the same array also lets allowFormTargets keep the policy it widened with it.
 */
const targetsByClient = new WeakMap<Client, readonly string[]>();

/** Where a client's flows may end: its registered redirect and post-logout redirect URIs. */
export function clientFormTargets(client: KoaContextWithOIDC['oidc']['client']): readonly string[] {
  if (client === undefined) return NONE;
  let targets = targetsByClient.get(client);
  if (targets === undefined) {
    targets = Object.freeze(redirectSources([...(client.redirectUris ?? []), ...(client.postLogoutRedirectUris ?? [])], { native: client.applicationType === 'native' }));
    targetsByClient.set(client, targets);
  }
  return targets;
}

/**
 * After the response (src/oidc/after-response.ts), on the routes a browser visits (the only
 * ones that answer HTML, src/oidc/page-routes.ts): once the library has resolved the client of a
 * request, its HTML responses — the form_post page, the sign-out confirmation — may submit forms
 * that end at that client's registered URIs. Only registered URIs are added, never request input.
 */
export const widenFormActionForClient: AfterResponseStep = {
  routes: PAGE_ROUTE_NAMES,
  after(ctx) {
    const client = (ctx as Partial<KoaContextWithOIDC>).oidc?.client;
    if (client !== undefined && ctx.response.is('html')) allowFormTargets(ctx.response, clientFormTargets(client));
  },
};
