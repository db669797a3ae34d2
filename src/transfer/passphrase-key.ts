import { hkdf, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The key an encrypted export is sealed with, derived from the operator's passphrase.
 *
 * argon2id rather than PBES2 (PBKDF2): a backup in object storage can be taken and guessed at
 * offline for ever, and argon2id makes every guess cost memory as well as time, which GPUs and
 * ASICs do not cheapen the way they cheapen PBKDF2's hashing. The cost is RFC 9106's second
 * recommended option (§4: t=3, p=4, m=64 MiB, 128-bit salt, 256-bit tag) — well above OWASP's
 * floor for password storage (m=19 MiB, t=2), affordable here because it is paid once per export
 * or import, never per sign-in. The parameters travel in the file, so a later change of them
 * still opens older files.
 */
export const EXPORT_KDF = { name: 'argon2id', version: 19, memory_kib: 65_536, iterations: 3, parallelism: 4 } as const;

/** What a file may ask the KDF for: a crafted header must not make an import allocate gigabytes or spin for minutes. */
const KDF_LIMITS = { memory_kib: 1_048_576, iterations: 16, parallelism: 16 } as const;

export interface KdfParameters {
  readonly name: 'argon2id';
  readonly version: 19;
  readonly memory_kib: number;
  readonly iterations: number;
  readonly parallelism: number;
  /** base64url, 16 random bytes per file. */
  readonly salt: string;
}

export interface PassphraseKey {
  /** The A256GCM content key (JWE `dir`). */
  readonly contentKey: Buffer;
  /**
   * A value stored in the file's header that says whether a passphrase is the right one before
   * the content is tried, so that a wrong passphrase and a changed file get different messages.
   * It tells a guesser nothing the ciphertext's tag does not: each guess still costs one argon2id.
   */
  readonly check: Buffer;
}

const hkdfAsync = promisify(hkdf);
/** @node-rs/argon2's `Algorithm.Argon2id` and `Version.V0x13` (19): const enums, which type stripping cannot import. */
const ARGON2ID = 2;
const VERSION_19 = 1;

export function newKdfParameters(): KdfParameters {
  return { ...EXPORT_KDF, salt: randomBytes(16).toString('base64url') };
}

/** A header's KDF parameters within what this version accepts, or a sentence saying what is not. */
export function kdfProblem(kdf: KdfParameters): string | undefined {
  if (kdf.name !== 'argon2id' || kdf.version !== 19) return `key derivation ${String(kdf.name)} v${String(kdf.version)} is not argon2id v19`;
  for (const name of ['memory_kib', 'iterations', 'parallelism'] as const) {
    const value = kdf[name];
    if (!Number.isSafeInteger(value) || value < 1 || value > KDF_LIMITS[name]) return `argon2id ${name} ${String(value)} is outside 1–${KDF_LIMITS[name]}`;
  }
  if (kdf.memory_kib < 8 * kdf.parallelism) return 'argon2id memory_kib is below 8 × parallelism';
  if (Buffer.from(kdf.salt, 'base64url').length < 16) return 'the salt is shorter than 16 bytes';
  return undefined;
}

/**
 * argon2id(passphrase) → a 256-bit master key, then HKDF-SHA256 splits it into the content key and
 * the passphrase check (two independent keys from one expensive derivation). The passphrase is
 * taken in Unicode NFC, so the same passphrase typed where the keyboard composes accents
 * differently (macOS writes NFD) opens the file.
 */
export async function derivePassphraseKey(passphrase: string, kdf: KdfParameters): Promise<PassphraseKey> {
  // Loaded here, not with the module: `gatehouse export --help` and a flag error load no argon2.
  const { hashRaw } = await import('@node-rs/argon2');
  const master = await hashRaw(passphrase.normalize('NFC'), {
    algorithm: ARGON2ID,
    version: VERSION_19,
    memoryCost: kdf.memory_kib,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    outputLen: 32,
    salt: Buffer.from(kdf.salt, 'base64url'),
  });
  const [contentKey, check] = await Promise.all([
    hkdfAsync('sha256', master, Buffer.alloc(0), 'gatehouse export: A256GCM content key', 32),
    hkdfAsync('sha256', master, Buffer.alloc(0), 'gatehouse export: passphrase check', 32),
  ]);
  master.fill(0);
  return { contentKey: Buffer.from(contentKey), check: Buffer.from(check) };
}

export function checkMatches(key: PassphraseKey, stored: string): boolean {
  const expected = Buffer.from(stored, 'base64url');
  return expected.length === key.check.length && timingSafeEqual(expected, key.check);
}
