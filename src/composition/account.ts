import type { Middleware } from 'koa';
import { accountPage } from '../account/routes.ts';
import type { BrowserApp } from '../browser-app/serve.ts';
import { dateClock } from '../clock.ts';
import { ensureAccountClient } from '../clients/account-client.ts';
import { deriveKey } from '../crypto/secret-box.ts';
import { loadOnFirstRequest } from '../http/load-on-first-request.ts';
import { endpointPath, upstreamLinkPath } from '../routes/table.ts';
import { accountProfileApi } from '../keycloak/account-profile.ts';
import type { OidcProvider } from './provider.ts';
import type { SelfService } from './self-service.ts';
import { qrSvg } from './sign-in.ts';
import type { Wiring } from './wiring.ts';

/** The account page's own public client (redirect URI = the page). */
export async function prepareAccount({ config, core, issuerOrigin }: Wiring): Promise<void> {
  await ensureAccountClient({ clients: core.services.clients, accountUrl: `${issuerOrigin}${config.routes.account}/` });
}

/** The account page (shell and assets) and the account API, which loads with its first request like the admin API. */
export function composeAccount(w: Wiring, { selfService, oidc }: { selfService: SelfService; oidc: Pick<OidcProvider, 'jwtRecords' | 'publicJwks'> }): { account: Middleware; accountApi: Middleware; page: BrowserApp } {
  const { config, core, logger, secret, options, issuerOrigin } = w;
  const { services, storage } = core;
  const page = accountPage({
    ...(options.browserModules === undefined ? {} : { modules: options.browserModules }),
    path: config.routes.account,
    issuer: config.issuer,
    brandName: config.pages.brandName,
    clients: services.clients,
    logger,
    endpoints: {
      authorization: endpointPath(config.routes, 'authorization'),
      token: endpointPath(config.routes, 'token'),
      endSession: endpointPath(config.routes, 'end_session'),
      api: config.routes.accountApi,
      webauthn: `${config.routes.assets}/webauthn.js`,
    },
  });
  // Keycloak layout: keycloak-js's loadUserProfile() reads Keycloak's Account REST API where the page is.
  const profile =
    config.routes.layout === 'keycloak'
      ? accountProfileApi({
          path: config.routes.account,
          provider: w.provider,
          resolveToken: oidc.jwtRecords.resolver({ issuer: config.issuer, publicJwks: oidc.publicJwks }),
          adapter: storage.adapter,
          accounts: services.accounts,
          now: w.clock.now,
        })
      : undefined;
  const account: Middleware = profile === undefined ? page : (ctx, next) => profile(ctx, () => page(ctx, next));
  const accountApi = loadOnFirstRequest(config.routes.accountApi, async () => {
    const [{ accountApi: accountApiRouter }, { accountAuth }, { passkeyTickets }, { ownAccountOperations }] = await Promise.all([
      import('../account/api.ts'),
      import('../account/auth.ts'),
      import('../account/passkey-ticket.ts'),
      import('../operations/own-account.ts'),
    ]);
    return accountApiRouter({
      path: config.routes.accountApi,
      origin: issuerOrigin,
      logger,
      now: options.secondFactorClock,
      auth: accountAuth({ provider: w.provider, adapter: storage.adapter, accounts: services.accounts }),
      operations: ownAccountOperations(services, {
        verification: selfService.verificationSender,
        emailChanges: selfService.emailChanges,
        emailChangeResends: selfService.emailChangeResends,
        pendingEmailChanges: selfService.pendingEmailChanges,
        issuerName: config.pages.brandName,
        qrSvg,
        mfaPolicy: services.runtimeSettings.mfaPolicyNow,
        tickets: passkeyTickets(deriveKey(secret, 'account-passkey-challenges'), options.secondFactorClock ?? dateClock(w.clock)),
        upstreamLinkUrl: (alias, ticket) => `${w.publicOrigin}${upstreamLinkPath(config.routes, alias)}?${new URLSearchParams({ ticket })}`,
      }),
    }).routes() as Middleware;
  });
  return { account, accountApi, page };
}
