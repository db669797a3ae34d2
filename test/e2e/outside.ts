import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { callAdmin, clientCredentials, type ApiResponse } from '../helpers/admin.ts';
import { authorizationRequest, FAST_HASHING, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/**
 * The outside view (outside-*.test.ts): Gatehouse driven only as a stranger drives it — the CLI
 * for the first admin client, then the admin API over HTTP, the hosted pages in Chromium and
 * openid-client as the application. Nothing here reaches into the server's services.
 */

/** The environment `gatehouse` commands get on the deployment's host (README, *CLI*). */
export function cliEnv(deploy: Deployment): Record<string, string> {
  return {
    NODE_ENV: 'test',
    MONGODB_URI: deploy.mongodbUri,
    ...(deploy.redisUrl === undefined ? {} : { REDIS_URL: deploy.redisUrl }),
    GATEHOUSE_SECRET: deploy.secret,
    GATEHOUSE_ISSUER: deploy.issuer,
    ...FAST_HASHING,
    ...deploy.settings,
  };
}

export interface Operator {
  call(method: string, path: string, body?: unknown): Promise<ApiResponse>;
}

/**
 * README's admin API bootstrap, literally: `gatehouse clients create --name ops-bot --admin --json`,
 * then a client_credentials token with `scope=admin` and `resource=<issuer>/admin/api/v1`.
 */
export async function operator(deploy: Deployment): Promise<Operator> {
  const made = await runCli(['clients', 'create', '--name', 'ops-bot', '--admin', '--json'], cliEnv(deploy));
  expect(made.code, made.stderr).to.equal(0);
  const { client_id: clientId, client_secret: secret } = JSON.parse(made.stdout) as { client_id: string; client_secret: string };
  // The token endpoint from discovery (with GATEHOUSE_KEYCLOAK_REALM it is under /realms/<name>); the audience is the admin API's URL.
  const realm = deploy.settings.GATEHOUSE_KEYCLOAK_REALM;
  const issuer = realm === undefined ? deploy.issuer : `${deploy.issuer}/realms/${realm}`;
  const { token_endpoint: tokenEndpoint } = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const token = await clientCredentials(tokenEndpoint.replace(/\/token$/, ''), clientId, secret, { scope: 'admin', resource: `${deploy.issuer}/admin/api/v1` });
  expect(token.status, JSON.stringify(token.body)).to.equal(200);
  const bearer = token.body.access_token as string;
  return { call: (method, path, body) => callAdmin(deploy.issuer, bearer, method, path, body) };
}

/** The application as openid-client sees it, from discovery and what POST /clients answered. */
export function application(issuer: string, created: ApiResponse): Promise<oidc.Configuration> {
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const { client_id: clientId, client_secret: secret } = created.body as { client_id: string; client_secret?: string };
  return oidc.discovery(new URL(issuer), clientId, secret === undefined ? undefined : { client_secret: secret }, secret === undefined ? oidc.None() : undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Code + PKCE in a browser page: opens the authorization URL; `finish` redeems the code once the page is back at `redirectUri`. */
export async function startCodeFlow(page: Page, app: oidc.Configuration, redirectUri: string, parameters: Record<string, string> = {}) {
  const { url, checks } = await authorizationRequest(app, redirectUri, parameters);
  await page.goto(url.toString());
  return {
    async finish() {
      await page.waitForURL((at) => at.toString().startsWith(redirectUri));
      return oidc.authorizationCodeGrant(app, new URL(page.url()), checks);
    },
  };
}
