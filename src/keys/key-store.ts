import { randomUUID } from 'node:crypto';
import { insertValidated } from '../storage/validated-writes.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { SettingError } from '../errors/setting-error.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { DecryptionError } from '../crypto/secret-box.ts';
import { generateCookieKey, generateSigningKey, SIGNING_ALGS, type PrivateJwk } from './generate.ts';
import { KEY_SET_ID, type KeySetModel, type StoredCookieKey, type StoredKeySet, type StoredSigningKey } from './model.ts';

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
export class KeyStoreError extends SettingError {}

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

/**
 * Private JWKs for the provider: every key still published (next, active, retired), the
 * active ones first. oidc-provider signs with the first key of the requested alg that
 * `selectForSign` accepts (lib/helpers/keystore.js: filter by kty/alg/use/crv and, when a
 * JWK carries `key_ops`, by `key_ops.includes('sign')`; a stable sort by a score that is
 * equal for all our keys; callers take `[0]`). Order alone would do, but keys that must not
 * sign also get `key_ops: ['verify']`, the library's own way to make a key verify-only, so
 * a "next" or retired key cannot sign whatever the order. The same `key_ops` is published
 * in /jwks, which is accurate: relying parties only ever verify with it.
 */
export function providerJwks(set: KeySet, now: Date): PrivateJwk[] {
  return bySigningPreference(set.signingKeys, now).map((key) =>
    keyStatus(key, now) === 'active' ? { ...key.jwk } : { ...key.jwk, key_ops: ['verify'] },
  );
}

/** Cookie keys for Koa and the provider: the first signs, the rest still verify. */
export function cookieKeyList(set: KeySet, now: Date): string[] {
  return bySigningPreference(set.cookieKeys, now)
    .filter((key) => keyStatus(key, now) !== 'next')
    .map((key) => key.key);
}

/** The next moment at which some key changes status by time alone, if any. */
export function nextStatusChange(set: KeySet, now: Date): Date | undefined {
  let next: number | undefined;
  for (const key of [...set.signingKeys, ...set.cookieKeys]) {
    for (const moment of [key.activateAt, key.retireAt, key.removeAt]) {
      const at = moment?.getTime();
      if (at !== undefined && at > now.getTime() && (next === undefined || at < next)) next = at;
    }
  }
  return next === undefined ? undefined : new Date(next);
}

/** When the newest signing key was made: the age that scheduled rotation compares. */
export function newestSigningKeyAt(set: KeySet): Date {
  return new Date(Math.max(...set.signingKeys.map((key) => key.createdAt.getTime())));
}

export interface RotationPolicy {
  /** New keys are published this long before they sign. */
  readonly publishDelayMs: number;
  /** Replaced keys stay published this long after they stop signing. */
  readonly retentionMs: number;
  /** Rotate only if the newest signing key is at least this old (scheduled rotation). */
  readonly olderThanMs?: number;
}

export interface RotationResult {
  /** False when nothing was due, or a racing rotation by another instance won. */
  readonly rotated: boolean;
  readonly keySet: KeySet;
  /** The keys this call added (empty unless rotated). */
  readonly signingKeys: readonly SigningKey[];
  readonly cookieKeys: readonly CookieKey[];
}

export interface KeyStoreDeps {
  readonly model: KeySetModel;
  /** Seals with the purpose "keys"; see createSecretBox. */
  readonly box: SecretBox;
  readonly now?: () => Date;
  /** Fresh key material for one rotation; tests replace it to line racing writers up. */
  readonly newKeyMaterial?: () => Promise<NewKeyMaterial>;
}

export interface NewKeyMaterial {
  /** One private signing key per alg in SIGNING_ALGS. */
  readonly signing: readonly PrivateJwk[];
  readonly cookie: string;
}

export async function generateKeyMaterial(): Promise<NewKeyMaterial> {
  return { signing: await Promise.all(SIGNING_ALGS.map((alg) => generateSigningKey(alg))), cookie: generateCookieKey() };
}

export interface KeyStore {
  /** The shared key set, created on first start (exactly once, even with racing instances). */
  loadOrCreate(): Promise<KeySet>;
  /** The shared key set, or undefined when none was created yet. */
  load(): Promise<KeySet | undefined>;
  /** The key set's version alone (cheap; for polling), or undefined when none exists. */
  version(): Promise<number | undefined>;
  /**
   * Adds a new generation (one signing key per alg and a cookie key) that signs after the
   * publish delay, and schedules the keys it replaces for retirement and removal. Compare-
   * and-set on `version`: when another write wins, re-reads and re-checks, and never adds a
   * second generation if a racing rotation already did. Drops removed keys on the way.
   */
  rotate(policy: RotationPolicy): Promise<RotationResult>;
  /** Drops keys past their removeAt (compare-and-set); resolves to the current set. */
  prune(): Promise<KeySet>;
}

const MAX_ATTEMPTS = 20;
const CLAIMS_COLLECTION = 'keyset_claims';
/** Far longer than one updateOne may take (the socket timeout is 30 s); see releaseStaleClaim. */
const STALE_CLAIM_MS = 60_000;

const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, 10 * (attempt + 1)));


export function createKeyStore({ model, box, now = () => new Date(), newKeyMaterial = generateKeyMaterial }: KeyStoreDeps): KeyStore {
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
      generation: 1,
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

  async function read(): Promise<StoredKeySet> {
    const doc = await model.findById(KEY_SET_ID).lean<StoredKeySet>().exec();
    if (doc === null) throw new Error('no key set yet: start the server once to create it');
    return doc;
  }

  async function load(): Promise<KeySet | undefined> {
    const doc = await model.findById(KEY_SET_ID).lean<StoredKeySet>().exec();
    return doc === null ? undefined : decode(doc);
  }

  /**
   * Compare-and-set from `doc.version` to the next version; false when someone else wrote first.
   * A filtered updateOne is not enough: FerretDB v1 checks the filter and writes in separate
   * steps, so two writers on the same version both "succeed" (seen 30 of 30 times on its SQLite
   * backend). What it does enforce atomically is a unique `_id` on insert, so a writer first
   * claims the transition by inserting `{ _id: nextVersion }` into `keyset_claims`; only the
   * claimant then updates. On MongoDB the claim is redundant but harmless.
   */
  async function replace(doc: StoredKeySet, change: Partial<StoredKeySet>): Promise<boolean> {
    const next = doc.version + 1;
    const claims = model.db.collection<{ _id: number; claimedAt: Date }>(CLAIMS_COLLECTION);
    try {
      await claims.insertOne({ _id: next, claimedAt: now() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      await releaseStaleClaim(next, doc.version);
      return false;
    }
    const result = await model.updateOne(
      { _id: KEY_SET_ID, version: doc.version },
      { $set: { ...change, version: next, updatedAt: now() } },
      { runValidators: true },
    );
    await claims.deleteMany({ _id: { $lt: next } }).catch(() => {});
    return result.modifiedCount === 1;
  }

  /** A writer that died between claiming and writing would block every later change. */
  async function releaseStaleClaim(claimed: number, readVersion: number): Promise<void> {
    const claims = model.db.collection<{ _id: number; claimedAt: Date }>(CLAIMS_COLLECTION);
    const claim = await claims.findOne({ _id: claimed });
    if (claim === null || now().getTime() - claim.claimedAt.getTime() < STALE_CLAIM_MS) return;
    const current = await model.findById(KEY_SET_ID, { version: 1 }).lean<{ version: number }>().exec();
    if (current?.version === readVersion) await claims.deleteOne({ _id: claimed, claimedAt: claim.claimedAt });
  }

  function unremoved<T extends StoredSigningKey | StoredCookieKey>(keys: readonly T[], at: Date): T[] {
    return keys.filter((key) => key.removeAt == null || key.removeAt > at);
  }

  /** Keys that would otherwise sign forever stop when their successor starts. */
  function handOver<T extends StoredSigningKey | StoredCookieKey>(key: T, activateAt: Date, retentionMs: number): T {
    if (key.retireAt != null) return key;
    return { ...key, retireAt: activateAt, removeAt: new Date(activateAt.getTime() + retentionMs) };
  }

  async function nextGeneration(doc: StoredKeySet, policy: RotationPolicy, at: Date) {
    const activateAt = new Date(at.getTime() + policy.publishDelayMs);
    const lifecycle = { createdAt: at, activateAt, retireAt: null, removeAt: null };
    const material = await newKeyMaterial();
    const cookieId = randomUUID();
    const addedSigning: StoredSigningKey[] = material.signing.map((jwk) => ({
      kid: jwk.kid,
      alg: jwk.alg,
      sealed: box.seal(JSON.stringify(jwk), `signing:${jwk.kid}`),
      ...lifecycle,
    }));
    const addedCookie: StoredCookieKey = { id: cookieId, sealed: box.seal(material.cookie, `cookie:${cookieId}`), ...lifecycle };
    const rotatedAlgs = new Set<string>(SIGNING_ALGS);
    return {
      addedKids: addedSigning.map((key) => key.kid),
      addedCookieId: cookieId,
      change: {
        generation: (doc.generation ?? 1) + 1,
        signingKeys: [
          ...unremoved(doc.signingKeys, at).map((key) =>
            rotatedAlgs.has(key.alg) ? handOver(key, activateAt, policy.retentionMs) : key,
          ),
          ...addedSigning,
        ],
        cookieKeys: [...unremoved(doc.cookieKeys, at).map((key) => handOver(key, activateAt, policy.retentionMs)), addedCookie],
      },
    };
  }

  async function rotate(policy: RotationPolicy): Promise<RotationResult> {
    let startGeneration: number | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = await read();
      const current = decode(doc); // also proves this secret opens the set before we add to it
      const generation = doc.generation ?? 1;
      startGeneration ??= generation;
      const at = now();
      const unchanged = { rotated: false, keySet: current, signingKeys: [], cookieKeys: [] };
      if (generation !== startGeneration) return unchanged; // a racing rotation won: one generation, not two
      if (policy.olderThanMs !== undefined && at.getTime() - newestSigningKeyAt(current).getTime() < policy.olderThanMs) {
        return unchanged;
      }
      const next = await nextGeneration(doc, policy, at);
      if (!(await replace(doc, next.change))) {
        await backoff(attempt);
        continue;
      }
      const keySet = await load();
      if (keySet === undefined) throw new Error('key set vanished during rotation');
      return {
        rotated: true,
        keySet,
        signingKeys: keySet.signingKeys.filter((key) => next.addedKids.includes(key.kid)),
        cookieKeys: keySet.cookieKeys.filter((key) => key.id === next.addedCookieId),
      };
    }
    throw new Error(`key rotation gave up after ${MAX_ATTEMPTS} conflicting writes`);
  }

  async function prune(): Promise<KeySet> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = await read();
      const at = now();
      const signingKeys = unremoved(doc.signingKeys, at);
      const cookieKeys = unremoved(doc.cookieKeys, at);
      if (signingKeys.length === doc.signingKeys.length && cookieKeys.length === doc.cookieKeys.length) return decode(doc);
      if (await replace(doc, { signingKeys, cookieKeys })) {
        const keySet = await load();
        if (keySet !== undefined) return keySet;
      }
      await backoff(attempt);
    }
    throw new Error(`key pruning gave up after ${MAX_ATTEMPTS} conflicting writes`);
  }

  return {
    load,
    rotate,
    prune,
    async version() {
      const doc = await model.findById(KEY_SET_ID, { version: 1 }).lean<{ version: number }>().exec();
      return doc?.version;
    },
    async loadOrCreate() {
      const existing = await load();
      if (existing !== undefined) return existing;
      try {
        await insertValidated(model, await initialDocument());
      } catch (error) {
        // Another instance created the set first: use theirs, never a second one.
        if (!isDuplicateKey(error)) throw error;
      }
      const created = await load();
      if (created === undefined) throw new Error('key set vanished right after creation');
      return created;
    },
  };
}
