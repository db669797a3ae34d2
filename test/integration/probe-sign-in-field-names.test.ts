import { expect } from 'chai';
import * as oidc from 'openid-client';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, seededInstanceForSuite } from '../helpers/e2e.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';

/**
 * Probe (probe25): the sign-in form's fields are named `username` / `rememberMe` (Keycloak's
 * names, round 24) and the earlier `login` / `remember` are still read. Sent together, exactly one
 * name decides who signs in — `username` — and the lockout counts the name that was tried, whichever
 * field carried it: alternating the field names is no way past GATEHOUSE_LOCKOUT_THRESHOLD, and the
 * other field cannot sign in someone else with the first one's password.
 */
describe('probe: the sign-in form given both username and login (real stores)', function () {
  this.timeout(120_000);
  const suite = seededInstanceForSuite('probe_sign_in_fields', { settings: { GATEHOUSE_LOCKOUT_THRESHOLD: '3' } });
  let other: { id: string; username: string };
  const OTHER_PASSWORD = 'another long passphrase 42';

  before(async () => {
    other = await suite.gatehouse.services.accounts.createUser({ username: 'mallory', password: OTHER_PASSWORD, email: 'mallory@example.com', emailVerified: true });
  });

  /** Posts the sign-in form with `fields`: the signed-in user's sub, or 'refused' (the form again). */
  const signInWith = async (fields: string): Promise<string> => {
    const app = await relyingParty(suite.deploy.issuer, suite.cast.web.clientId, suite.cast.web.secret);
    const { url, checks } = await authorizationRequest(app, REDIRECT_URI);
    const agent = new UserAgent();
    let at = url.href;
    let response = await agent.request(at);
    while (response.status === 302 || response.status === 303) {
      at = new URL(response.headers.get('location')!, at).toString();
      response = await agent.request(at);
    }
    const login = formsOf(await response.text()).find((form) => form.action.endsWith('/login'));
    expect(login, 'the sign-in form').not.to.equal(undefined);
    const hidden = new URLSearchParams(login!.fields).toString();
    response = await agent.request(new URL(login!.action, at).toString(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${hidden}&${fields}` });
    if (response.status !== 302 && response.status !== 303) return 'refused';
    at = new URL(response.headers.get('location')!, at).toString();
    for (let hop = 0; hop < 10 && !at.startsWith(REDIRECT_URI); hop += 1) {
      response = await agent.request(at);
      if (response.status !== 302 && response.status !== 303) {
        const consent = formsOf(await response.text()).find((form) => form.action.endsWith('/confirm'));
        expect(consent, `a page at ${at}`).not.to.equal(undefined);
        response = await agent.postForm(new URL(consent!.action, at).toString(), consent!.fields);
      }
      at = new URL(response.headers.get('location')!, at).toString();
    }
    const tokens = await oidc.authorizationCodeGrant(app, new URL(at), checks);
    return tokens.claims()!.sub;
  };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  it('username decides: its password signs it in, the login field’s user is not signed in with it', async () => {
    const alice = suite.cast.user;
    expect(await signInWith(form({ username: alice.username, login: other.username, password: PASSWORD, rememberMe: 'on' }))).to.equal(alice.id);
    expect(await signInWith(form({ username: other.username, login: alice.username, password: PASSWORD }))).to.equal('refused');
    expect(await signInWith(form({ login: other.username, password: OTHER_PASSWORD, remember: 'yes' }))).to.equal(other.id);
  });

  it('failures under either field name count for the one user: the right password is refused once the threshold is reached', async () => {
    const alice = suite.cast.user;
    const wrong = 'not the password at all';
    expect(await signInWith(form({ login: alice.username, password: wrong }))).to.equal('refused');
    expect(await signInWith(form({ username: alice.username, password: wrong }))).to.equal('refused');
    expect(await signInWith(form({ username: ` ${alice.username.toUpperCase()} `, login: 'nobody', password: wrong }))).to.equal('refused');
    const variants: Array<Record<string, string>> = [{ username: alice.username }, { login: alice.username }, { username: alice.username, login: other.username }];
    for (const fields of variants) {
      expect(await signInWith(form({ ...fields, password: PASSWORD })), JSON.stringify(fields)).to.equal('refused');
    }
    // Another user is not locked by alice's failures.
    expect(await signInWith(form({ username: other.username, login: alice.username, password: OTHER_PASSWORD }))).to.equal(other.id);
  });
});
