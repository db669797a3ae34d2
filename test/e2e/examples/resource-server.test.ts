import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../../src/server.ts';
import { resourceServer } from '../../../examples/resource-server/app.ts';
import { deployment, PASSWORD, relyingParty, type Deployment } from '../../helpers/e2e.ts';
import { testClock } from '../../helpers/clock.ts';
import { within } from '../../helpers/poll.ts';
import { killChild } from '../../helpers/process.ts';
import { freePort } from '../../helpers/redis-server.ts';

const ORDERS = 'https://orders.example.com';
const ORDERS_OPAQUE = 'https://orders.example.com/opaque';

describe('examples/resource-server: local JWT validation, introspection, scopes and roles', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let gateway: oidc.Configuration;
  let server: Server;
  let url: string;
  /** The resource server's own clock (its JWT checks). */
  let clock = Date.now();
  /** Gatehouse's clock (key activation). */
  const gatehouseClock = testClock();
  let opaqueApiClient: { clientId: string; clientSecret: string };

  const signIn = (username: string, params: Record<string, string>) => oidc.genericGrantRequest(gateway, 'password', { username, password: PASSWORD, ...params });
  const call = (token: string | undefined, method = 'GET') =>
    fetch(`${url}/orders`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  before(async () => {
    deploy = await deployment('example_rs', { clock: gatehouseClock, settings: { GATEHOUSE_KEY_PUBLISH_DELAY: '3600' } });
    gatehouse = await deploy.start();
    const { apis, clients, accounts } = gatehouse.services;
    await apis.create({ identifier: ORDERS, scopes: ['read', 'write'], includeRoles: true });
    await apis.create({ identifier: ORDERS_OPAQUE, scopes: ['read', 'write'], includeRoles: true, format: 'opaque' });
    await accounts.createUser({ username: 'editor', password: PASSWORD, roles: ['editor'] });
    await accounts.createUser({ username: 'viewer', password: PASSWORD });
    const gw = await clients.create({
      displayName: 'Gateway',
      firstParty: true,
      allowedApis: [ORDERS, ORDERS_OPAQUE],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    gateway = await relyingParty(deploy.issuer, gw.client.clientId, gw.secret);
    const own = await clients.create({
      displayName: 'Orders API',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    await apis.setClient(ORDERS_OPAQUE, own.client.clientId);
    opaqueApiClient = { clientId: own.client.clientId, clientSecret: own.secret! };
    const app = resourceServer({
      issuer: deploy.issuer,
      audience: ORDERS,
      introspection: { clientId: own.client.clientId, clientSecret: own.secret! },
      introspectionCacheSeconds: 5,
      jwksCooldownSeconds: 0,
      now: () => clock,
      allowInsecureHttp: true,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await gatehouse.close();
    await deploy.drop();
  });

  it('accepts a JWT with the scope and role a route needs, and refuses the rest', async () => {
    const editor = await signIn('editor', { scope: 'read write', resource: ORDERS });
    expect((await call(editor.access_token)).status).to.equal(200);
    expect((await call(editor.access_token, 'POST')).status).to.equal(201);
    const reader = await signIn('editor', { scope: 'read', resource: ORDERS });
    const missingScope = await call(reader.access_token, 'POST');
    expect(missingScope.status).to.equal(403);
    expect(missingScope.headers.get('www-authenticate')).to.include('insufficient_scope');
    const viewer = await signIn('viewer', { scope: 'read write', resource: ORDERS });
    expect((await call(viewer.access_token)).status).to.equal(200);
    expect(await (await call(viewer.access_token, 'POST')).json()).to.deep.equal({ error: 'insufficient_scope', error_description: 'the user lacks the role editor' });
    expect((await call(undefined)).status).to.equal(401);
    expect((await call(`${editor.access_token.slice(0, -4)}AAAA`)).status).to.equal(401);
  });

  it('refuses a JWT for another API and an expired one (clock seam)', async () => {
    await gatehouse.services.apis.create({ identifier: 'https://billing.example.com', scopes: ['read'] });
    await gatehouse.services.clients.update(gateway.clientMetadata().client_id, { allowedApis: [ORDERS, ORDERS_OPAQUE, 'https://billing.example.com'] });
    const billing = await signIn('editor', { scope: 'read', resource: 'https://billing.example.com' });
    expect((await call(billing.access_token)).status).to.equal(401);
    const editor = await signIn('editor', { scope: 'read', resource: ORDERS });
    const saved = clock;
    clock = (decodeJwt(editor.access_token).exp! + 1) * 1000;
    try {
      expect((await call(editor.access_token)).status).to.equal(401);
    } finally {
      clock = saved;
    }
    expect((await call(editor.access_token)).status).to.equal(200);
  });

  it('introspects opaque tokens with a short cache: a revocation shows once the cache lapses', async () => {
    const app = resourceServer({
      issuer: deploy.issuer,
      audience: ORDERS_OPAQUE,
      introspection: opaqueApiClient,
      introspectionCacheSeconds: 5,
      now: () => clock,
      allowInsecureHttp: true,
    });
    const opaqueServer = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => opaqueServer.once('listening', resolve));
    const opaqueUrl = `http://127.0.0.1:${(opaqueServer.address() as AddressInfo).port}/orders`;
    const callOpaque = (token: string, method = 'GET') => fetch(opaqueUrl, { method, headers: { authorization: `Bearer ${token}` } });
    try {
      const opaque = await signIn('editor', { scope: 'read write', resource: ORDERS_OPAQUE });
      expect(opaque.access_token).to.not.include('.');
      expect((await callOpaque(opaque.access_token)).status).to.equal(200);
      expect((await callOpaque(opaque.access_token, 'POST')).status, 'roles come from introspection').to.equal(201);
      // The JWT API's server refuses it: its audience is the other API.
      expect((await call(opaque.access_token)).status).to.equal(401);
      await oidc.tokenRevocation(gateway, opaque.access_token);
      expect((await callOpaque(opaque.access_token)).status, 'cached answer').to.equal(200);
      clock += 6000;
      expect((await callOpaque(opaque.access_token)).status, 'after the cache lapsed').to.equal(401);
    } finally {
      opaqueServer.close();
    }
  });

  it('follows a key rotation: a token signed with the new kid verifies after one JWKS refetch', async () => {
    const before = await signIn('editor', { scope: 'read', resource: ORDERS });
    expect((await call(before.access_token)).status).to.equal(200);
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    const rotation = await gatehouse.rotateKeys();
    // The new keys sign from activateAt: Gatehouse's clock is moved there (the key ring has rebuilt when this resolves).
    await gatehouseClock.advance(rotation.signingKeys[0]!.activateAt.getTime() - gatehouseClock.now() + 1);
    const after = await signIn('editor', { scope: 'read', resource: ORDERS });
    expect(decodeProtectedHeader(after.access_token).kid).not.to.equal(oldKid);
    expect((await call(after.access_token)).status).to.equal(200);
    expect((await call(before.access_token)).status).to.equal(200);
  });
  it('runs with the README command (node examples/resource-server/main.ts) and says where it listens', async () => {
    const port = await freePort();
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [fileURLToPath(new URL('../../../examples/resource-server/main.ts', import.meta.url))], {
        env: { ...process.env, GATEHOUSE_ISSUER: deploy.issuer, API: ORDERS, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await within(20_000, async () => output.includes(`resource server listening on http://127.0.0.1:${port}`));
      const { access_token: token } = await signIn('editor', { resource: ORDERS, scope: 'read' });
      expect((await fetch(`http://127.0.0.1:${port}/orders`, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
      expect((await fetch(`http://127.0.0.1:${port}/orders`)).status).to.equal(401);
    } finally {
      await killChild(child);
    }
  });
});
