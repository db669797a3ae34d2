import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe24): every name someone picks refuses control and invisible format characters
 * (hidden_character): clients' and APIs' names, a registered client_name, passkey names, role and
 * group names, upstream display names, and since round 23 operators' custom attribute values. The
 * names a user picks for themselves on the account page — name, given_name, family_name, nickname —
 * are shown to other people by every app that reads the ID token (a chat, a shared document) and in
 * the operators' console: a U+202E there reverses what follows ("Bob\u202Egnp.exe" reads
 * "Bobexe.png"), a zero-width space makes a look-alike of a colleague's name. They take anything.
 */
describe("probe: hidden characters in the names a user gives themselves", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let accountApi: string;

  before(async () => {
    deploy = await deployment('probe_own_name');
    gatehouse = await deploy.start();
    const token = await (await adminClient(gatehouse)).token();
    const user = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'mallory', password: PASSWORD, email: 'mallory@example.com', email_verified: true });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    accountApi = `${deploy.issuer}/account/api/v1`;
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function accountToken(): Promise<string> {
    const accountUrl = `${deploy.issuer}/account/`;
    const config = await relyingParty(deploy.issuer, ACCOUNT_CLIENT_ID);
    const request = await authorizationRequest(config, accountUrl);
    const { callback } = await signIn(new UserAgent(), request.url.href, accountUrl, { username: 'mallory', password: PASSWORD });
    return (await oidc.authorizationCodeGrant(config, callback, request.checks)).access_token;
  }
  const patchProfile = async (token: string, body: unknown) => {
    const response = await fetch(`${accountApi}/profile`, { method: 'PATCH', headers: { accept: 'application/json', authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { details?: Array<{ path: string; code?: string }> } & Record<string, unknown> };
  };

  it('the account API refuses them naming the field (hidden_character); other scripts and emoji are kept', async () => {
    const token = await accountToken();
    for (const field of ['name', 'given_name', 'family_name', 'nickname']) {
      for (const value of ['Bob\u202Egnp.exe', 'Ali\u200Bce', 'Eve\u0007']) {
        const answer = await patchProfile(token, { [field]: value });
        expect(answer.status, `${field} ${JSON.stringify(value)} → ${JSON.stringify(answer.body)}`).to.equal(400);
        expect(answer.body.details?.[0], `${field} ${JSON.stringify(value)}`).to.include({ path: field, code: 'hidden_character' });
      }
    }
    const kept = await patchProfile(token, { name: 'علي 👩‍💻 Ли 李', nickname: 'می\u200Cخواهم' });
    expect(kept.status, JSON.stringify(kept.body)).to.equal(200);
  });

  it('so no ID token of another app carries such a name (the control: what the app receives)', async () => {
    const token = await (await adminClient(gatehouse)).token();
    const app = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Chat', redirect_uris: [REDIRECT_URI], first_party: true });
    const config = await relyingParty(deploy.issuer, app.body.client_id as string, app.body.client_secret as string);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username: 'mallory', password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    const claims = decodeJwt(tokens.id_token!);
    for (const field of ['name', 'given_name', 'family_name', 'nickname']) {
      expect(/[\p{Cc}\p{Cf}]/u.test(String(claims[field] ?? '').replace(/[\u200C\u200D]/g, '')), field).to.equal(false);
    }
  });
});
