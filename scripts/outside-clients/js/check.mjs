// Gatehouse checked from outside with oauth4webapi (panva). See ../README.md.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const issuer = new URL(env('GH_ISSUER'));
const client = { client_id: env('GH_CLIENT_ID') };
const secret = env('GH_CLIENT_SECRET');
const redirectUri = env('GH_REDIRECT_URI');
const api = env('GH_API');
const insecure = { [oauth.allowInsecureRequests]: true }; // plain http on 127.0.0.1 only
const signin = fileURLToPath(new URL('../signin.mjs', import.meta.url));

const results = [];
async function check(name, body) {
  try {
    await body();
    results.push([name, 'pass']);
    console.log(`PASS ${name}`);
  } catch (error) {
    results.push([name, 'fail']);
    console.log(`FAIL ${name}: ${error?.stack ?? error}`);
  }
}
const assert = (condition, message) => {
  if (!condition) throw new Error(message);
};

let as;
await check('discovery', async () => {
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
  assert(as.token_endpoint && as.introspection_endpoint && as.revocation_endpoint && as.userinfo_endpoint, 'endpoints missing');
});

await check('client_credentials', async () => {
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), { resource: api }, insecure);
  const tokens = await oauth.processClientCredentialsResponse(as, client, response);
  assert(tokens.access_token, 'no access token');
  const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(secret), tokens.access_token, insecure));
  assert(info.active === true && info.sub === client.client_id && typeof info.jti === 'string', `introspection: ${JSON.stringify(info)}`);
});

await check('client_credentials wrong secret -> invalid_client', async () => {
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('wrong-secret'), { resource: api }, insecure);
  try {
    await oauth.processClientCredentialsResponse(as, client, response);
  } catch (error) {
    // RFC 6749 §5.2: a client that used HTTP Basic gets 401 with WWW-Authenticate; oauth4webapi
    // surfaces that as a challenge error and leaves the JSON body on error.response.
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      assert(error.status === 401, `status ${error.status}`);
      assert(/application\/json/.test(error.response.headers.get('content-type') ?? ''), 'error body is not JSON');
      const body = await error.response.json();
      assert(body.error === 'invalid_client', `body ${JSON.stringify(body)}`);
      return;
    }
    assert(error instanceof oauth.ResponseBodyError && error.error === 'invalid_client', `got ${error}`);
    return;
  }
  throw new Error('wrong secret accepted');
});

let tokens;
await check('authorization code + PKCE, ID token with sid', async () => {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email offline_access',
    prompt: 'consent', state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).toString();
  const callback = execFileSync(process.execPath, [signin, url.href, redirectUri], { encoding: 'utf8' }).trim();
  const params = oauth.validateAuthResponse(as, client, new URL(callback), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(secret), params, redirectUri, verifier, insecure);
  tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  assert(typeof claims.sid === 'string' && claims.sid.length > 0, `no sid in ID token: ${JSON.stringify(claims)}`);
  assert(tokens.refresh_token, 'no refresh token');
});

await check('userinfo', async () => {
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
  assert(info.sub === claims.sub, 'sub differs');
});

await check('introspection (sub, jti, username)', async () => {
  const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(secret), tokens.access_token, insecure));
  assert(info.active === true && typeof info.sub === 'string' && typeof info.jti === 'string' && info.username === env('GH_USERNAME'), JSON.stringify(info));
});

await check('refresh rotation', async () => {
  const old = tokens.refresh_token;
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretBasic(secret), old, insecure);
  const next = await oauth.processRefreshTokenResponse(as, client, response);
  assert(next.refresh_token && next.refresh_token !== old, 'refresh token not rotated');
  assert(next.access_token && next.access_token !== tokens.access_token, 'no new access token');
  tokens = next;
});

await check('revocation', async () => {
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.ClientSecretBasic(secret), tokens.refresh_token, insecure));
  const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(secret), tokens.refresh_token, insecure));
  assert(info.active === false, `still active: ${JSON.stringify(info)}`);
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretBasic(secret), tokens.refresh_token, insecure);
  try {
    await oauth.processRefreshTokenResponse(as, client, response);
  } catch (error) {
    assert(error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant', `got ${error}`);
    return;
  }
  throw new Error('revoked refresh token still works');
});

await check('bad code -> invalid_grant', async () => {
  const params = oauth.validateAuthResponse(as, client, new URLSearchParams({ code: 'not-a-real-code', iss: as.issuer }), oauth.expectNoState);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(secret), params, redirectUri, oauth.generateRandomCodeVerifier(), insecure);
  try {
    await oauth.processAuthorizationCodeResponse(as, client, response);
  } catch (error) {
    assert(error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant', `got ${error}`);
    return;
  }
  throw new Error('bad code accepted');
});

// Token exchange (RFC 8693) by a second client, and the original grant revoked by an operator
// through the admin API: the exchanged token must end with it (README, "Token exchange").
const exchanger = { client_id: env('GH_EXCHANGER_ID') };
const exchangerAuth = oauth.ClientSecretBasic(env('GH_EXCHANGER_SECRET'));
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const exchangeRequest = (subjectToken, extra = {}) =>
  oauth.genericTokenEndpointRequest(as, exchanger, exchangerAuth, EXCHANGE, { subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, resource: api, ...extra }, insecure);
const introspectAs = async (who, auth, token) => oauth.processIntrospectionResponse(as, who, await oauth.introspectionRequest(as, who, auth, token, insecure));
async function expectError(response, code) {
  try {
    await oauth.processGenericTokenEndpointResponse(as, exchanger, response);
  } catch (error) {
    assert(error instanceof oauth.ResponseBodyError && error.error === code, `expected ${code}, got ${error}`);
    return;
  }
  throw new Error(`expected ${code}, got tokens`);
}
let original;
let exchanged;
let userId;
await check('token exchange: a second client exchanges the user token (RFC 8693)', async () => {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile', state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).toString();
  const callback = execFileSync(process.execPath, [signin, url.href, redirectUri], { encoding: 'utf8' }).trim();
  const params = oauth.validateAuthResponse(as, client, new URL(callback), state);
  original = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(secret), params, redirectUri, verifier, insecure));
  userId = oauth.getValidatedIdTokenClaims(original).sub;
  exchanged = await oauth.processGenericTokenEndpointResponse(as, exchanger, await exchangeRequest(original.access_token, { scope: 'read' }));
  assert(exchanged.issued_token_type === ACCESS_TOKEN && exchanged.scope === 'read' && !exchanged.refresh_token, JSON.stringify({ ...exchanged, access_token: '…' }));
  const info = await introspectAs(exchanger, exchangerAuth, exchanged.access_token);
  assert(info.active === true && info.sub === userId && info.client_id === exchanger.client_id && info.scope === 'read', JSON.stringify(info));
  // An API's token, not one for userinfo (no openid scope, the API's audience): refused there even while active.
  const userinfo = await oauth.userInfoRequest(as, exchanger, exchanged.access_token, insecure);
  assert(userinfo.status === 401, `userinfo with the exchanged token: ${userinfo.status}`);
});

await check('token exchange: refused for widening, another API, an ID token, a made-up token', async () => {
  await expectError(await exchangeRequest(exchanged.access_token, { scope: 'read write' }), 'invalid_grant'); // the exchanger does not trust itself
  await expectError(await exchangeRequest(original.access_token, { resource: 'https://elsewhere.outside.test' }), 'invalid_target');
  await expectError(await exchangeRequest(original.id_token, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 'invalid_request');
  await expectError(await exchangeRequest(original.id_token), 'invalid_grant');
  await expectError(await exchangeRequest('not-a-token'), 'invalid_grant');
});

const adminApi = new URL('admin/api/v1/', issuer.href.endsWith('/') ? issuer : `${issuer.href}/`);
let adminToken;
const admin = async (method, path) => {
  const response = await fetch(new URL(path, adminApi), { method, headers: { authorization: `Bearer ${adminToken}` } });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
};
let originalGrant;
await check('admin API: the exchanged grant names the grant it came from (exchanged_from)', async () => {
  const adminClient = { client_id: env('GH_ADMIN_ID') };
  const response = await oauth.clientCredentialsGrantRequest(as, adminClient, oauth.ClientSecretBasic(env('GH_ADMIN_SECRET')), { resource: adminApi.href.replace(/\/$/, ''), scope: 'admin' }, insecure);
  adminToken = (await oauth.processClientCredentialsResponse(as, adminClient, response)).access_token;
  const { status, body: grants } = await admin('GET', `users/${encodeURIComponent(userId)}/grants`);
  assert(status === 200 && Array.isArray(grants), `status ${status}`);
  const exchangedGrant = grants.find((grant) => grant.client_id === exchanger.client_id);
  assert(exchangedGrant?.exchanged_from?.client_id === client.client_id, JSON.stringify(grants));
  originalGrant = exchangedGrant.exchanged_from.grant_id;
  assert(grants.some((grant) => grant.id === originalGrant && grant.exchanged_from === null), JSON.stringify(grants));
});

await check('admin API: revoking the original grant ends the exchanged token (introspection; userinfo still 401)', async () => {
  const { status } = await admin('DELETE', `users/${encodeURIComponent(userId)}/grants/${encodeURIComponent(originalGrant)}`);
  assert(status === 204, `status ${status}`);
  const info = await introspectAs(exchanger, exchangerAuth, exchanged.access_token);
  assert(info.active === false, `exchanged token still active: ${JSON.stringify(info)}`);
  const response = await oauth.userInfoRequest(as, exchanger, exchanged.access_token, insecure);
  assert(response.status === 401, `userinfo with the exchanged token: ${response.status}`);
  const { body: grants } = await admin('GET', `users/${encodeURIComponent(userId)}/grants`);
  assert(!grants.some((grant) => grant.client_id === exchanger.client_id), `exchanged grant still listed: ${JSON.stringify(grants)}`);
  await expectError(await exchangeRequest(original.access_token), 'invalid_grant');
});

const failed = results.filter(([, outcome]) => outcome === 'fail').length;
console.log(`oauth4webapi: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
