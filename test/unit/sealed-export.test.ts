import { expect } from 'chai';
import { flattenedDecrypt, type FlattenedJWE } from 'jose';
import { derivePassphraseKey, EXPORT_KDF, type KdfParameters } from '../../src/transfer/passphrase-key.ts';
import { isSealedExport, openSealedExport, SEALED_EXPORT_TYPE, sealExport, SealedExportError } from '../../src/transfer/sealed-export.ts';

const PASSPHRASE = 'correct horse battery staple';

/** `text` sealed as written in one piece, or in the pieces given. */
async function seal(text: string | readonly string[], passphrase = PASSPHRASE): Promise<{ file: Record<string, string>; pieces: number }> {
  let written = '';
  let pieces = 0;
  const sealed = await sealExport(passphrase, (piece) => {
    written += piece;
    pieces += 1;
  });
  for (const piece of typeof text === 'string' ? [text] : text) sealed.write(piece);
  sealed.end();
  return { file: JSON.parse(written) as Record<string, string>, pieces };
}

async function refusal(document: unknown, passphrase = PASSPHRASE): Promise<SealedExportError> {
  try {
    await openSealedExport(document, passphrase);
  } catch (error) {
    if (error instanceof SealedExportError) return error;
    throw error;
  }
  return expect.fail('the file was opened');
}

const headerOf = (file: Record<string, string>) => JSON.parse(Buffer.from(file.protected!, 'base64url').toString('utf8')) as Record<string, unknown> & { kdf: KdfParameters };
const withHeader = (file: Record<string, string>, header: object) => ({ ...file, protected: Buffer.from(JSON.stringify(header)).toString('base64url') });
/** The same base64url text with one character changed (to another that decodes to different bits). */
const flipped = (text: string, at: number) => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;

describe('encrypted export files (JWE dir + A256GCM, argon2id from a passphrase)', function () {
  this.timeout(120_000);
  const text = JSON.stringify({ format: 'gatehouse-export', secret: 'client-secret-value', note: 'é'.repeat(10) });
  let sealed: Record<string, string>;

  before(async () => {
    sealed = (await seal(text)).file;
  });

  it('is a flattened JWE whose protected header names the KDF, its parameters and salt, and holds none of the plaintext', () => {
    expect(Object.keys(sealed)).to.deep.equal(['protected', 'iv', 'ciphertext', 'tag']);
    expect(isSealedExport(sealed)).to.equal(true);
    expect(isSealedExport(JSON.parse(text))).to.equal(false);
    const header = headerOf(sealed);
    expect(header).to.include({ alg: 'dir', enc: 'A256GCM', typ: SEALED_EXPORT_TYPE });
    expect(header.kdf).to.include(EXPORT_KDF);
    expect(Buffer.from(header.kdf.salt, 'base64url')).to.have.length(16);
    expect(JSON.stringify(sealed)).to.not.include('client-secret-value').and.not.include(PASSPHRASE);
  });

  it('opens with the passphrase, and with any JOSE library given the derived key (jose here)', async () => {
    expect(await openSealedExport(sealed, PASSPHRASE)).to.equal(text);
    const key = await derivePassphraseKey(PASSPHRASE, headerOf(sealed).kdf);
    const { plaintext } = await flattenedDecrypt(sealed as unknown as FlattenedJWE, key.contentKey, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    expect(new TextDecoder().decode(plaintext)).to.equal(text);
  });

  it('a new salt and IV each time: the same export sealed twice differs', async () => {
    const again = (await seal(text)).file;
    expect(headerOf(again).kdf.salt).to.not.equal(headerOf(sealed).kdf.salt);
    expect(again.iv).to.not.equal(sealed.iv);
  });

  it('a large export is written in pieces and comes back whole, characters outside the BMP across a piece boundary too', async () => {
    // 1 MiB characters per piece: an emoji's surrogate pair straddles the first boundary.
    const large = `${'x'.repeat((1 << 20) - 1)}😀${'ü'.repeat(1 << 20)}😀`;
    const { file, pieces } = await seal(large);
    expect(pieces).to.be.greaterThan(3);
    expect(await openSealedExport(file, PASSPHRASE)).to.equal(large);
  });

  it('written as it is produced, piece by piece: a surrogate pair split between two pieces still comes back whole', async () => {
    const pieces = ['{"name":"', 'grinning \uD83D', '\uDE00 ', 'ü'.repeat(5), '"}'];
    const { file } = await seal(pieces);
    expect(await openSealedExport(file, PASSPHRASE)).to.equal('{"name":"grinning 😀 üüüüü"}');
  });

  it('the passphrase in another Unicode normalization (NFD, as macOS types it) opens it', async () => {
    const { file } = await seal(text, 'pässphrase for the backup');
    expect(await openSealedExport(file, 'pässphrase for the backup'.normalize('NFD'))).to.equal(text);
  });

  it('a wrong passphrase is named as such', async () => {
    const error = await refusal(sealed, `${PASSPHRASE}!`);
    expect(error.reason).to.equal('passphrase');
    expect(error.message).to.include('passphrase does not open it');
  });

  it('a changed ciphertext, tag or IV is named a changed file, not a wrong passphrase', async () => {
    for (const changed of [{ ...sealed, ciphertext: flipped(sealed.ciphertext!, 3) }, { ...sealed, tag: flipped(sealed.tag!, 5) }, { ...sealed, iv: flipped(sealed.iv!, 2) }, { ...sealed, ciphertext: sealed.ciphertext!.slice(0, -4) }]) {
      const error = await refusal(changed);
      expect(error.reason).to.equal('tampered');
      expect(error.message).to.include('changed after it was written');
    }
  });

  it('a changed header: authenticated with the content (a changed salt reads as a wrong passphrase, which its message allows for)', async () => {
    expect((await refusal(withHeader(sealed, { ...headerOf(sealed), cty: 'text' }))).reason).to.equal('tampered');
    const salt = Buffer.alloc(16, 7).toString('base64url');
    const error = await refusal(withHeader(sealed, { ...headerOf(sealed), kdf: { ...headerOf(sealed).kdf, salt } }));
    expect(error.reason).to.equal('passphrase');
    expect(error.message).to.include('or its header was changed');
  });

  it('refuses, before deriving anything, a header asking the KDF for too much memory or time, or another algorithm', async () => {
    const header = headerOf(sealed);
    const memory = await refusal(withHeader(sealed, { ...header, kdf: { ...header.kdf, memory_kib: 4 * 1024 * 1024 } }));
    expect(memory.reason).to.equal('unsupported');
    expect(memory.message).to.include('memory_kib 4194304 is outside');
    expect((await refusal(withHeader(sealed, { ...header, kdf: { ...header.kdf, iterations: 1000 } }))).message).to.include('iterations 1000');
    expect((await refusal(withHeader(sealed, { ...header, enc: 'A128GCM' }))).reason).to.equal('unsupported');
    expect((await refusal(withHeader(sealed, { ...header, alg: 'PBES2-HS512+A256KW' }))).reason).to.equal('unsupported');
  });

  it('a document that only looks encrypted is malformed', async () => {
    expect((await refusal({ protected: 'not base64url!', ciphertext: '' })).reason).to.equal('malformed');
    expect((await refusal({ ...sealed, protected: Buffer.from('not json').toString('base64url') })).reason).to.equal('malformed');
  });
});
