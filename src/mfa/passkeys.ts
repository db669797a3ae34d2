import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { Schema, type Connection, type Model } from 'mongoose';
import { userGone } from '../accounts/deleted-user-rows.ts';
import { shortened } from '../accounts/shortened.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { EXPORT_BATCH } from '../storage/read-batches.ts';

/** One passkey (WebAuthn credential) in `mfa_passkeys`; `_id` is the credential id (base64url). */
export interface StoredPasskey {
  _id: string;
  userId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  /** `multiDevice` (synced, e.g. iCloud Keychain) or `singleDevice` (a security key, a TPM). */
  deviceType: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const passkeySchema = new Schema<StoredPasskey>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    publicKey: { type: String, required: true },
    counter: { type: Number, required: true },
    transports: { type: [String], default: [] },
    name: { type: String, required: true },
    deviceType: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, default: null },
  },
  { collection: 'mfa_passkeys', versionKey: false, strict: 'throw', timestamps: false },
);
passkeySchema.index({ userId: 1 }, { name: 'userId' });

export interface PasskeyView {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

/** A passkey as an export file carries it (src/transfer/): public data only, the private key never leaves the authenticator. */
export interface ExportedPasskey {
  /** The credential id (base64url). */
  readonly id: string;
  readonly userId: string;
  /** COSE public key, base64url. */
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly name: string;
  readonly deviceType: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

/** created; updated (the user's own: the higher sign counter stays); conflict (another user holds this credential id: left alone). */
export type PasskeyRestored = 'created' | 'updated' | 'conflict';

export type PasskeyCheck =
  | {
      readonly ok: true;
      readonly userId: string;
      /** RFC 8176: `swk` for a synced passkey, `hwk` for one bound to its device. */
      readonly method: 'hwk' | 'swk';
      /** The authenticator verified the person (PIN, biometrics): the passkey alone is two factors. */
      readonly userVerified: boolean;
    }
  | { readonly ok: false };

export interface Passkeys {
  /**
   * Whether browsers can make and use passkeys here at all: WebAuthn's RP ID (the issuer's host)
   * must be a domain — `localhost` included — never an IP address. The pages offer passkeys only then.
   */
  readonly usable: boolean;
  list(userId: string): Promise<PasskeyView[]>;
  /** Options for navigator.credentials.create: a discoverable credential, user verification preferred. */
  registrationOptions(user: { id: string; username: string }, challenge: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  register(userId: string, response: unknown, challenge: string, name: string): Promise<boolean>;
  /** Options for navigator.credentials.get: the user's passkeys, or any (discoverable) for passwordless sign-in. */
  authenticationOptions(userId: string | undefined, challenge: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Checks an assertion (signature, origin, RP ID, challenge, sign counter); `userId` restricts whose passkey counts. */
  authenticate(response: unknown, challenge: string, userId?: string): Promise<PasskeyCheck>;
  /** Renames one of the user's passkeys; false when it is not theirs. */
  rename(userId: string, id: string, name: string): Promise<boolean>;
  remove(userId: string, id: string): Promise<boolean>;
  removeAll(userId: string): Promise<number>;
  /** Every user's passkeys, by user and creation, read a batch at a time. */
  exportEach(): AsyncIterable<ExportedPasskey>;
  /** Takes back an exported passkey; its sign counter never moves back (WebAuthn §6.1.1: that would let a clone through). */
  restore(passkey: ExportedPasskey): Promise<PasskeyRestored>;
}

export type PasskeyEvent =
  | { readonly type: 'passkey.registered'; readonly userId: string; readonly passkey: string }
  | { readonly type: 'passkey.used'; readonly userId: string; readonly passkey: string; readonly userVerified: boolean }
  | { readonly type: 'passkey.failed'; readonly userId: string | null; readonly passkey: string | null; readonly reason: PasskeyFailure };

/**
 * Why an assertion was refused: `possible_clone` when it verified but another assertion of the
 * passkey with the same (or a later) sign counter was stored first — two authenticators holding
 * one key, or one assertion replayed at once (WebAuthn §6.1.1); `refused` for anything else.
 */
export type PasskeyFailure = 'refused' | 'possible_clone';

export interface PasskeysDeps {
  readonly connection: Connection;
  /** Receives every registration, use and failure (for audit); must not throw. */
  readonly onEvent?: (event: PasskeyEvent) => void;
  /** The issuer: its host is the RP ID, its origin the only accepted origin. */
  readonly issuer: string;
  readonly rpName: string;
  readonly now?: () => Date;
  /** Held around every update of a passkey (FerretDB v1 rewrites the whole document); by default in `connection`. */
  readonly locks?: DocumentLocks;
  /**
   * Load the WebAuthn library now rather than at the first ceremony. Neither the server nor the CLI
   * does: a CLI command lists and removes passkeys but never verifies one, and a server that only
   * answers tokens keeps ≈ 4.7 MiB less live heap without the library's ~250 modules (its first
   * sign-in page waits for them once; docs/PERFORMANCE.md, perf23h).
   */
  readonly preload?: boolean;
  /** Create the collection's indexes (default); false when they exist already or the caller only reads (src/storage/index-mark.ts). */
  readonly indexes?: boolean;
}

const webauthn = () => import('@simplewebauthn/server');

/** Whether WebAuthn works for an issuer: its host is a domain (`localhost` too), not an IPv4 or IPv6 address. */
export function passkeysWorkAt(issuer: string): boolean {
  const { hostname } = new URL(issuer);
  return isIP(hostname.replace(/^\[(.*)\]$/, '$1')) === 0;
}

/**
 * A WebAuthn challenge bound to one interaction (or password-reset link) and purpose: an HMAC
 * under a key derived from GATEHOUSE_SECRET, so every instance computes the same one and nothing
 * needs storing. The interaction or link ends, so a challenge is never accepted outside it.
 */
export function passkeyChallenge(key: Buffer, interactionUid: string, purpose: 'login' | 'second-factor' | 'register' | 'password-reset' | 'invitation'): string {
  return createHmac('sha256', preparedKey(key)).update(`${interactionUid}\0${purpose}`).digest('base64url');
}

/** Each derived key made into a KeyObject once: an HMAC over a Buffer key makes one per call (every sign-in page computes a challenge). */
const preparedKeys = new WeakMap<Buffer, KeyObject>();
function preparedKey(key: Buffer): KeyObject {
  let prepared = preparedKeys.get(key);
  if (prepared === undefined) {
    prepared = createSecretKey(key);
    preparedKeys.set(key, prepared);
  }
  return prepared;
}

const asJson = (value: unknown): unknown => {
  if (typeof value !== 'string' || value.length > 64 * 1024) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
};

/** A passkey's name as stored: at most 64 UTF-16 units, cut by whole characters (never half an emoji); 'Passkey' when blank. */
const storedName = (name: string): string => shortened(name.trim(), 64).trimEnd() || 'Passkey';

export async function createPasskeys({ connection, issuer, rpName, now = () => new Date(), onEvent, locks = documentLocks(connection), preload = false, indexes = true }: PasskeysDeps): Promise<Passkeys> {
  if (preload) await webauthn();
  const report = (event: PasskeyEvent) => {
    try {
      onEvent?.(event);
    } catch {
      // Auditing must not change the answer.
    }
  };
  const model: Model<StoredPasskey> = (connection.models.MfaPasskey as Model<StoredPasskey> | undefined) ?? connection.model<StoredPasskey>('MfaPasskey', passkeySchema);
  if (indexes) await model.createIndexes();
  const { hostname: rpID, origin } = new URL(issuer);
  const ofUser = (userId: string) => model.find({ userId }).sort({ createdAt: 1 }).lean<StoredPasskey[]>().exec();
  const descriptor = (passkey: StoredPasskey) => ({ id: passkey._id, transports: passkey.transports as AuthenticatorTransportFuture[] });
  const challengeBytes = (challenge: string) => new Uint8Array(Buffer.from(challenge, 'base64url'));
  const locked = <T>(id: string, work: () => Promise<T>) => locks.hold(lockKey('mfa_passkeys', id), work);

  /**
   * Stores a verified assertion's sign counter, holding the passkey's lock; false when the stored
   * counter no longer lets it through (WebAuthn §7.2 step 21): a counter must grow past the
   * stored one, unless both are 0 (an authenticator that keeps no counter, §6.1.1).
   */
  /** 'stale': the counter did not grow past the stored one (WebAuthn §7.2 step 21); 'gone': the passkey was removed meanwhile. */
  async function storeCounter(id: string, counter: number): Promise<'stored' | 'stale' | 'gone'> {
    const current = await model.findById(id, { counter: 1 }).lean<Pick<StoredPasskey, 'counter'>>().exec();
    if (current === null) return 'gone';
    if ((counter > 0 || current.counter > 0) && counter <= current.counter) return 'stale';
    return (await model.updateOne({ _id: id }, { $set: { counter, lastUsedAt: now() } }).exec()).matchedCount === 1 ? 'stored' : 'gone';
  }

  /**
   * Called after a passkey is stored: one registered while its user was being deleted (a request
   * that found the user before) is erased again (src/accounts/deleted-user-rows.ts; the deletion
   * erases passkeys once more after the user is gone). Whether the user is gone.
   */
  async function erasedIfUserGone(userId: string): Promise<boolean> {
    if (!(await userGone(model.db.db!, userId))) return false;
    await model.deleteMany({ userId }).exec();
    return true;
  }

  return {
    usable: passkeysWorkAt(issuer),
    async list(userId) {
      return (await ofUser(userId)).map((p) => ({ id: p._id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt }));
    },

    async registrationOptions(user, challenge) {
      const { generateRegistrationOptions } = await webauthn();
      return generateRegistrationOptions({
        rpName,
        rpID,
        userName: user.username,
        userID: new Uint8Array(Buffer.from(user.id, 'utf8')),
        challenge: challengeBytes(challenge),
        attestationType: 'none',
        excludeCredentials: (await ofUser(user.id)).map(descriptor),
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      });
    },

    async register(userId, response, challenge, name) {
      const parsed = asJson(response) as RegistrationResponseJSON | undefined;
      if (parsed === undefined) return false;
      try {
        const { verifyRegistrationResponse } = await webauthn();
        const result = await verifyRegistrationResponse({ response: parsed, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false });
        if (!result.verified) return false;
        const { credential, credentialDeviceType } = result.registrationInfo;
        await model.create({
          _id: credential.id,
          userId,
          publicKey: Buffer.from(credential.publicKey).toString('base64url'),
          counter: credential.counter,
          transports: credential.transports ?? [],
          name: storedName(name),
          deviceType: credentialDeviceType,
          createdAt: now(),
          lastUsedAt: null,
        });
        if (await erasedIfUserGone(userId)) return false;
        report({ type: 'passkey.registered', userId, passkey: credential.id });
        return true;
      } catch {
        // A malformed or forged response, or a credential already registered.
        return false;
      }
    },

    async authenticationOptions(userId, challenge) {
      const { generateAuthenticationOptions } = await webauthn();
      return generateAuthenticationOptions({
        rpID,
        challenge: challengeBytes(challenge),
        userVerification: 'preferred',
        allowCredentials: userId === undefined ? [] : (await ofUser(userId)).map(descriptor),
      });
    },

    async authenticate(response, challenge, userId) {
      const parsed = asJson(response) as AuthenticationResponseJSON | undefined;
      if (parsed === undefined || typeof parsed.id !== 'string') return { ok: false };
      const passkey = await model.findById(parsed.id).lean<StoredPasskey>().exec();
      const failed = (reason: PasskeyFailure = 'refused') => {
        report({ type: 'passkey.failed', userId: passkey?.userId ?? userId ?? null, passkey: passkey?._id ?? null, reason });
        return { ok: false } as const;
      };
      if (passkey === null || (userId !== undefined && passkey.userId !== userId)) return failed();
      // The authenticator's user handle, when sent, must name the same user.
      const handle = parsed.response?.userHandle;
      if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId) return failed();
      try {
        const { verifyAuthenticationResponse } = await webauthn();
        const { verified, authenticationInfo } = await verifyAuthenticationResponse({
          response: parsed,
          expectedChallenge: challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
          // Counter 0 turns the library's own counter check off: it runs before the signature is
          // verified, so its refusal would not tell a genuine assertion with an old counter (a
          // clone or a replay: possible_clone) from a forged one (refused). The counter is checked
          // below, once the signature is good, against the stored one.
          credential: { id: passkey._id, publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')), counter: 0, transports: passkey.transports as AuthenticatorTransportFuture[] },
        });
        if (!verified) return failed();
        // The counter is stored only if it grows past the stored one (or both stay 0: an
        // authenticator without a counter), decided under the passkey's lock (FerretDB v1's
        // conditional update is a read and a write, not a compare-and-set): of two assertions with
        // one counter, sent at once or one after the other, the second is a possible clone. A
        // write the sign-in makes anyway, so its lock costs no extra step.
        const { newCounter } = authenticationInfo;
        const stored = await locked(passkey._id, () => storeCounter(passkey._id, newCounter));
        if (stored !== 'stored') return failed(stored === 'stale' ? 'possible_clone' : 'refused');
        report({ type: 'passkey.used', userId: passkey.userId, passkey: passkey._id, userVerified: authenticationInfo.userVerified });
        return { ok: true, userId: passkey.userId, method: passkey.deviceType === 'multiDevice' ? 'swk' : 'hwk', userVerified: authenticationInfo.userVerified };
      } catch {
        // A bad signature, origin, RP ID or challenge.
        return failed();
      }
    },

    async rename(userId, id, name) {
      return (await locked(id, () => model.updateOne({ _id: id, userId }, { $set: { name: storedName(name) } }).exec())).matchedCount === 1;
    },

    async remove(userId, id) {
      // Under the lock: an update in flight (FerretDB reads, then writes back) would put it back.
      return (await locked(id, () => model.deleteOne({ _id: id, userId }).exec())).deletedCount === 1;
    },

    async removeAll(userId) {
      return (await model.deleteMany({ userId }).exec()).deletedCount;
    },

    async *exportEach() {
      for await (const { _id, ...rest } of model.find().sort({ userId: 1, createdAt: 1 }).lean<StoredPasskey>().cursor({ batchSize: EXPORT_BATCH })) yield { id: _id, ...rest };
    },

    async restore({ id, ...passkey }) {
      return locked(id, async () => {
        const current = await model.findById(id, { userId: 1 }).lean<Pick<StoredPasskey, 'userId'>>().exec();
        if (current === null) {
          try {
            await model.create({ _id: id, ...passkey, transports: [...passkey.transports] });
            await erasedIfUserGone(passkey.userId);
            return 'created';
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
          }
        } else if (current.userId !== passkey.userId) {
          return 'conflict';
        }
        const { matchedCount } = await model.updateOne({ _id: id, userId: passkey.userId }, { $max: { counter: passkey.counter } }).exec();
        return matchedCount === 1 ? 'updated' : 'conflict';
      });
    },
  };
}
