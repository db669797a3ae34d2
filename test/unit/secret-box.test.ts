import { expect } from 'chai';
import { createSecretBox, DecryptionError } from '../../src/crypto/secret-box.ts';

describe('secret box (AES-256-GCM under an HKDF-derived key)', () => {
  const box = createSecretBox('a'.repeat(32), 'keys');

  it('round-trips and never repeats a ciphertext', () => {
    const a = box.seal('private key material', 'kid-1');
    const b = box.seal('private key material', 'kid-1');
    expect(a).not.to.equal(b);
    expect(a).not.to.include('private key material');
    expect(box.open(a, 'kid-1')).to.equal('private key material');
  });

  it('refuses a wrong secret, another purpose, other associated data or altered data', () => {
    const sealed = box.seal('data', 'kid-1');
    expect(() => createSecretBox('b'.repeat(32), 'keys').open(sealed, 'kid-1')).to.throw(DecryptionError);
    expect(() => createSecretBox('a'.repeat(32), 'clients').open(sealed, 'kid-1')).to.throw(DecryptionError);
    expect(() => box.open(sealed, 'kid-2')).to.throw(DecryptionError);
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'kid-1')).to.throw(DecryptionError);
    expect(() => box.open('garbage', 'kid-1')).to.throw(DecryptionError);
  });

  it('refuses a truncated authentication tag: sealed data from outside (cookies) must carry the full 128 bits', () => {
    const sealed = box.seal('data', 'kid-1');
    const [version, iv, ciphertext, tag] = sealed.split('.') as [string, string, string, string];
    // Node opens GCM with a tag as short as 32 bits unless told the length: a forgery would need ~2^32 tries, not 2^128.
    for (const bytes of [4, 8, 12, 15]) {
      const short = Buffer.from(tag, 'base64url').subarray(0, bytes).toString('base64url');
      expect(() => box.open([version, iv, ciphertext, short].join('.'), 'kid-1'), `${bytes}-byte tag`).to.throw(DecryptionError);
    }
    expect(box.open(sealed, 'kid-1')).to.equal('data');
  });
});
