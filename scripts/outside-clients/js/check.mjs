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

const failed = results.filter(([, outcome]) => outcome === 'fail').length;
console.log(`oauth4webapi: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
