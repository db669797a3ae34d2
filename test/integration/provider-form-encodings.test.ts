// The forms the library itself serves — the sign-out confirmation (POST <end_session>/confirm)
// and the device code entry and confirmation (POST <code_verification>) — in the encodings a
// browser sends. The library reads only urlencoded bodies there and answered a multipart one
// (an operator's template with enctype="multipart/form-data") with its generic error page;
// Gatehouse's own hosted forms accept both and answer anything else with a 415 page that says
// what went wrong (test/unit/page-errors.test.ts). These forms must behave the same.
import { expect } from 'chai';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { instanceForSuite, PASSWORD, REDIRECT_URI } from '../helpers/e2e.ts';

const CHALLENGE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };

function multipart(fields: Record<string, string>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  return body;
}

describe("the library's own forms accept multipart/form-data, and answer other bodies with the 415 page", function () {
  this.timeout(120_000);
  const suite = instanceForSuite('provider_forms');
  let issuer: string;
  let clientId: string;
  let username: string;

  before(async () => {
    const { gatehouse } = suite;
    issuer = suite.deploy.issuer;
    const created = await gatehouse.services.clients.create({
      displayName: 'Living Room TV',
      metadata: {
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
    });
    clientId = created.client.clientId;
    username = `forms${Math.random().toString(36).slice(2, 8)}`;
    await gatehouse.services.accounts.createUser({ username, password: PASSWORD });
  });

  async function userCode(): Promise<string> {
    const response = await fetch(`${issuer}/device/auth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: clientId, scope: 'openid' }) });
    expect(response.status).to.equal(200);
    return ((await response.json()) as { user_code: string }).user_code;
  }

  async function signedIn(): Promise<UserAgent> {
    const agent = new UserAgent();
    const auth = new URL(`${issuer}/auth`);
    auth.search = new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', ...CHALLENGE }).toString();
    await signIn(agent, auth.href, REDIRECT_URI, { username, password: PASSWORD });
    return agent;
  }

  it('the device code entry page takes a multipart form: a wrong code gets the form again with its message, a right one the confirmation page', async () => {
    const agent = new UserAgent();
    const page = await agent.request(`${issuer}/device`, { headers: { 'accept-language': 'ru' } });
    const form = formsOf(await page.text())[0]!;
    const wrong = await agent.request(`${issuer}/device`, { method: 'POST', headers: { 'accept-language': 'ru' }, body: multipart({ ...form.fields, user_code: 'BCDF-GHJK' }) });
    expect(wrong.status).to.equal(400);
    const wrongPage = await wrong.text();
    expect(wrongPage).to.contain('<html lang="ru">').and.contain('role="alert"').and.contain('<label for="user_code">');
    const again = formsOf(wrongPage)[0]!;
    const code = await userCode();
    const right = await agent.request(`${issuer}/device`, { method: 'POST', body: multipart({ ...again.fields, user_code: code }) });
    expect(right.status).to.equal(200);
    const confirm = await right.text();
    expect(confirm).to.contain(code).and.contain('Living Room TV').and.contain('name="confirm" value="yes"');
  });

  it('the sign-out confirmation takes a multipart form and signs out', async () => {
    const agent = await signedIn();
    const page = await agent.request(`${issuer}/session/end`);
    expect(page.status).to.equal(200);
    const form = formsOf(await page.text())[0]!;
    expect(form.action).to.match(/\/session\/end\/confirm$/);
    const response = await agent.request(new URL(form.action, issuer).href, { method: 'POST', body: multipart({ ...form.fields, logout: 'yes' }) });
    expect(response.status).to.equal(303);
    expect(response.headers.get('location')).to.match(/\/session\/end\/success/);
    expect(agent.cookies.has('_session'), 'signed out').to.equal(false);
  });

  it('answers a body in any other encoding with the 415 page in the reader\'s language, not the generic error page', async () => {
    const agent = await signedIn();
    const form = formsOf(await (await agent.request(`${issuer}/session/end`)).text())[0]!;
    const targets = [new URL(form.action, issuer).href, `${issuer}/device`];
    for (const target of targets) {
      for (const init of [
        { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...form.fields, logout: 'yes' }) },
        { headers: { 'content-type': 'text/plain' }, body: 'logout=yes' },
        { headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'no parts here' },
      ]) {
        const response = await agent.request(target, { method: 'POST', headers: { ...init.headers, 'accept-language': 'ko' }, body: init.body });
        expect(response.status, `${target} ${init.headers['content-type']}`).to.equal(415);
        const html = await response.text();
        expect(html).to.contain('<html lang="ko">').and.contain('양식이 브라우저가 보내는 형식으로 도착하지 않았습니다');
        expect(html).not.to.contain('class="reference"');
      }
    }
    // Still signed in: nothing was acted on.
    expect((await agent.request(`${issuer}/session/end`)).status).to.equal(200);
  });
});
