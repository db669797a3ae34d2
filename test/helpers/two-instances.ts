import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin, type ApiResponse } from './admin.ts';
import { UserAgent } from './browserless.ts';
import type { TestClock } from './clock.ts';
import { deployment, PASSWORD, type Deployment, type DeploymentOptions } from './e2e.ts';
import { freePort } from './redis-server.ts';

/** Where the deployment's first-party "Notes" client redirects to. */
export const NOTES_REDIRECT = 'https://app.example.com/cb';

export interface TwoInstancesOptions {
  /** Share a Redis too (the default); without it an instance learns of a change when its copy runs out. */
  readonly redis?: boolean;
  readonly clock?: TestClock;
  readonly settings?: Record<string, string>;
  /** Send mail to this SMTP inbox (test/helpers/smtp-inbox.ts). */
  readonly mail?: { readonly url: string };
  /** Also create the console user `operator` (role admin, password PASSWORD). */
  readonly operator?: boolean;
  /** The issuer's host: `localhost` for WebAuthn (an IP address cannot be a relying party id). */
  readonly host?: string;
  /** The second-factor clock of both instances (StartOptions.secondFactorClock). */
  readonly secondFactorClock?: DeploymentOptions['secondFactorClock'];
  /** Hears every command both instances' store connections send (StartOptions.onStoreCommand). */
  readonly onStoreCommand?: DeploymentOptions['onStoreCommand'];
}

/** Two Gatehouse instances on one deployment's stores: A writes a setting, B must follow. */
export interface TwoInstances {
  readonly deploy: Deployment;
  /** Listens on the issuer's port (after restart(), the new instance there). */
  readonly a: RunningGatehouse;
  /** Listens on a port of its own. */
  readonly b: RunningGatehouse;
  /** "Notes": a first-party public code + PKCE client (redirect NOTES_REDIRECT, scope openid). */
  readonly clientId: string;
  /** A fresh admin API token of an admin client made (on first use) on A. */
  token(): Promise<string>;
  /** Calls the admin API on A with such a token. */
  api(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** The environment a CLI process needs to work on these stores. */
  cliEnv(extra?: Record<string, string>): Record<string, string>;
  /** Notes' authorization request (code + PKCE) on one instance. */
  authorizationUrl(instance: RunningGatehouse): string;
  /** Starts an authorization request on one instance; the interaction it redirects to, on that same instance. */
  interaction(instance: RunningGatehouse): Promise<{ agent: UserAgent; url: string }>;
  /** The sign-in page of a fresh authorization request, fetched from one instance. */
  signInPage(instance: RunningGatehouse): Promise<{ agent: UserAgent; url: string; html: string }>;
  /** A real restart of A: closed, then a new instance on the issuer's port (nothing in memory survives). */
  restart(): Promise<void>;
  /** Closes A for good, e.g. to put something else on the issuer's port. */
  stopA(): Promise<void>;
  /** Closes both instances and drops the database. */
  stop(): Promise<void>;
}

export async function twoInstances(label: string, options: TwoInstancesOptions = {}): Promise<TwoInstances> {
  const deploy = await deployment(label, {
    ...(options.redis === undefined ? {} : { redis: options.redis }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.secondFactorClock === undefined ? {} : { secondFactorClock: options.secondFactorClock }),
    ...(options.onStoreCommand === undefined ? {} : { onStoreCommand: options.onStoreCommand }),
    settings: {
      ...(options.mail === undefined ? {} : { GATEHOUSE_SMTP_URL: options.mail.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' }),
      ...options.settings,
    },
  });
  let a = await deploy.start();
  const b = await deploy.start(await freePort());
  const { client } = await a.services.clients.create({
    displayName: 'Notes',
    firstParty: true,
    metadata: { redirect_uris: [NOTES_REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid' },
  });
  if (options.operator === true) await a.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
  let ops: ReturnType<typeof adminClient> | undefined;
  const authorizationUrl = (instance: RunningGatehouse) => {
    const query = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: NOTES_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    return `${instance.url}/auth?${query}`;
  };
  const interaction = async (instance: RunningGatehouse) => {
    const agent = new UserAgent();
    const started = await agent.request(authorizationUrl(instance));
    expect(started.status, 'the authorization request goes to the sign-in').to.equal(303);
    // The path on this instance: a redirect naming the issuer's host would lead to A.
    return { agent, url: `${instance.url}${new URL(started.headers.get('location')!, instance.url).pathname}` };
  };
  const token = async () => {
    ops ??= adminClient(a, `ops-${label}`);
    return (await ops).token();
  };
  return {
    deploy,
    get a() {
      return a;
    },
    b,
    clientId: client.clientId,
    token,
    api: async (method, path, body) => callAdmin(a.url, await token(), method, path, body),
    cliEnv: (extra = {}) => ({
      NODE_ENV: 'test',
      MONGODB_URI: deploy.mongodbUri,
      ...(deploy.redisUrl === undefined ? {} : { REDIS_URL: deploy.redisUrl }),
      GATEHOUSE_SECRET: deploy.secret,
      GATEHOUSE_REDIS_PREFIX: deploy.settings.GATEHOUSE_REDIS_PREFIX!,
      ...extra,
    }),
    authorizationUrl,
    interaction,
    async signInPage(instance) {
      const { agent, url } = await interaction(instance);
      const page = await agent.request(url);
      expect(page.status).to.equal(200);
      return { agent, url, html: await page.text() };
    },
    async restart() {
      await a.close();
      a = await deploy.start();
    },
    stopA: () => a.close(),
    async stop() {
      await b.close();
      await a.close();
      await deploy.drop();
    },
  };
}
