import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { startInstance } from '../helpers/instance.ts';
import { exportAll, importAll } from '../../src/transfer/export-file.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

const FAST = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_HASH_POOL_SIZE: '1' };

describe('user profile attributes (OpenID standard claims) through the admin API, the CLI and export/import', function () {
  this.timeout(120_000);
  let mongodbUri: string;
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    mongodbUri = emptyDatabaseUri('user_attributes');
    gatehouse = await startInstance({ mongodbUri, redisUrl: serviceUrls().redisUrl, secret, settings: FAST });
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
    await recycleDatabase(mongodbUri);
  });

  it('refuses malformed values with a 400 that names the field', async () => {
    const cases: Array<[string, unknown]> = [
      ['birthdate', '1815-02-30'],
      ['birthdate', '10/12/1815'],
      ['zoneinfo', 'Mars/Olympus_Mons'],
      ['locale', 'english please'],
      ['phone_number', '020 7123 4567'],
      ['picture', 'javascript:alert(1)'],
      ['website', 'ftp://ada.example.com/'],
      ['nickname', ''],
      ['phone_number_verified', 'yes'],
      ['address', { city: 'London' }],
      ['address', {}],
    ];
    for (const [field, value] of cases) {
      const response = await call('POST', '/users', { username: 'grace', password: 'correct horse 1', [field]: value });
      expect(response.status, `${field}=${JSON.stringify(value)}`).to.equal(400);
      expect(response.body.details.map((detail: { path: string }) => detail.path.split('.')[0]), `${field}=${JSON.stringify(value)}`).to.include(field);
    }
    expect((await call('GET', '/users?q=grace')).body.total).to.equal(0);
  });

  it('accepts the forms Core 5.1 allows, and patches attribute by attribute (null clears)', async () => {
    const created = await call('POST', '/users', {
      username: 'grace',
      password: 'correct horse 1',
      birthdate: '0000-12-09',
      zoneinfo: 'America/New_York',
      locale: 'en-US',
      phone_number: '+12025550123;ext=42',
      phone_number_verified: true,
      address: { formatted: '1 Navy Way\nArlington' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.include({ birthdate: '0000-12-09', zoneinfo: 'America/New_York', phone_number_verified: true, nickname: null });
    const id = created.body.id as string;

    const patched = await call('PATCH', `/users/${id}`, { nickname: 'Amazing Grace', birthdate: '1906', zoneinfo: null });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body).to.include({ nickname: 'Amazing Grace', birthdate: '1906', zoneinfo: null, locale: 'en-US', phone_number_verified: true });
    expect(patched.body.address).to.deep.equal({ formatted: '1 Navy Way\nArlington' });

    const newNumber = await call('PATCH', `/users/${id}`, { phone_number: '+12025550199' });
    expect(newNumber.body, 'a new number is unverified until said so').to.include({ phone_number: '+12025550199', phone_number_verified: false });
    const cleared = await call('PATCH', `/users/${id}`, { address: null, phone_number: null });
    expect(cleared.body).to.include({ address: null, phone_number: null, phone_number_verified: false, nickname: 'Amazing Grace' });

    const profile = await gatehouse.services.accounts.findById(id);
    expect(profile?.attributes).to.deep.equal({ nickname: 'Amazing Grace', birthdate: '1906', locale: 'en-US' });
  });

  it('documents the attributes in the OpenAPI document', async () => {
    const document = (await (await fetch(`${gatehouse.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
    const schema = document.paths['/users/{userId}']!.patch.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).to.include.members(['birthdate', 'zoneinfo', 'locale', 'phone_number', 'phone_number_verified', 'address', 'picture']);
    expect(schema.properties.birthdate.anyOf?.[0]?.pattern ?? schema.properties.birthdate.pattern).to.be.a('string');
  });

  it('CLI: users create and update set them; an empty value clears one; export/import keeps them', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: mongodbUri, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: gatehouse.url, ...FAST };
    const created = await runCli(
      ['users', 'create', '--username', 'linus', '--given-name', 'Linus', '--nickname', 'torvalds', '--birthdate', '1969-12-28', '--locale', 'fi-FI',
        '--phone-number', '+358401234567', '--phone-number-verified', '--address-locality', 'Helsinki', '--address-country', 'FI', '--password-stdin', '--json'],
      env,
      'linus password 1',
    );
    expect(created.code, created.stderr).to.equal(0);
    const bad = await runCli(['users', 'update', 'linus', '--zoneinfo', 'Nowhere/Else', '--json'], env);
    expect(bad.code).not.to.equal(0);
    expect(bad.stderr).to.equal('gatehouse: --zoneinfo: must be an IANA time zone such as Europe/Paris\n');
    const updated = await runCli(['users', 'update', 'linus', '--nickname', '', '--zoneinfo', 'Europe/Helsinki', '--no-phone-number-verified', '--json'], env);
    expect(updated.code, updated.stderr).to.equal(0);
    expect(JSON.parse(updated.stdout)).to.deep.include({
      given_name: 'Linus',
      nickname: null,
      zoneinfo: 'Europe/Helsinki',
      birthdate: '1969-12-28',
      phone_number_verified: false,
      address: { locality: 'Helsinki', country: 'FI' },
    });

    const user = await gatehouse.services.accounts.findByLogin('linus');
    let text = '';
    await exportAll(gatehouse.services, gatehouse.url, { write: (piece) => (text += piece), encrypted: false });
    const exported = JSON.parse(text) as { users: Array<{ _id: string; attributes?: unknown }> };
    const entry = exported.users.find((candidate) => candidate._id === user!.id)!;
    expect(entry.attributes).to.deep.include({ zoneinfo: 'Europe/Helsinki', address: { locality: 'Helsinki', country: 'FI' } });
    entry.attributes = { locale: 'sv-FI' };
    await importAll(gatehouse.services, exported, gatehouse.url);
    expect((await gatehouse.services.accounts.findById(user!.id))?.attributes).to.deep.equal({ locale: 'sv-FI' });
  });
});
