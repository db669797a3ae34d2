import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { expect } from 'chai';
import { clientAuthKey } from '../../src/limits/client-auth-key.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const run = promisify(execFile);

const basic = (user: string, password = 'secret') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the key a failed client authentication is charged to (src/limits/client-auth-key.ts)', () => {
  it('names the client of an HTTP Basic header (URL-decoded, then encoded for the key) and the address', () => {
    expect(clientAuthKey(basic('web-app'), undefined, '203.0.113.7')).to.equal('web-app@203.0.113.7');
    expect(clientAuthKey(basic('a%20b%40c'), undefined, '203.0.113.7')).to.equal('a%20b%40c@203.0.113.7');
    expect(clientAuthKey(basic('web-app'), { client_id: 'other' }, '::ffff:203.0.113.7'), 'the header wins over the body').to.equal('web-app@203.0.113.7');
    expect(clientAuthKey(basic('web-app'), undefined, '2001:db8:0:1::1')).to.equal('web-app@2001:db8:0:1::/64');
  });

  it('reads the client of the tests\' client_secret_basic header (test/helpers/client-auth.ts) whole: id and secret form-urlencoded first', () => {
    // RFC 6749 §2.3.1: without the encoding the first colon would end the id ("urn").
    const header = clientSecretBasic('urn:notes/web', 'p:w&d=1');
    expect(clientAuthKey(header, undefined, '203.0.113.7')).to.equal(`${encodeURIComponent('urn:notes/web')}@203.0.113.7`);
    expect(Buffer.from(header.slice('Basic '.length), 'base64').toString()).to.equal('urn%3Anotes%2Fweb:p%3Aw%26d%3D1');
  });

  it('answers the same header and address alike every time, and each of several apart', () => {
    const headers = ['one', 'two', 'three'].map((user) => basic(user));
    const rounds = [0, 1, 2].map(() => headers.map((header, index) => clientAuthKey(header, undefined, `198.51.100.${index}`)));
    for (const keys of rounds) expect(keys).to.deep.equal(['one@198.51.100.0', 'two@198.51.100.1', 'three@198.51.100.2']);
    expect(clientAuthKey(headers[0], undefined, '198.51.100.9')).to.equal('one@198.51.100.9');
  });

  it('reads Basic as RFC 7617 spells it, whatever the case and spacing; anything else sends it to the body', () => {
    const encoded = Buffer.from('web-app:secret').toString('base64');
    expect(clientAuthKey(`basic \t${encoded}  `, undefined, '203.0.113.7')).to.equal('web-app@203.0.113.7');
    expect(clientAuthKey(`BASIC ${Buffer.from('no-colon').toString('base64')}`, undefined, '203.0.113.7')).to.equal('no-colon@203.0.113.7');
    for (const header of ['Basic', 'Basic ', `Basic ${encoded}!`, `Basic ${encoded} x`, `Basicx ${encoded}`, `Bearer ${encoded}`]) {
      expect(clientAuthKey(header, { client_id: 'body-client' }, '203.0.113.7'), header).to.equal('body-client@203.0.113.7');
    }
  });

  it('reads a user that is not ASCII, or whose base64 stops early, as Buffer\'s base64 decoding would', () => {
    expect(clientAuthKey(basic('clïent-ü'), undefined, '203.0.113.7')).to.equal(`${encodeURIComponent('clïent-ü')}@203.0.113.7`);
    expect(clientAuthKey(basic('日本'), undefined, '203.0.113.7')).to.equal(`${encodeURIComponent('日本')}@203.0.113.7`);
    // Decoding stops at the first '=', whatever follows; a last lone character adds no byte.
    expect(clientAuthKey(`Basic ${Buffer.from('ab').toString('base64')}${Buffer.from('cd:x').toString('base64')}`, undefined, '203.0.113.7')).to.equal('ab@203.0.113.7');
    expect(clientAuthKey('Basic YWJjZA', undefined, '203.0.113.7')).to.equal('abcd@203.0.113.7');
    expect(clientAuthKey('Basic YWJjZ', undefined, '203.0.113.7')).to.equal('abc@203.0.113.7');
  });

  it('charges a Basic header whose user does not decode to no client, without looking at the body', () => {
    expect(clientAuthKey(basic('%E0%A4%A'), { client_id: 'body-client' }, '203.0.113.7')).to.equal('-@203.0.113.7');
  });

  it('reads the body when the header is not Basic: client_id, else the assertion\'s subject, else no client', async () => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jwt-client').sign(new Uint8Array(32));
    expect(clientAuthKey('', { client_id: 'post-client' }, '203.0.113.7')).to.equal('post-client@203.0.113.7');
    expect(clientAuthKey(undefined, { client_id: 'a b' }, '203.0.113.7')).to.equal('a%20b@203.0.113.7');
    expect(clientAuthKey('Bearer x', { client_assertion: assertion }, '203.0.113.7')).to.equal('jwt-client@203.0.113.7');
    expect(clientAuthKey('', { client_assertion: 'not-a-jwt' }, '203.0.113.7')).to.equal('-@203.0.113.7');
    expect(clientAuthKey('', undefined, '203.0.113.7')).to.equal('-@203.0.113.7');
  });

  it('keys a header too long to remember as any other', () => {
    const long = basic('long-client', 'p'.repeat(600));
    expect(clientAuthKey(long, undefined, '203.0.113.7')).to.equal('long-client@203.0.113.7');
    expect(clientAuthKey(long, undefined, '203.0.113.8')).to.equal('long-client@203.0.113.8');
  });

  it('holds no client secret once keyed: no string of the heap carries the header or the secret (a heap snapshot collects garbage first)', async () => {
    // In a small process of its own (test/fixtures/client-auth-key-heap.ts): the runner's heap is large.
    const { stdout } = await run(process.execPath, [fileURLToPath(new URL('../fixtures/client-auth-key-heap.ts', import.meta.url))]);
    const found = JSON.parse(stdout) as { key: string; header: boolean; secret: boolean };
    expect(found.key).to.equal('held-client@203.0.113.7');
    expect(found.header, 'the header').to.equal(false);
    expect(found.secret, 'the secret').to.equal(false);
  });
});
