import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.ts';
import { DecryptionError } from '../crypto/secret-box.ts';
import { generateCookieKey, generateSigningKey, SIGNING_ALGS, type PrivateJwk } from './generate.ts';
import { KEY_SET_ID, type KeySetModel, type StoredKeySet } from './model.ts';

interface Lifecycle {
  readonly createdAt: Date;
  readonly activateAt: Date;
  readonly retireAt: Date | null;
  readonly removeAt: Date | null;
}

export interface SigningKey extends Lifecycle {
  readonly kid: string;
  readonly alg: string;
  readonly jwk: PrivateJwk;
}

export interface CookieKey extends Lifecycle {
  readonly id: string;
  readonly key: string;
}

export interface KeySet {
  readonly version: number;
  readonly signingKeys: readonly SigningKey[];
  readonly cookieKeys: readonly CookieKey[];
}

export type KeyStatus = 'next' | 'active' | 'retired' | 'removed';

/** Raised when the stored keys cannot be used; names the setting at fault. */
export class KeyStoreError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'KeyStoreError';
    this.setting = setting;
  }
}

export function keyStatus(key: Lifecycle, now: Date): KeyStatus {
  if (key.removeAt !== null && key.removeAt <= now) return 'removed';
  if (key.retireAt !== null && key.retireAt <= now) return 'retired';
  if (key.activateAt > now) return 'next';
  return 'active';
}

const STATUS_ORDER: Record<KeyStatus, number> = { active: 0, next: 1, retired: 2, removed: 3 };

/** Newest active key first (it signs), then keys waiting to sign, then retired ones (verify only). */
function bySigningPreference<T extends Lifecycle>(keys: readonly T[], now: Date): T[] {
  return keys
    .filter((key) => keyStatus(key, now) !== 'removed')
    .sort(
      (a, b) =>
        STATUS_ORDER[keyStatus(a, now)] - STATUS_ORDER[keyStatus(b, now)] ||
        b.activateAt.getTime() - a.activateAt.getTime(),
    );
}

/** Private JWKs for the provider, in the order it should prefer them for signing. */
export function providerJwks(set: KeySet, now: Date): PrivateJwk[] {
  return bySigningPreference(set.signingKeys, now).map((key) => key.jwk);
}

/** Cookie keys for Koa and the provider: the first signs, the rest still verify. */
export function cookieKeyList(set: KeySet, now: Date): string[] {
  return bySigningPreference(set.cookieKeys, now)
    .filter((key) => keyStatus(key, now) !== 'next')
    .map((key) => key.key);
}

export interface KeyStoreDeps {
  readonly model: KeySetModel;
  /** Seals with the purpose "keys"; see createSecretBox. */
  readonly box: SecretBox;
  readonly now?: () => Date;
}

export interface KeyStore {
  /** The shared key set, created on first start (exactly once, even with racing instances). */
  loadOrCreate(): Promise<KeySet>;
  /** The shared key set, or undefined when none was created yet. */
  load(): Promise<KeySet | undefined>;
}

function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

export function createKeyStore({ model, box, now = () => new Date() }: KeyStoreDeps): KeyStore {
  function decode(doc: StoredKeySet): KeySet {
    try {
      return {
        version: doc.version,
        signingKeys: doc.signingKeys.map((stored) => ({
          kid: stored.kid,
          alg: stored.alg,
          jwk: JSON.parse(box.open(stored.sealed, `signing:${stored.kid}`)) as PrivateJwk,
          createdAt: stored.createdAt,
          activateAt: stored.activateAt,
          retireAt: stored.retireAt ?? null,
          removeAt: stored.removeAt ?? null,
        })),
        cookieKeys: doc.cookieKeys.map((stored) => ({
          id: stored.id,
          key: box.open(stored.sealed, `cookie:${stored.id}`),
          createdAt: stored.createdAt,
          activateAt: stored.activateAt,
          retireAt: stored.retireAt ?? null,
          removeAt: stored.removeAt ?? null,
        })),
      };
    } catch (error) {
      if (error instanceof DecryptionError) {
        throw new KeyStoreError(
          'GATEHOUSE_SECRET',
          'does not decrypt the stored signing keys; it must be the same secret that created them',
        );
      }
      throw error;
    }
  }

  async function initialDocument(): Promise<StoredKeySet> {
    const createdAt = now();
    const lifecycle = { createdAt, activateAt: createdAt, retireAt: null, removeAt: null };
    const signing = await Promise.all(SIGNING_ALGS.map((alg) => generateSigningKey(alg)));
    const cookieId = randomUUID();
    return {
      _id: KEY_SET_ID,
      version: 1,
      createdAt,
      updatedAt: createdAt,
      signingKeys: signing.map((jwk) => ({
        kid: jwk.kid,
        alg: jwk.alg,
        sealed: box.seal(JSON.stringify(jwk), `signing:${jwk.kid}`),
        ...lifecycle,
      })),
      cookieKeys: [{ id: cookieId, sealed: box.seal(generateCookieKey(), `cookie:${cookieId}`), ...lifecycle }],
    };
  }

  async function load(): Promise<KeySet | undefined> {
    const doc = await model.findById(KEY_SET_ID).lean<StoredKeySet>().exec();
    return doc === null ? undefined : decode(doc);
  }

  return {
    load,
    async loadOrCreate() {
      const existing = await load();
      if (existing !== undefined) return existing;
      try {
        await model.collection.insertOne(await initialDocument() as never);
      } catch (error) {
        // Another instance created the set first: use theirs, never a second one.
        if (!isDuplicateKeyError(error)) throw error;
      }
      const created = await load();
      if (created === undefined) throw new Error('key set vanished right after creation');
      return created;
    },
  };
}
