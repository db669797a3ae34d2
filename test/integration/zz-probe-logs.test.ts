import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { browse, formsOf, UserAgent } from '../helpers/browserless.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { deployment, PASSWORD, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

describe('PROBE logs', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let inbox: Inbox;
  const logs = captureLogs('trace');
  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('probe_logs', { settings: { GATEHOUSE_REGISTRATION: 'true', GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'G <g@example.com>' } });
    gatehouse = await deploy.start(undefined, logs.logger);
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('secrets in logs', async () => {
    const secrets: Record<string, string> = {};
    const admin = await adminClient(gatehouse);
    const token = await admin.token();
    secrets['admin token'] = token;
    secrets['admin secret'] = admin.secret;
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'c1', redirect_uris: ['https://x.example.com/cb'] });
    secrets['created secret'] = created.body.client_secret;
    const rotated = await callAdmin(gatehouse.url, token, 'POST', `/clients/${created.body.client_id}/secret`);
    secrets['rotated secret'] = rotated.body.client_secret;
    await callAdmin(gatehouse.url, token, 'POST', '/upstream-providers', { alias: 'up1', kind: 'oauth2', client_id: 'x', client_secret: 'upstream-secret-value-123', authorization_endpoint: 'https://up.example.com/a', token_endpoint: 'https://up.example.com/t', userinfo_endpoint: 'https://up.example.com/u' });
    secrets['upstream secret'] = 'upstream-secret-value-123';
    const iat = await callAdmin(gatehouse.url, token, 'POST', '/initial-access-tokens', {});
    console.log('iat', iat.status, Object.keys(iat.body));
    secrets['iat'] = iat.body.initial_access_token ?? iat.body.token;
    const reg = await fetch(`${gatehouse.url}/reg`, { method: 'POST', headers: { authorization: `Bearer ${secrets['iat']}`, 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://dyn.example.com/cb'] }) });
    const regBody = (await reg.json()) as Record<string, string>;
    console.log('reg', reg.status, Object.keys(regBody));
    secrets['dyn secret'] = regBody.client_secret!;
    secrets['dyn rat'] = regBody.registration_access_token!;
    const regGet = await fetch(regBody.registration_client_uri!, { headers: { authorization: `Bearer ${regBody.registration_access_token}` } });
    const regGetBody = (await regGet.json()) as Record<string, string>;
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
    const link = /https?:\/\/\S+\/password\/reset\/([A-Za-z0-9_-]{43})/.exec(mail.text ?? '')!;
    secrets['reset token'] = link[1]!;
    const [rform] = formsOf(await (await a2.request(link[0])).text());
    await a2.postForm(new URL(rform!.action, deploy.issuer).href, { ...rform!.fields, password: 'A brand new password 77', confirm: 'A brand new password 77' });
    secrets['new password'] = 'A brand new password 77';

    // email change via admin -> verification link
    await callAdmin(gatehouse.url, token, 'PATCH', `/users/${cast.user.id}`, { email: 'changed@example.com' });
    for (let i = 0; i < 3; i += 1) {
      const m = await Promise.race([inbox.next(), new Promise<undefined>((r) => setTimeout(r, 3000))]);
      if (m === undefined) break;
      const t = /\/([A-Za-z0-9_-]{43})\b/.exec(m.text ?? '');
      if (t) secrets[`mail token ${i}`] = t[1]!;
      console.log('mail', m.subject);
    }

    const text = logs.text();
    for (const [name, value] of Object.entries(secrets)) {
      if (typeof value !== 'string') { console.log('MISSING', name); continue; }
      const found = text.includes(value) || text.includes(encodeURIComponent(value));
      console.log(found ? 'LEAK' : 'ok  ', name);
      if (found) {
        const idx = text.indexOf(value);
        console.log('   ', text.slice(Math.max(0, idx - 300), idx + 100));
      }
    }
    console.log('log lines', logs.lines().length);
  });
});
