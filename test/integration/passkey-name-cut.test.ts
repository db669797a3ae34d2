import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createPasskeys, type Passkeys } from '../../src/mfa/passkeys.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { softAuthenticator } from '../helpers/soft-authenticator.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const ISSUER = 'http://localhost:3000';
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/**
 * A passkey's name is kept to 64 UTF-16 units on register and rename (the sign-in's enrolment
 * form sends one no schema has checked): a longer one is cut by whole characters — an emoji
 * across unit 64 goes whole, never half of its surrogate pair, which no stored text may hold.
 */
describe("a passkey's name cut at 64 units, by whole characters (real MongoDB-wire server)", function () {
  this.timeout(60_000);
  const database = databaseForSuite('passkey_name_cut');
  let connection: Connection;
  let passkeys: Passkeys;
  const userId = 'passkey-namer';

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse' });
    // register() erases a passkey whose user is gone: the user exists.
    await connection.collection('users').insertOne({ _id: userId as never });
  });
  after(async () => {
    await connection?.close();
  });

  const nameOf = async (id: string) => (await passkeys.list(userId)).find((passkey) => passkey.id === id)?.name;
  // 63 letters and 🔑 (two units, 64 and 65): the key does not fit; 62 letters and it does.
  const across = `${'k'.repeat(63)}🔑 work`;
  const fits = `${'k'.repeat(62)}🔑 work`;

  it('register: an emoji across unit 64 is left out whole', async () => {
    const challenge = b64url('a register challenge');
    const id = b64url('name-cut-register');
    expect(await passkeys.register(userId, softAuthenticator(ISSUER).register(id, challenge), challenge, across)).to.equal(true);
    expect(await nameOf(id)).to.equal('k'.repeat(63));
  });

  it('rename: an emoji across unit 64 is left out whole, one that fits is kept', async () => {
    const id = b64url('name-cut-rename');
    const challenge = b64url('a second register challenge');
    expect(await passkeys.register(userId, softAuthenticator(ISSUER).register(id, challenge), challenge, 'Key')).to.equal(true);
    expect(await passkeys.rename(userId, id, across)).to.equal(true);
    expect(await nameOf(id)).to.equal('k'.repeat(63));
    expect(await passkeys.rename(userId, id, `  ${fits}`)).to.equal(true);
    expect(await nameOf(id)).to.equal(`${'k'.repeat(62)}🔑`);
  });
});
