import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption for data at rest (signing keys, cookie keys, client secrets).
 * AES-256-GCM under a key derived from GATEHOUSE_SECRET with HKDF-SHA256; each purpose gets its
 * own derived key, so a ciphertext of one kind can never be opened as another.
 * Format: "v1.<iv>.<ciphertext>.<tag>" in base64url.
 */
export interface SecretBox {
  seal(plaintext: string, associatedData: string): string;
  /** Throws DecryptionError when the secret is wrong or the data was altered. */
  open(sealed: string, associatedData: string): string;
}

export class DecryptionError extends Error {
  constructor() {
    super('stored data cannot be decrypted with this GATEHOUSE_SECRET (wrong secret or altered data)');
    this.name = 'DecryptionError';
  }
}

const SALT = Buffer.from('gatehouse/secret-box/v1');
const TAG_BYTES = 16;

export function deriveKey(masterSecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterSecret, SALT, `gatehouse:${purpose}`, 32));
}

export function createSecretBox(masterSecret: string, purpose: string): SecretBox {
  const key = deriveKey(masterSecret, purpose);
  return {
    seal(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, ciphertext, cipher.getAuthTag()]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed, associatedData) {
      const [version, iv, ciphertext, tag] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || ciphertext === undefined || tag === undefined) {
        throw new DecryptionError();
      }
      try {
        // The full 128-bit tag only: told no length, Node accepts one as short as 32 bits, and
        // some sealed data comes back from browsers (the upstream sign-in and logout cookies).
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(associatedData));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new DecryptionError();
      }
    },
  };
}
