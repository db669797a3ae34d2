import { expect } from 'chai';
import { ownProfileSchema } from '../../src/operations/own-account.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceForSuite } from '../helpers/e2e.ts';

const PASSWORD = 'correct horse battery';
const OVERRIDE = '\u202E';

/**
 * The profile's text attributes under their OpenID standard claim names (name, given_name,
 * family_name, middle_name, nickname, gender, the address's parts) reach tokens, the console
 * and applications' pages as the custom attributes do: like them, no control or invisible format
 * character (a U+202E reverses the text around it) — 400 `hidden_character` naming the field.
 * `address.formatted` keeps its line breaks (Core §5.1.1: lines separated by newlines); joiners
 * stay (emoji sequences, Persian or Indic text). Values stored before keep working.
 */
describe('hidden characters in profile attributes (admin API, account API schema, real stores)', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('profile_hidden');
  let token: string;
  let serial = 0;

  before(async () => {
    token = await (await adminClient(suite.gatehouse)).token();
  });
  const call = (method: string, path: string, body?: unknown) => callAdmin(suite.gatehouse.url, token, method, path, body);
  const codes = (body: { details?: Array<{ path: string; code: string }> }) => (body.details ?? []).map((detail) => [detail.path, detail.code]);
  const TEXT_FIELDS = ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'gender'] as const;
  const ADDRESS_PARTS = ['street_address', 'locality', 'region', 'postal_code', 'country'] as const;

  it('refuses them on create and update with a 400 naming the field', async () => {
    for (const field of TEXT_FIELDS) {
      const created = await call('POST', '/users', { username: `hidden-${++serial}`, password: PASSWORD, [field]: `Al${OVERRIDE}ice` });
      expect(created.status, `${field}: ${JSON.stringify(created.body)}`).to.equal(400);
      expect(codes(created.body), field).to.deep.include([field, 'hidden_character']);
    }
    for (const part of ADDRESS_PARTS) {
      const created = await call('POST', '/users', { username: `hidden-${++serial}`, password: PASSWORD, address: { [part]: `1\u200B2` } });
      expect(created.status, `address.${part}: ${JSON.stringify(created.body)}`).to.equal(400);
      expect(codes(created.body), part).to.deep.include([`address.${part}`, 'hidden_character']);
    }
    const user = await call('POST', '/users', { username: `hidden-${++serial}`, password: PASSWORD });
    expect(user.status).to.equal(201);
    for (const field of TEXT_FIELDS) {
      const updated = await call('PATCH', `/users/${String(user.body.id)}`, { [field]: `b\uFEFFom` });
      expect(updated.status, field).to.equal(400);
      expect(codes(updated.body), field).to.deep.include([field, 'hidden_character']);
    }
    const formatted = await call('PATCH', `/users/${String(user.body.id)}`, { address: { formatted: `1 Main St${OVERRIDE}` } });
    expect(codes(formatted.body)).to.deep.include(['address.formatted', 'hidden_character']);
  });

  it("the account page's profile refuses them too (its schema)", () => {
    for (const field of ['name', 'given_name', 'family_name', 'nickname'] as const) {
      const parsed = ownProfileSchema.safeParse({ [field]: `Al${OVERRIDE}ice` });
      expect(parsed.success, field).to.equal(false);
      expect(parsed.error?.issues.map((issue) => [issue.path.join('.'), (issue as { params?: { code?: string } }).params?.code ?? issue.message]).flat().join(' '), field).to.include(field);
    }
  });

  it("keeps line breaks in address.formatted, joiners anywhere, and accepts everyday text", async () => {
    const created = await call('POST', '/users', {
      username: `visible-${++serial}`,
      password: PASSWORD,
      name: 'Zoë Ångström-Łukasiewicz',
      nickname: '👩\u200D💻',
      given_name: 'می\u200Cخواهم',
      address: { formatted: '1 Main St\nSpringfield\r\nUSA', street_address: '1 Main St', country: 'USA' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.address.formatted).to.equal('1 Main St\nSpringfield\r\nUSA');
    expect(created.body.nickname).to.equal('👩\u200D💻');
  });

  it('a user whose value was stored before is still shown and updated in its other fields', async () => {
    const user = await call('POST', '/users', { username: `stored-${++serial}`, password: PASSWORD, email: `stored-${serial}@example.com` });
    const connection = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
    try {
      await connection.db!.collection('users').updateOne({ _id: user.body.id as never }, { $set: { 'attributes.nickname': `old${OVERRIDE}nick` } });
    } finally {
      await connection.close();
    }
    expect((await call('GET', `/users/${String(user.body.id)}`)).body.nickname).to.equal(`old${OVERRIDE}nick`);
    const updated = await call('PATCH', `/users/${String(user.body.id)}`, { family_name: 'Plain' });
    expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
    expect(updated.body.nickname).to.equal(`old${OVERRIDE}nick`);
  });
});
