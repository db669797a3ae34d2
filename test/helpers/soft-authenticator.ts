import { createHash, generateKeyPairSync, sign } from 'node:crypto';

const b64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * A software authenticator with one P-256 key for the relying party at `issuer` (its host is the
 * RP ID, its origin the client data's): its COSE public key, and assertions it signs — for another
 * page of the same host (`at`: another port) as a browser would.
 */
export function softAuthenticator(issuer: string) {
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
    /**
     * A registration response (attestation `none`) for `credentialId`, as a browser's
     * navigator.credentials.create() would send it: authenticator data with the attested
     * credential (zero AAGUID, this key), CBOR by hand.
     */
    register(credentialId: string, challenge: string, at = issuer): string {
      const { hostname, origin } = new URL(at);
      const id = Buffer.from(credentialId, 'base64url');
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length);
      // user present + user verified + attested credential data; counter 0
      const authData = Buffer.concat([createHash('sha256').update(hostname).digest(), Buffer.from([0x45]), Buffer.alloc(4), Buffer.alloc(16), idLength, id, cose]);
      const authDataLength = Buffer.alloc(2);
      authDataLength.writeUInt16BE(authData.length);
      // {"fmt": "none", "attStmt": {}, "authData": bytes}
      const attestationObject = Buffer.concat([
        Buffer.from([0xa3, 0x63]), Buffer.from('fmt'), Buffer.from([0x64]), Buffer.from('none'),
        Buffer.from([0x67]), Buffer.from('attStmt'), Buffer.from([0xa0]),
        Buffer.from([0x68]), Buffer.from('authData'), Buffer.from([0x59]), authDataLength, authData,
      ]);
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin, crossOrigin: false }));
      return JSON.stringify({
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: { attestationObject: b64url(attestationObject), clientDataJSON: b64url(clientDataJSON), transports: ['internal'] },
        clientExtensionResults: {},
      });
    },
    assert(credentialId: string, userId: string, challenge: string, counter: number, at = issuer): string {
      const { hostname, origin } = new URL(at);
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
