import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { startInstance } from '../helpers/instance.ts';
import { exportAll, importAll } from '../../src/transfer/export-file.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

const FAST = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_HASH_POOL_SIZE: '1' };

describe('custom user attributes through the admin API, the CLI and export/import', function () {
  this.timeout(120_000);
  let mongodbUri: string;
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const paths = (body: { details?: Array<{ path: string; code?: string }> }) => (body.details ?? []).map((detail) => `${detail.path}: ${detail.code}`);

  before(async () => {
    mongodbUri = emptyDatabaseUri('custom_attributes');
    gatehouse = await startInstance({ mongodbUri, redisUrl: serviceUrls().redisUrl, secret, settings: FAST });
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
    await recycleDatabase(mongodbUri);
  });

  it('sets them on create, shows them, patches one by one (null removes) and keeps them apart from the standard claims', async () => {
    const created = await call('POST', '/users', { username: 'ada', password: 'correct horse 1', locale: 'en-GB', attributes: { department: 'eng', langs: ['en', 'fr'] } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.attributes).to.deep.equal({ department: 'eng', langs: ['en', 'fr'] });
    const id = created.body.id as string;
    expect((await call('GET', `/users/${id}`)).body.attributes).to.deep.equal({ department: 'eng', langs: ['en', 'fr'] });

    const patched = await call('PATCH', `/users/${id}`, { attributes: { department: null, tenant: 'acme', langs: ['fr'] } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body.attributes).to.deep.equal({ langs: ['fr'], tenant: 'acme' });
    expect(patched.body.locale).to.equal('en-GB');
    const user = await gatehouse.services.accounts.findById(id);
    expect(user?.customAttributes).to.deep.equal({ langs: ['fr'], tenant: 'acme' });
    expect(user?.attributes).to.deep.equal({ locale: 'en-GB' });
    // The protocol layer's profile never carries them as claims (only a claim mapper releases one).
    const { profileOf } = await import('../../src/oidc/accounts.ts');
    expect(profileOf(user!).claims).not.to.have.any.keys('tenant', 'langs');

    const emptied = await call('PATCH', `/users/${id}`, { attributes: { langs: null, tenant: null } });
    expect(emptied.body.attributes).to.deep.equal({});
    const users = await gatehouse.services.users.exportAll();
    expect(users.find((one) => one._id === id)).not.to.have.property('customAttributes');
  });

  it('refuses each broken rule with a 400 naming the attribute, and writes nothing', async () => {
    const refused = await call('POST', '/users', { username: 'bob', password: 'correct horse 1', attributes: { 'a.b': 'x', email: 'x', department: '', langs: ['en', 'x'.repeat(1025)] } });
    expect(refused.status).to.equal(400);
    expect(paths(refused.body)).to.have.members(['attributes.a.b: attribute_name', 'attributes.email: reserved_claim_name', 'attributes.department: attribute_value', 'attributes.langs.1: too_long']);
    expect((await call('GET', '/users?q=bob')).body.total).to.equal(0);

    const created = await call('POST', '/users', { username: 'bob', password: 'correct horse 1', attributes: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'x'.repeat(1000)])) });
    expect(created.status).to.equal(201);
    // The total is judged with what the user has: ten more of the same are too many bytes.
    const tooBig = await call('PATCH', `/users/${created.body.id}`, { attributes: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`b${i}`, 'x'.repeat(1000)])) });
    expect(tooBig.status).to.equal(400);
    expect(paths(tooBig.body)).to.deep.equal(['attributes: attributes_too_large']);
    expect(Object.keys((await call('GET', `/users/${created.body.id}`)).body.attributes)).to.have.length(10);
  });

  it('documents them in the OpenAPI document', async () => {
    const document = (await (await fetch(`${gatehouse.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
    const schema = document.paths['/users/{userId}']!.patch.requestBody.content['application/json'].schema;
    expect(schema.properties.attributes.description).to.match(/null removes one/);
  });

  it('CLI: --attribute sets them (a repeated name is a list), NAME= removes one; export/import keeps them', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: mongodbUri, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: gatehouse.url, ...FAST };
    const created = await runCli(['users', 'create', '--username', 'linus', '--attribute', 'department=kernel', '--attribute', 'langs=fi', '--attribute', 'langs=sv', '--password-stdin', '--json'], env, 'linus password 1');
    expect(created.code, created.stderr).to.equal(0);
    const bad = await runCli(['users', 'update', 'linus', '--attribute', 'sub=x', '--json'], env);
    expect(bad.code).not.to.equal(0);
    expect(bad.stderr).to.match(/^gatehouse: --attribute sub: is a standard or protocol claim/);
    const hidden = await runCli(['users', 'update', 'linus', '--attribute', 'department=ker\u202enel', '--json'], env);
    expect(hidden.code).not.to.equal(0);
    expect(hidden.stderr).to.match(/^gatehouse: --attribute department: must not contain control characters or invisible formatting characters/);
    const proto = await runCli(['users', 'update', 'linus', '--attribute', '__proto__[]=x', '--json'], env);
    expect(proto.code).not.to.equal(0);
    expect(proto.stderr, 'refused by name, not dropped').to.match(/^gatehouse: --attribute __proto__: /);
    const updated = await runCli(['users', 'update', 'linus', '--attribute', 'department=', '--attribute', 'tenant=acme', '--json'], env);
    expect(updated.code, updated.stderr).to.equal(0);
    expect(JSON.parse(updated.stdout).attributes).to.deep.equal({ langs: ['fi', 'sv'], tenant: 'acme' });

    const user = await gatehouse.services.accounts.findByLogin('linus');
    let text = '';
    await exportAll(gatehouse.services, gatehouse.url, { write: (piece) => (text += piece), encrypted: false });
    const exported = JSON.parse(text) as { users: Array<{ _id: string; customAttributes?: unknown }> };
    const entry = exported.users.find((candidate) => candidate._id === user!.id)!;
    expect(entry.customAttributes).to.deep.equal({ langs: ['fi', 'sv'], tenant: 'acme' });
    entry.customAttributes = { tenant: 'globex' };
    await importAll(gatehouse.services, exported, gatehouse.url);
    expect((await gatehouse.services.accounts.findById(user!.id))?.customAttributes).to.deep.equal({ tenant: 'globex' });
    // A value stored before hidden characters were refused still restores.
    entry.customAttributes = { tenant: 'glo\u202ebex' };
    await importAll(gatehouse.services, exported, gatehouse.url);
    expect((await gatehouse.services.accounts.findById(user!.id))?.customAttributes).to.deep.equal({ tenant: 'glo\u202ebex' });
    // An export file with a broken attribute is refused, not stored.
    entry.customAttributes = { 'a.b': 'x' };
    let refused: unknown;
    await importAll(gatehouse.services, exported, gatehouse.url).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(Error);
  });
});
