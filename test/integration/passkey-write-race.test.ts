import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createPasskeys, type Passkeys } from '../../src/mfa/passkeys.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const ROUNDS = 30;
const ISSUER = 'http://localhost:3000';

const b64url = (bytes: Buffer) => bytes.toString('base64url');

/** A software authenticator with one P-256 key: its COSE public key and assertions it signs. */
function softAuthenticator() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // COSE_Key (RFC 9053): {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, CBOR by hand.
  const cose = Buffer.concat([
    Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from([0x22, 0x58, 0x20]),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  return {
    publicKey: b64url(cose),
    assert(credentialId: string, userId: string, challenge: string, counter: number): string {
      const { hostname, origin } = new URL(ISSUER);
      const flags = Buffer.from([0x05]); // user present + user verified
      const count = Buffer.alloc(4);
      count.writeUInt32BE(counter);
      const authenticatorData = Buffer.concat([createHash('sha256').update(hostname).digest(), flags, count]);
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin, crossOrigin: false }));
      const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), privateKey);
      return JSON.stringify({
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: { authenticatorData: b64url(authenticatorData), clientDataJSON: b64url(clientDataJSON), signature: b64url(signature), userHandle: b64url(Buffer.from(userId)) },
        clientExtensionResults: {},
      });
    },
  };
}

/**
 * FerretDB v1 rewrites the whole document on every update: a passkey sign-in's counter update
 * racing a rename of the same passkey could put the old name (or the old counter) back. Both
 * hold the passkey's lock (src/storage/document-locks.ts); both must survive every round.
 */
describe('a passkey sign-in racing a rename of the same passkey (real MongoDB-wire server)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('passkey_race');
  let connection: Connection;
  let passkeys: Passkeys;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    passkeys = await createPasskeys({ connection, issuer: ISSUER, rpName: 'Gatehouse' });
  });
  after(async () => {
    await connection.close();
  });

  it(`keeps both the new sign counter and the new name (${ROUNDS} rounds)`, async () => {
    const authenticator = softAuthenticator();
    const userId = 'passkey-racer';
    const credentialId = b64url(Buffer.from('race-credential'));
    await connection.collection('mfa_passkeys').insertOne({
      _id: credentialId as never,
      userId,
      publicKey: authenticator.publicKey,
      counter: 0,
      transports: [],
      name: 'Key',
      deviceType: 'singleDevice',
      createdAt: new Date(),
      lastUsedAt: null,
    });
    const challenge = b64url(Buffer.from('a challenge bound to an interaction'));
    const lost: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [check] = await Promise.all([
        passkeys.authenticate(authenticator.assert(credentialId, userId, challenge, round), challenge, userId),
        passkeys.rename(userId, credentialId, `Key ${round}`),
      ]);
      expect(check.ok, `round ${round}: the assertion verifies`).to.equal(true);
      const stored = await connection.collection('mfa_passkeys').findOne({ _id: credentialId as never });
      if (stored?.counter !== round) lost.push(`${round}: counter ${stored?.counter}`);
      if (stored?.name !== `Key ${round}`) lost.push(`${round}: name ${stored?.name}`);
    }
    expect(lost, 'rounds that lost the counter or the name').to.deep.equal([]);
  });
});
