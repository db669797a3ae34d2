import type { Page } from 'playwright-core';
import type { NewUser } from '../../src/accounts/accounts.ts';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse, StartOptions } from '../../src/server.ts';
import type { UpstreamProvider } from '../../src/upstream/directory.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';

export const SYSTEM_ACTOR = { actor: { type: 'system' as const, id: 'test' } };

export interface UpstreamPair {
  /** The second Gatehouse, on `localhost`: the upstream OpenID provider. */
  readonly upDeploy: Deployment;
  readonly upstream: RunningGatehouse;
  /** The Gatehouse under test, on 127.0.0.1. */
  readonly downDeploy: Deployment;
  readonly gatehouse: RunningGatehouse;
  /** The confidential client registered at the upstream for the aliases' callbacks. */
  readonly client: { readonly clientId: string; readonly secret: string };
  /** The upstream callback (and post-logout return) of the provider `alias` at the Gatehouse under test. */
  callback(alias: string): string;
  loggedOut(alias: string): string;
  /** Adds the provider `alias` (OIDC, the upstream's issuer and client, "Corp alias") to the Gatehouse under test. */
  addProvider(alias: string, extra?: Record<string, unknown>): Promise<UpstreamProvider>;
  /** At the upstream's sign-in page (the browser goes there): signs in with the password. */
  signInUpstream(page: Page, username: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A second Gatehouse as the upstream provider of the Gatehouse under test: two deployments, each
 * with its own database; the upstream on `localhost` and the other on 127.0.0.1, so the two never
 * share cookies. The upstream holds `users` (with the test password) and a confidential client
 * whose redirect (and, with `logout`, post-logout) URIs are the callbacks of `aliases`.
 */
export async function secondGatehouseUpstream(
  label: string,
  {
    aliases,
    users,
    scope = 'openid profile email',
    logout = false,
    secondFactorClock,
    upstreamSecondFactorClock,
  }: {
    aliases: readonly string[];
    users: readonly Omit<NewUser, 'password'>[];
    scope?: string;
    logout?: boolean;
    /** The Gatehouse under test's second-factor clock; `upstreamSecondFactorClock` the upstream's. */
    secondFactorClock?: StartOptions['secondFactorClock'];
    upstreamSecondFactorClock?: StartOptions['secondFactorClock'];
  },
): Promise<UpstreamPair> {
  const upDeploy = await deployment(`${label}_idp`, { host: 'localhost', ...(upstreamSecondFactorClock === undefined ? {} : { secondFactorClock: upstreamSecondFactorClock }) });
  const downDeploy = await deployment(`${label}_rp`, secondFactorClock === undefined ? {} : { secondFactorClock });
  const upstream = await upDeploy.start();
  const gatehouse = await downDeploy.start();
  const callback = (alias: string) => `${downDeploy.issuer}/upstream/${alias}/callback`;
  const loggedOut = (alias: string) => `${downDeploy.issuer}/upstream/${alias}/logged-out`;

  for (const user of users) await upstream.services.accounts.createUser({ ...user, password: PASSWORD });
  const created = await upstream.services.clients.create({
    displayName: 'Gatehouse downstream',
    firstParty: true,
    metadata: {
      redirect_uris: aliases.map(callback),
      ...(logout ? { post_logout_redirect_uris: aliases.map(loggedOut) } : {}),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    },
  });
  const client = { clientId: created.client.clientId, secret: created.secret! };

  return {
    upDeploy,
    upstream,
    downDeploy,
    gatehouse,
    client,
    callback,
    loggedOut,
    addProvider: (alias, extra = {}) =>
      upstreamOperations(gatehouse.services).create(SYSTEM_ACTOR, {
        alias,
        kind: 'oidc',
        display_name: `Corp ${alias}`,
        issuer: upDeploy.issuer,
        client_id: client.clientId,
        client_secret: client.secret,
        scopes: ['openid', 'profile', 'email'],
        ...extra,
      }),
    async signInUpstream(page, username) {
      await page.waitForURL((url) => url.origin === upDeploy.issuer);
      await page.fill('#username', username);
      await page.fill('#password', PASSWORD);
      await page.click('form[action$="/login"] button.primary');
    },
    async close() {
      await gatehouse.close();
      await upstream.close();
      await downDeploy.drop();
      await upDeploy.drop();
    },
  };
}
