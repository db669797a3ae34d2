import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { browse, formsOf, UserAgent } from '../helpers/browserless.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { deployment, PASSWORD, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

/**
 * Never log secrets (the team's first security rule), checked end to end at the most talkative
 * level: every secret, token, code, cookie and password this run hands out or receives is looked
 * for in the whole log, as sent and URL-encoded.
 */
describe('no secret in the logs, even at trace level (admin API, registration, device flow, reset, email change)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let inbox: Inbox;
  const logs = captureLogs('trace');
  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('secrets_not_logged', { settings: { GATEHOUSE_REGISTRATION: 'true', GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'G <g@example.com>' } });
    gatehouse = await deploy.start(undefined, logs.logger);
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('writes none of the secrets, tokens, codes, cookies and passwords it handed out or received', async function () {
    this.timeout(60_000);
    const secrets: Record<string, string> = {};
    const admin = await adminClient(gatehouse);
    const token = await admin.token();
    secrets['admin token'] = token;
    secrets['admin secret'] = admin.secret;
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'c1', redirect_uris: ['https://x.example.com/cb'] });
    expect(created.status).to.equal(201);
    secrets['created secret'] = created.body.client_secret;
    const rotated = await callAdmin(gatehouse.url, token, 'POST', `/clients/${created.body.client_id}/secret`);
    secrets['rotated secret'] = rotated.body.client_secret;
    const upstream = await callAdmin(gatehouse.url, token, 'POST', '/upstream-providers', { alias: 'up1', kind: 'oauth2', client_id: 'x', client_secret: 'upstream-secret-value-123', authorization_endpoint: 'https://up.example.com/a', token_endpoint: 'https://up.example.com/t', userinfo_endpoint: 'https://up.example.com/u' });
    expect(upstream.status).to.equal(201);
    secrets['upstream secret'] = 'upstream-secret-value-123';
    const iat = await callAdmin(gatehouse.url, token, 'POST', '/initial-access-tokens', {});
    expect(iat.status).to.equal(201);
    secrets['initial access token'] = iat.body.initial_access_token ?? iat.body.token;
    const reg = await fetch(`${gatehouse.url}/reg`, { method: 'POST', headers: { authorization: `Bearer ${secrets['initial access token']}`, 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://dyn.example.com/cb'] }) });
    expect(reg.status).to.equal(201);
    const regBody = (await reg.json()) as Record<string, string>;
    secrets['dyn secret'] = regBody.client_secret!;
    secrets['dyn rat'] = regBody.registration_access_token!;
    const regGet = await fetch(regBody.registration_client_uri!, { headers: { authorization: `Bearer ${regBody.registration_access_token}` } });
    const regGetBody = (await regGet.json()) as Record<string, string>;
    expect(regGet.status).to.equal(200);
    if (regGetBody.registration_access_token) secrets['dyn rat2'] = regGetBody.registration_access_token;

    // device flow
    const tv = await gatehouse.services.clients.create({ displayName: 'TV', metadata: { redirect_uris: [], response_types: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'openid profile offline_access' } });
    const device = await relyingParty(deploy.issuer, tv.client.clientId);
    const started = await oidc.initiateDeviceAuthorization(device, { scope: 'openid profile offline_access' });
    secrets['device code'] = started.device_code;
    secrets['user code'] = started.user_code;
    secrets['user code plain'] = started.user_code.replace('-', '');
    const agent = new UserAgent();
    await browse(agent, started.verification_uri, 'never:', { username: cast.user.username, password: PASSWORD, userCode: started.user_code });
    const tokens = await oidc.genericGrantRequest(device, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: started.device_code });
    secrets['device access'] = tokens.access_token;
    secrets['device refresh'] = tokens.refresh_token!;
    for (const [name, value] of agent.cookies) if (value.length >= 16) secrets[`cookie ${name}`] = value;

    // password reset
    const a2 = new UserAgent();
    const page = await a2.request(`${deploy.issuer}/password/forgot`);
    const [form] = formsOf(await page.text());
    await a2.postForm(new URL(form!.action, deploy.issuer).toString(), { ...form!.fields, login: cast.user.username });
    const mail = await inbox.next();
    const link = /https?:\/\/\S+\/password\/reset\/([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(link, 'a reset link in the mail').to.not.equal(null);
    secrets['reset token'] = link![1]!;
    const [rform] = formsOf(await (await a2.request(link![0])).text());
    await a2.postForm(new URL(rform!.action, deploy.issuer).href, { ...rform!.fields, password: 'A brand new password 77', confirm: 'A brand new password 77' });
    secrets['new password'] = 'A brand new password 77';

    // The reset's notice; then an email change by an operator: a notice to the old address and a confirmation link to the new one.
    expect((await inbox.next()).subject).to.equal('Your password was changed');
    const changed = await callAdmin(gatehouse.url, token, 'PATCH', `/users/${cast.user.id}`, { email: 'changed@example.com' });
    expect(changed.status).to.equal(200);
    const mails = [await inbox.next(), await inbox.next()];
    const confirmation = mails.map((m) => /\/([A-Za-z0-9_-]{43})\b/.exec(m.text ?? '')?.[1]).find((found) => found !== undefined);
    expect(confirmation, 'a confirmation link among the two mails').to.be.a('string');
    secrets['confirmation token'] = confirmation!;

    const missing = Object.entries(secrets).filter(([, value]) => typeof value !== 'string' || value.length < 8).map(([name]) => name);
    expect(missing, 'every secret was handed out').to.deep.equal([]);
    // The capture sees the run: the access log has a line for the requests above.
    expect(logs.lines().filter((line) => line.msg === 'request').length).to.be.greaterThan(10);
    const text = logs.text();
    const leaked = Object.entries(secrets)
      .filter(([, value]) => text.includes(value) || text.includes(encodeURIComponent(value)))
      .map(([name]) => name);
    expect(leaked, 'secrets found in the log').to.deep.equal([]);
  });
});
