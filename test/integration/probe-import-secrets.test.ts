import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/** Each one appears once in the export and must appear nowhere Gatehouse writes or answers. */
const SECRETS = {
  client: 'probe-client-secret-4f7a9c2e1b',
  upstream: 'probe-upstream-secret-8d3e6b1a0c',
  smtp: 'probe-smtp-password-2c5f8a1d7e',
  hash: 'cHJvYmUtaGFzaC12YWx1ZS05ZTRiMmE3YzE=',
  salt: 'cHJvYmUtc2FsdC0zYTdm',
  totp: 'probeTotpSeed7h2k9m4q',
  broken: 'probe-broken-credential-6b1e9d4a',
};

/**
 * Probe (probe22): a Keycloak realm export holds client secrets, upstream secrets, the SMTP
 * password, password hashes and authenticator seeds. Imported (dry run and real) and refused
 * (a user whose credential is broken), none of them may appear in the logs at trace level, in
 * the import's report, in the audit trail or in what the admin API shows of the imported objects.
 */
describe('probe: secrets of a Keycloak import are never logged, reported or shown', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const logs = captureLogs('trace');

  before(async () => {
    deploy = await deployment('probe_kc_secrets');
    gatehouse = await deploy.start(undefined, logs.logger);
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('dry run, import and a broken credential: no secret in logs, report, audit events or admin reads', async () => {
    const realm = {
      realm: 'probesec',
      enabled: true,
      smtpServer: { host: 'smtp.acme.test', port: '587', from: 'sso@acme.test', auth: 'true', user: 'sso', password: SECRETS.smtp },
      clients: [{ clientId: 'probe-app', enabled: true, publicClient: false, secret: SECRETS.client, standardFlowEnabled: true, redirectUris: ['https://probe-app.example.com/cb'] }],
      identityProviders: [{ alias: 'partner', providerId: 'oidc', enabled: true, config: { clientId: 'acme', clientSecret: SECRETS.upstream, issuer: 'https://login.partner.test', authorizationUrl: 'https://login.partner.test/a', tokenUrl: 'https://login.partner.test/t', clientAuthMethod: 'client_secret_post' } }],
      users: [
        {
          id: '8b1f2d3e-0000-4000-8000-000000000001',
          username: 'sekrit',
          enabled: true,
          credentials: [
            { type: 'password', secretData: JSON.stringify({ value: SECRETS.hash, salt: SECRETS.salt, additionalParameters: {} }), credentialData: JSON.stringify({ hashIterations: 27500, algorithm: 'pbkdf2-sha256', additionalParameters: {} }) },
            { type: 'otp', userLabel: 'phone', secretData: JSON.stringify({ value: SECRETS.totp }), credentialData: JSON.stringify({ subType: 'totp', digits: 6, counter: 0, period: 30, algorithm: 'HmacSHA1' }) },
          ],
        },
        {
          id: '8b1f2d3e-0000-4000-8000-000000000002',
          username: 'broken',
          enabled: true,
          credentials: [{ type: 'password', secretData: `{"value":"${SECRETS.broken}",`, credentialData: `{"algorithm":"${SECRETS.broken}"` }],
        },
      ],
    };
    const answers: string[] = [];
    for (const query of ['?dry_run=true', '']) {
      const imported = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      answers.push(JSON.stringify(imported.body));
    }
    expect(answers[1]).to.include('probe-app');

    const reads = await Promise.all([
      callAdmin(gatehouse.url, token, 'GET', '/clients/probe-app'),
      callAdmin(gatehouse.url, token, 'GET', '/upstream-providers/partner'),
      callAdmin(gatehouse.url, token, 'GET', '/users/8b1f2d3e-0000-4000-8000-000000000001'),
      callAdmin(gatehouse.url, token, 'GET', '/users/8b1f2d3e-0000-4000-8000-000000000002'),
      callAdmin(gatehouse.url, token, 'GET', '/users/8b1f2d3e-0000-4000-8000-000000000001/mfa'),
      callAdmin(gatehouse.url, token, 'GET', '/audit-events?limit=200'),
      callAdmin(gatehouse.url, token, 'GET', '/settings'),
    ]);
    for (const read of reads) expect(read.status, JSON.stringify(read.body)).to.equal(200);
    expect(JSON.stringify(reads[4]!.body)).to.match(/totp|authenticator/i);
    expect(JSON.stringify(reads[5]!.body)).to.include('keycloak.imported');
    const everything = [logs.text(), ...answers, ...reads.map((read) => JSON.stringify(read.body))].join('\n');
    for (const [what, secret] of Object.entries(SECRETS)) {
      expect(everything.includes(secret), `the ${what} secret is written somewhere`).to.equal(false);
      expect(everything.includes(encodeURIComponent(secret)), `the ${what} secret (URL-encoded) is written somewhere`).to.equal(false);
    }
  });
});
