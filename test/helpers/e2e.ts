import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { Logger } from '../../src/observability/logger.ts';
import type { RunningGatehouse, StartOptions } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { startInstance } from './instance.ts';
import { freePort } from './redis-server.ts';
import { forSuite } from './suite.ts';
import { emptyDatabaseUri, freshDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from './stores.ts';
import { clientSecretBasic } from './client-auth.ts';

/** Fast password hashing for tests; the production defaults are checked elsewhere. */
export const FAST_HASHING = {
  GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
  GATEHOUSE_ARGON2_ITERATIONS: '1',
  GATEHOUSE_HASH_POOL_SIZE: '1',
};

export const API = 'https://api.example.com';
export const REDIRECT_URI = 'https://app.example.com/cb';
export const SPA_REDIRECT_URI = 'https://spa.example.com/cb';
export const LOGOUT_REDIRECT_URI = 'https://app.example.com/signed-out';
export const PASSWORD = 'correct horse battery staple';

export interface Deployment {
  readonly issuer: string;
  readonly mongodbUri: string;
  readonly redisUrl: string | undefined;
  readonly secret: string;
  readonly settings: Record<string, string>;
  /** Starts (another) instance on these stores; the first one listens on the issuer's port. */
  start(port?: number, logger?: Logger): Promise<RunningGatehouse>;
  /** Empties the database for another deployment (test/helpers/stores.ts); every instance on it must be closed. */
  drop(): Promise<void>;
}

export interface DeploymentOptions {
  redis?: boolean;
  /** A new database rather than an emptied one: for a test of what a first start creates there (indexes). */
  fresh?: boolean;
  settings?: Record<string, string>;
  extraSteps?: StartOptions['extraSteps'];
  secondFactorClock?: StartOptions['secondFactorClock'];
  clock?: StartOptions['clock'];
  /** Stands in for the stores' own clock (StartOptions.storeClock), for every instance. */
  storeClock?: StartOptions['storeClock'];
  /** Hears every command the instances' MongoDB and Redis connections send. */
  onStoreCommand?: StartOptions['onStoreCommand'];
  browserModules?: StartOptions['browserModules'];
  host?: string;
  /** Another issuer than the address the instances listen on (e.g. https:// behind a TLS proxy, with GATEHOUSE_TRUST_PROXY). */
  issuer?: string;
}

/** One deployment: shared stores and secret; instances come and go on it. */
export async function deployment(label: string, options: DeploymentOptions = {}): Promise<Deployment> {
  const port = await freePort();
  // `localhost` for WebAuthn tests: an IP address cannot be a relying party id.
  const issuer = options.issuer ?? `http://${options.host ?? '127.0.0.1'}:${port}`;
  const mongodbUri = options.fresh === true ? freshDatabaseUri(label) : emptyDatabaseUri(label);
  const redisUrl = options.redis === false ? undefined : serviceUrls().redisUrl;
  const secret = randomSecret();
  const settings = { ...FAST_HASHING, GATEHOUSE_REDIS_PREFIX: `gh-${label}-${port}:`, ...options.settings };
  return {
    issuer,
    mongodbUri,
    redisUrl,
    secret,
    settings,
    start: (listenOn = port, logger?: Logger) =>
      startInstance({
        mongodbUri,
        redisUrl,
        secret,
        issuer,
        settings: { ...settings, PORT: String(listenOn) },
        ...(logger ? { logger } : {}),
        ...(options.extraSteps ? { extraSteps: options.extraSteps } : {}),
        ...(options.secondFactorClock ? { secondFactorClock: options.secondFactorClock } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.storeClock ? { storeClock: options.storeClock } : {}),
        ...(options.onStoreCommand ? { onStoreCommand: options.onStoreCommand } : {}),
        ...(options.browserModules ? { browserModules: options.browserModules } : {}),
      }),
    drop: () => recycleDatabase(mongodbUri),
  };
}

/**
 * A Gatehouse on a free loopback port over `mongodbUri` and the test Redis (fast hashing), and the
 * environment a CLI process (runCli) needs to work on the same stores.
 */
export async function instanceWithCliEnv(mongodbUri: string, secret: string): Promise<{ gatehouse: RunningGatehouse; env: Record<string, string> }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { redisUrl } = serviceUrls();
  const env = { NODE_ENV: 'test', MONGODB_URI: mongodbUri, REDIS_URL: redisUrl, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: issuer, ...FAST_HASHING };
  const gatehouse = await startInstance({ mongodbUri, redisUrl, secret, issuer, settings: { PORT: String(port), ...FAST_HASHING } });
  return { gatehouse, env };
}

export interface SuiteInstance {
  readonly deploy: Deployment;
  /** Listens on the issuer's port. */
  readonly gatehouse: RunningGatehouse;
}

/**
 * One Gatehouse for a describe block, on a deployment of its own (an emptied database, fast
 * hashing, a Redis prefix of its own; `redis: false` for none): started in the block's before
 * hook; closed, and its database given back emptied, in its after hook. Read its members inside
 * the block's hooks and tests (forSuite).
 */
export function instanceForSuite(label: string, options: DeploymentOptions & { logger?: Logger } = {}): SuiteInstance {
  return forSuite(() => startSuiteInstance(label, options), stopSuiteInstance);
}

export interface SeededSuiteInstance extends SuiteInstance {
  readonly cast: Seeded;
}

/** instanceForSuite with the usual cast (seed) in place before the block's own before hooks run. */
export function seededInstanceForSuite(label: string, options: DeploymentOptions & { logger?: Logger } = {}): SeededSuiteInstance {
  return forSuite(async () => {
    const started = await startSuiteInstance(label, options);
    try {
      return { ...started, cast: await seed(started.gatehouse) };
    } catch (error) {
      await stopSuiteInstance(started);
      throw error;
    }
  }, stopSuiteInstance);
}

async function startSuiteInstance(label: string, options: DeploymentOptions & { logger?: Logger }): Promise<SuiteInstance> {
  const deploy = await deployment(label, options);
  return { deploy, gatehouse: await deploy.start(undefined, options.logger) };
}

async function stopSuiteInstance({ deploy, gatehouse }: SuiteInstance): Promise<void> {
  await gatehouse.close();
  await deploy.drop();
}

export interface Seeded {
  readonly user: { readonly id: string; readonly username: string };
  readonly web: { readonly clientId: string; readonly secret: string };
  readonly spa: { readonly clientId: string };
  readonly service: { readonly clientId: string; readonly secret: string };
}

/** The usual cast: an API, a user, a confidential web app, a public SPA and a backend service. */
export async function seed(gatehouse: RunningGatehouse): Promise<Seeded> {
  const { accounts, clients, apis } = gatehouse.services;
  if ((await apis.find(API)) === undefined) {
    await apis.create({ identifier: API, name: 'Example API', scopes: ['read', 'write'], includeRoles: true, includeGroups: true });
  }
  if ((await apis.find(`${API}/opaque`)) === undefined) {
    await apis.create({ identifier: `${API}/opaque`, scopes: ['read'], format: 'opaque' });
  }
  const user = await accounts.createUser({
    username: `alice${Math.random().toString(36).slice(2, 8)}`,
    password: PASSWORD,
    email: `alice${Math.random().toString(36).slice(2, 8)}@example.com`,
    emailVerified: true,
    givenName: 'Alice',
    familyName: 'Liddell',
    name: 'Alice Liddell',
    roles: ['editor'],
    groups: ['wonderland'],
  });
  const web = await clients.create({
    displayName: 'Web App',
    allowedApis: [API, `${API}/opaque`],
    metadata: {
      redirect_uris: [REDIRECT_URI],
      post_logout_redirect_uris: [LOGOUT_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access roles groups',
    },
  });
  const spa = await clients.create({
    displayName: 'Single-page App',
    firstParty: true,
    metadata: {
      redirect_uris: [SPA_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile email',
    },
  });
  const service = await clients.create({
    displayName: 'Backend Service',
    allowedApis: [API, `${API}/opaque`],
    metadata: {
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      default_api: API,
    },
  });
  return {
    user: { id: user.id, username: user.username },
    web: { clientId: web.client.clientId, secret: web.secret! },
    spa: { clientId: spa.client.clientId },
    service: { clientId: service.client.clientId, secret: service.secret! },
  };
}

/** A token request authenticated with client_secret_basic (RFC 6749 §2.3.1: id and secret form-encoded): the status and the JSON body. */
export async function basicAuthTokenRequest(issuerUrl: string, client: { readonly clientId: string; readonly secret: string }, params: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${issuerUrl}/token`, {
    method: 'POST',
    headers: { authorization: clientSecretBasic(client.clientId, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

/** An ES256 key pair for private_key_jwt: the private key and the public JWK a client registers under `kid`. */
export async function clientSigningKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid } };
}

/** A backend service for API (client_credentials) that authenticates with private_key_jwt (ES256) under `jwk`. */
export function keyHoldingService(gatehouse: RunningGatehouse, displayName: string, jwk: JWK) {
  return gatehouse.services.clients.create({
    displayName,
    allowedApis: [API],
    metadata: {
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [jwk] },
      default_api: API,
    },
  });
}

/** An openid-client configuration, as an application would build it from the issuer URL. */
export async function relyingParty(issuer: string, clientId: string, secret?: string, auth?: oidc.ClientAuth): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, secret, auth ?? (secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret)), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Code + PKCE authorization URL plus the checks to redeem it. */
export async function authorizationRequest(config: oidc.Configuration, redirectUri: string, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, redirectUri };
}

/** A code + PKCE authorization URL for a test that never redeems the code: no discovery, the verifier thrown away. */
export function throwawayAuthorizationUrl(issuer: string, clientId: string, redirectUri: string, extra: Record<string, string> = {}): string {
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return url.toString();
}

/** Expects an openid-client call to fail with the given OAuth error code. */
export async function oauthError(promise: Promise<unknown>): Promise<{ error: string; status: number | undefined; description: string | undefined }> {
  try {
    await promise;
  } catch (raw) {
    const error = raw as {
      error?: string;
      code?: string;
      status?: number;
      error_description?: string;
      response?: Response;
      cause?: { error?: string; error_description?: string } | Array<{ parameters?: { error?: string; error_description?: string } }>;
    };
    // A 401 arrives as a WWW-Authenticate challenge whose parameters carry the OAuth error.
    const challenge = Array.isArray(error.cause) ? error.cause[0]?.parameters : undefined;
    const cause = Array.isArray(error.cause) ? undefined : error.cause;
    return {
      error: error.error ?? challenge?.error ?? cause?.error ?? error.code ?? 'unknown',
      status: error.status ?? error.response?.status,
      description: error.error_description ?? challenge?.error_description ?? cause?.error_description,
    };
  }
  throw new Error('expected the request to fail');
}

/**
 * A passkey record for a user, as one made while the issuer was a domain name (or imported) leaves
 * it, and the user marked as holding a second factor. Its key is no real key: for pages that offer
 * (or must not offer) a passkey, not for a sign-in with it.
 */
export async function givePasskeyRecord(deploy: Deployment, gatehouse: RunningGatehouse, userId: string): Promise<void> {
  const connection = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  try {
    await connection.collection('mfa_passkeys').insertOne({
      _id: `passkey-of-${userId}` as never,
      userId,
      publicKey: Buffer.from('not a real key').toString('base64url'),
      counter: 0,
      transports: [],
      name: 'Work laptop',
      deviceType: 'singleDevice',
      createdAt: new Date(),
      lastUsedAt: null,
    });
  } finally {
    await connection.close();
  }
  await gatehouse.services.accounts.setSecondFactor(userId, true);
}
