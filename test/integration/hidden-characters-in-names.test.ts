import { expect } from 'chai';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceForSuite } from '../helpers/e2e.ts';

/**
 * Names an operator picks and pages show (roles, groups, clients, APIs, upstream providers'
 * display names) refuse control characters and invisible format characters — a right-to-left
 * override (U+202E) makes a name read as another — with a 400 naming the field, as emails and
 * passkey names do. Names stored before keep working.
 */
describe('hidden characters in names (admin API, real stores)', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('hidden_names');
  let token: string;

  before(async () => {
    token = await (await adminClient(suite.gatehouse)).token();
  });
  const call = (method: string, path: string, body?: unknown) => callAdmin(suite.gatehouse.url, token, method, path, body);
  const refused = async (method: string, path: string, body: unknown, field: string) => {
    const response = await call(method, path, body);
    expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).to.equal(400);
    expect(response.body.details.map((detail: { path: string; code: string }) => [detail.path, detail.code]), `${method} ${path}`).to.deep.include([field, 'hidden_character']);
  };

  it('refuses them with a 400 naming the field', async () => {
    for (const name of ['admin\u202Egpj.exe', 'zero\u200Bwidth', 'b\uFEFFom']) {
      await refused('POST', '/roles', { name }, 'name');
      await refused('POST', '/groups', { name }, 'name');
      await refused('POST', '/users', { username: 'hidden-names', password: 'correct horse 1', roles: [name] }, 'roles.0');
      await refused('POST', '/clients', { name, redirect_uris: ['https://app.example.com/cb'] }, 'name');
      await refused('POST', '/apis', { identifier: 'https://hidden.example.com', name, scopes: ['read'] }, 'name');
      await refused('POST', '/upstream-providers', { alias: 'hidden', kind: 'oidc', display_name: name, issuer: 'https://idp.example.com', client_id: 'x', client_secret: 'y' }, 'display_name');
    }
    const client = await call('POST', '/clients', { name: 'Plain', redirect_uris: ['https://app.example.com/cb'] });
    expect(client.status).to.equal(201);
    await refused('PATCH', `/clients/${client.body.client_id}`, { name: 'Pl\u202Eain' }, 'name');
    // Joiners stay allowed: emoji sequences and Persian or Indic text need them.
    expect((await call('POST', '/roles', { name: '👩\u200D💻' })).status).to.equal(201);
  });

  it('refuses half of a character (a lone surrogate, which would be stored as U+FFFD) in a role or group name with a 400 naming the field', async () => {
    const codes = (body: { details?: Array<{ path: string; code: string }> }) => (body.details ?? []).map((detail) => [detail.path, detail.code]);
    for (const name of ['half\uD83D', '\uDE00half', 'mid\uD800dle']) {
      for (const path of ['/roles', '/groups']) {
        const response = await call('POST', path, { name });
        expect(response.status, `${path} ${JSON.stringify(response.body)}`).to.equal(400);
        expect(codes(response.body), path).to.deep.include(['name', 'lone_surrogate']);
      }
      const user = await call('POST', '/users', { username: 'half-a-role', password: 'correct horse 1', roles: ['fine', name], groups: [name] });
      expect(user.status, JSON.stringify(user.body)).to.equal(400);
      // Refused with the body as a whole, before the fields are read: the first one is named (as a NUL is).
      expect(codes(user.body)).to.deep.equal([['roles.1', 'lone_surrogate']]);
    }
    const roles = (await call('GET', '/roles')).body as Array<{ name: string }>;
    expect(roles.map((role) => role.name).filter((name) => name.includes('\uFFFD'))).to.deep.equal([]);
    // A whole emoji (its two halves together) is a name like any other.
    expect((await call('POST', '/roles', { name: 'ops😀' })).status).to.equal(201);
  });

  it('a name stored before is still listed, assigned and deleted', async () => {
    const connection = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
    try {
      await connection.db!.collection('roles').insertOne({ _id: 'old\u202Ename' as never, description: '', createdAt: new Date() });
    } finally {
      await connection.close();
    }
    const list = await call('GET', '/roles');
    expect(list.body.map((role: { name: string }) => role.name)).to.include('old\u202Ename');
    expect((await call('DELETE', `/roles/${encodeURIComponent('old\u202Ename')}`)).status).to.equal(204);
  });
});
