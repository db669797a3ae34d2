import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { checkMatches, derivePassphraseKey, kdfProblem, newKdfParameters, type KdfParameters } from './passphrase-key.ts';

/**
 * An encrypted export file: the export's JSON as the plaintext of a JWE (RFC 7516) in the flattened
 * JSON serialization, `alg: dir`, `enc: A256GCM`, the key derived from a passphrase
 * (src/transfer/passphrase-key.ts; the KDF's parameters and salt travel in the protected header).
 * A standard container: with the derived key, any JOSE library opens it (the tests open one with
 * jose). Produced here with node:crypto as a stream because jose takes and returns whole buffers
 * and strings (several copies of a large export held at once).
 */
export const SEALED_EXPORT_TYPE = 'gatehouse-export+jwe';

const segment = z.string().regex(/^[A-Za-z0-9_-]*$/);
const sealedFile = z.object({ protected: segment.min(1), iv: segment, ciphertext: segment, tag: segment });
const sealedHeader = z.object({
  alg: z.literal('dir'),
  enc: z.literal('A256GCM'),
  typ: z.literal(SEALED_EXPORT_TYPE),
  kdf: z.object({ name: z.literal('argon2id'), version: z.literal(19), memory_kib: z.number(), iterations: z.number(), parallelism: z.number(), salt: segment }),
  passphrase_check: segment,
});

export type SealedExportFile = z.infer<typeof sealedFile>;

/** Why a file was not opened; the CLI says it in these words, naming the file. */
export class SealedExportError extends Error {
  readonly reason: 'malformed' | 'unsupported' | 'passphrase' | 'tampered';
  constructor(reason: SealedExportError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A document that is an encrypted export rather than the clear one (which has `format`): decided by its shape alone. */
export function isSealedExport(document: unknown): boolean {
  return typeof document === 'object' && document !== null && 'ciphertext' in document && 'protected' in document;
}

/** Characters of the plaintext encrypted at a time: what the seal holds beside the export's text. */
const CHUNK_CHARACTERS = 1 << 20;
/** Base64url characters of the ciphertext decrypted at a time when a file is opened (a multiple of 4). */
const BASE64_PIECE = 4 << 20;

/** Where an export's text goes piece by piece, then `end()`. */
export interface TextSink {
  write(piece: string): void;
  end(): void;
}

/**
 * An encrypted export written as its text arrives: what is written to the returned sink is
 * encrypted under `passphrase` and the file's text handed to `write` piece by piece, so that
 * sealing holds neither the export nor its ciphertext whole. The file is complete at `end()`.
 */
export async function sealExport(passphrase: string, write: (piece: string) => void): Promise<TextSink> {
  const kdf = newKdfParameters();
  const key = await derivePassphraseKey(passphrase, kdf);
  const header = { alg: 'dir', enc: 'A256GCM', cty: 'json', typ: SEALED_EXPORT_TYPE, kdf, passphrase_check: key.check.toString('base64url') };
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.contentKey, iv, { authTagLength: 16 });
  // JWE's additional authenticated data: the protected header as it is written (RFC 7516 §5.1 step 14).
  cipher.setAAD(Buffer.from(encodedHeader, 'ascii'));
  key.contentKey.fill(0);
  write(`{"protected":"${encodedHeader}","iv":"${iv.toString('base64url')}","ciphertext":"`);
  // base64 encodes 3 bytes at a time: the bytes left over from a piece go first into the next.
  let carry = Buffer.alloc(0);
  const emit = (bytes: Buffer, last: boolean) => {
    const all = carry.length === 0 ? bytes : Buffer.concat([carry, bytes]);
    const whole = last ? all.length : all.length - (all.length % 3);
    write(all.subarray(0, whole).toString('base64url'));
    carry = Buffer.from(all.subarray(whole));
  };
  // A piece that ends in the first half of a surrogate pair: that half waits for the next piece (alone it would be encoded as U+FFFD).
  let held = '';
  return {
    write(piece) {
      const text = held + piece;
      const end = text.length > 0 && /[\uD800-\uDBFF]/.test(text.at(-1)!) ? text.length - 1 : text.length;
      held = text.slice(end);
      for (let start = 0; start < end; ) {
        let stop = Math.min(start + CHUNK_CHARACTERS, end);
        if (stop < end && /[\uD800-\uDBFF]/.test(text[stop - 1]!)) stop -= 1;
        emit(cipher.update(text.slice(start, stop), 'utf8'), false);
        start = stop;
      }
    },
    end() {
      if (held !== '') emit(cipher.update(held, 'utf8'), false);
      emit(cipher.final(), true);
      write(`","tag":"${cipher.getAuthTag().toString('base64url')}"}\n`);
    },
  };
}

/**
 * The export's JSON text from an encrypted file, or a SealedExportError saying which of these it
 * is: not such a file; parameters this version refuses; the wrong passphrase (the header's check
 * does not match); a file changed after it was written (the content or header does not match the
 * authentication tag). Nothing of the plaintext is returned unless the tag matched.
 */
export async function openSealedExport(document: unknown, passphrase: string): Promise<string> {
  const file = sealedFile.safeParse(document);
  if (!file.success) throw new SealedExportError('malformed', 'it is not an encrypted export: protected, iv, ciphertext and tag must be base64url text');
  let header: z.infer<typeof sealedHeader>;
  try {
    const parsed = sealedHeader.safeParse(JSON.parse(Buffer.from(file.data.protected, 'base64url').toString('utf8')));
    if (!parsed.success) throw new SealedExportError('unsupported', `its header is not one this version reads (${parsed.error.issues.map((issue) => issue.path.join('.') || 'header').join(', ')}: expected alg dir, enc A256GCM, typ ${SEALED_EXPORT_TYPE}, an argon2id kdf)`);
    header = parsed.data;
  } catch (error) {
    if (error instanceof SealedExportError) throw error;
    throw new SealedExportError('malformed', 'its protected header is not base64url-encoded JSON');
  }
  const problem = kdfProblem(header.kdf as KdfParameters);
  if (problem !== undefined) throw new SealedExportError('unsupported', `its key derivation is refused: ${problem}`);
  const key = await derivePassphraseKey(passphrase, header.kdf as KdfParameters);
  if (!checkMatches(key, header.passphrase_check)) throw new SealedExportError('passphrase', 'the passphrase does not open it (a wrong passphrase, or its header was changed)');
  const iv = Buffer.from(file.data.iv, 'base64url');
  const tag = Buffer.from(file.data.tag, 'base64url');
  const changed = () => new SealedExportError('tampered', 'it was changed after it was written: the passphrase is right, but the content does not match its authentication tag');
  if (iv.length !== 12 || tag.length !== 16) throw changed();
  const decipher = createDecipheriv('aes-256-gcm', key.contentKey, iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(file.data.protected, 'ascii'));
  decipher.setAuthTag(tag);
  key.contentKey.fill(0);
  // Decoded a piece at a time (a multiple of 4 characters is whole bytes) into one buffer as long as the
  // ciphertext's bytes (AES-GCM's plaintext is as long as its ciphertext): no second copy of either beside the text.
  const { ciphertext } = file.data;
  const plaintext = Buffer.alloc(Math.floor((ciphertext.length * 3) / 4));
  let length = 0;
  for (let start = 0; start < ciphertext.length; start += BASE64_PIECE) {
    const piece = decipher.update(Buffer.from(ciphertext.slice(start, start + BASE64_PIECE), 'base64url'));
    length += piece.copy(plaintext, length);
    piece.fill(0);
  }
  try {
    decipher.final();
    return plaintext.toString('utf8', 0, length);
  } catch {
    throw changed();
  } finally {
    plaintext.fill(0);
  }
}
