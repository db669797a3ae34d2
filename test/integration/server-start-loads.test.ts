import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { serveMain } from '../helpers/process.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

/**
 * Registered in the server before it starts (NODE_OPTIONS=--import): every module it loads, one
 * URL a line, written to $LOADED_FILE when the process exits.
 */
const RECORD_LOADS = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.LOADED_FILE, loaded.join('\\n')));
`;

/**
 * What only a sign-in page, an enrolment, a mail or an upstream sign-in needs (docs/PERFORMANCE.md,
 * perf23h and perf24): never loaded by the start or a token request.
 */
const PAGE_ONLY = ['/node_modules/@simplewebauthn/', '/node_modules/nodemailer/', '/node_modules/qrcode/', '/node_modules/openid-client/', '/node_modules/oauth4webapi/', '/node_modules/otpauth/'];

describe('the server loads what the token endpoints need at its start, not the WebAuthn, QR code, SMTP, upstream sign-in or authenticator-app libraries', function () {
  // One real server start (about 1 s of CPU; far longer on a busy machine).
  this.timeout(180_000);
  const database = databaseForSuite('server_start_loads');
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'gatehouse-server-loads-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('started with SMTP configured and passkeys usable, then asked for discovery and a token, it has loaded none of them', async () => {
    const hook = join(dir, 'record-loads.mjs');
    writeFileSync(hook, RECORD_LOADS);
    const loadedFile = join(dir, 'loaded.txt');
    const server = await serveMain({
      NODE_OPTIONS: `--import=${hook}`,
      LOADED_FILE: loadedFile,
      NODE_ENV: 'production',
      // A domain: passkeys are offered (an IP address issuer turns them off).
      GATEHOUSE_ISSUER: 'https://sso.example.com',
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: database.uri,
      REDIS_URL: serviceUrls().redisUrl,
      GATEHOUSE_SECRET: randomSecret(),
      // Never contacted: no mail is sent.
      GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:9',
      GATEHOUSE_MAIL_FROM: 'Acme <no-reply@acme.example>',
    });
    let code: number | null;
    try {
      expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).to.equal(200);
      const token = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('nobody:wrong').toString('base64')}` },
        body: 'grant_type=client_credentials',
      });
      expect(token.status).to.equal(401);
      expect(((await token.json()) as { error: string }).error).to.equal('invalid_client');
    } finally {
      code = await server.stop();
    }
    expect(code, server.output()).to.equal(0);
    const loaded = readFileSync(loadedFile, 'utf8').split('\n');
    // The recording works: the server's own store driver and OIDC library are in it.
    expect(loaded.some((url) => url.includes('/node_modules/mongoose/'))).to.equal(true);
    expect(loaded.some((url) => url.includes('/node_modules/oidc-provider/'))).to.equal(true);
    expect(loaded.filter((url) => PAGE_ONLY.some((part) => url.includes(part)))).to.deep.equal([]);
  });
});
