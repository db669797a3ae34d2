import { createHmac } from 'node:crypto';
import { userGone } from '../accounts/deleted-user-rows.ts';
import type { Attempt, LoginLimiter } from '../accounts/login-limiter-types.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import type { FactorModels, StoredFactors } from './model.ts';
import { newRecoveryCodes, normalizeRecoveryCode, recoveryCodeId } from './recovery-codes.ts';
import { DEFAULT_OTP_POLICY, DEFAULT_TOTP, newTotpSecret, TOTP_DIGITS, totpStep, type OtpPolicy, type TotpParameters } from './totp.ts';
import { EXPORT_BATCH } from '../storage/read-batches.ts';
import { compareAsStored } from '../storage/string-order.ts';

export interface FactorStatus {
  /** When the authenticator app was confirmed; null without one. */
  readonly totpSince: Date | null;
  readonly recoveryCodesLeft: number;
  /** A second factor the user can be asked for. */
  readonly enrolled: boolean;
  /** How the confirmed app computes codes (an imported one may show 8 digits or change every 60 s); null without one. */
  readonly totpParameters: TotpParameters | null;
}

export type SecondFactorMethod = 'totp' | 'recovery_code';

export type FactorEvent =
  | { readonly type: 'mfa.enrolled'; readonly userId: string; readonly method: 'totp'; readonly ip: string }
  | { readonly type: 'mfa.verified'; readonly userId: string; readonly method: SecondFactorMethod; readonly ip: string; readonly recoveryCodesLeft: number }
  | { readonly type: 'mfa.failed'; readonly userId: string; readonly ip: string; readonly reason: 'wrong_code' | 'replayed' | 'locked'; readonly lockedForSeconds: number | null }
  | { readonly type: 'mfa.recovery_codes_created'; readonly userId: string };

export type VerifyResult =
  | { readonly ok: true; readonly method: SecondFactorMethod; readonly recoveryCodesLeft: number }
  | { readonly ok: false };

/** An authenticator enrolled elsewhere (a Keycloak OTP credential), as src/keycloak/ reads it. */
export interface ImportedTotp {
  /** Base32. */
  readonly secret: string;
  readonly parameters: TotpParameters;
  /** When the user enrolled it there: a Gatehouse app confirmed later wins over it. */
  readonly enrolledAt: Date;
}

/**
 * - imported: the user had no app, or an older one than this (replaced);
 * - unchanged: the user already has exactly this one (a re-import);
 * - kept: the user enrolled an app in Gatehouse after this one was enrolled: theirs stays.
 */
export type TotpImportOutcome = 'imported' | 'unchanged' | 'kept';

/** An app to enrol: its secret and how it computes codes (the OTP policy's when enrolment began). */
export interface TotpEnrolment {
  /** Base32. */
  readonly secret: string;
  readonly parameters: TotpParameters;
}

/**
 * A user's factors as an export file carries them (src/transfer/): the app's secret opened (base32;
 * the file protects it as it protects client secrets), recovery codes as their stored HMACs.
 */
export interface ExportedFactors {
  readonly userId: string;
  readonly totp: (TotpParameters & { readonly secret: string; readonly confirmedAt: Date }) | null;
  /** The newest step a code was accepted for: a code used before the export is not taken again after the import. */
  readonly lastTotpStep: number;
  readonly recoveryCodes: readonly string[];
}

export interface FactorsRestored {
  /** What became of the file's app (null: it had none). */
  readonly totp: TotpImportOutcome | null;
  /** Recovery codes written (0 when the user already has some here, or they were not to be carried). */
  readonly recoveryCodes: number;
}

export interface Factors {
  status(userId: string): Promise<FactorStatus>;
  /**
   * The app to show for enrolment: the pending one if enrolment already started (with the
   * parameters it began with), else a new secret with the OTP policy's parameters.
   */
  beginTotp(userId: string): Promise<TotpEnrolment>;
  /** Confirms the pending secret with a code from the app; on success the user gets 10 new recovery codes. */
  confirmTotp(userId: string, code: string, ip: string): Promise<{ readonly ok: true; readonly recoveryCodes: string[] } | { readonly ok: false }>;
  /**
   * A code from the app (this, the previous or the next 30-second step; each step accepted once)
   * or an unused recovery code (used up by this call). Wrong codes count toward the account's
   * lockout like wrong passwords; a locked account fails with the same answer.
   */
  verify(userId: string, code: string, ip: string): Promise<VerifyResult>;
  /** Replaces every recovery code with 10 new ones, shown once. */
  regenerateRecoveryCodes(userId: string): Promise<string[]>;
  /** Removes the app and every recovery code; resolves to whether there was anything. */
  reset(userId: string): Promise<boolean>;
  /** Takes over an authenticator enrolled elsewhere (sealed at rest like any other); `write: false` only tells what would happen. */
  importTotp(userId: string, imported: ImportedTotp, options: { readonly write: boolean }): Promise<TotpImportOutcome>;
  /** Every user's confirmed app and unused recovery codes (users with neither left out), by user id, read a batch at a time. */
  exportEach(): AsyncIterable<ExportedFactors>;
  /**
   * Names the recovery codes' HMAC key without revealing it: stored codes carry over only into a
   * deployment with the same key (the same GATEHOUSE_SECRET).
   */
  readonly recoveryKeyId: string;
  /**
   * Takes back exported factors: the app as importTotp does (a newer one enrolled here stays), its
   * used steps never moved back; the recovery codes only when `recoveryCodes` (same key) and the
   * user has none here (codes used or replaced here since the export do not come back).
   */
  restore(exported: ExportedFactors, options: { readonly recoveryCodes: boolean }): Promise<FactorsRestored>;
}

export interface FactorsDeps {
  readonly models: FactorModels;
  /** createSecretBox(secret, 'mfa'): TOTP secrets at rest. */
  readonly box: SecretBox;
  /** deriveKey(secret, 'mfa-recovery-codes'): the recovery codes' HMAC key. */
  readonly recoveryKey: Buffer;
  readonly limiter: LoginLimiter;
  /** The OTP policy in force (runtime settings): new apps' parameters, and the look-ahead of every code. */
  readonly otpPolicy?: () => Promise<OtpPolicy>;
  readonly now?: () => Date;
  /** Receives every enrolment, use and failure (for audit); must not throw. */
  readonly onEvent?: (event: FactorEvent) => void;
  /** Held around every read-modify-write of a user's `mfa_factors` row; by default in its database. */
  readonly locks?: DocumentLocks;
}

/** What is typed as an app's code (anything else may be a recovery code). */
const TOTP_INPUT = new RegExp(`^\\d{${TOTP_DIGITS.min},${TOTP_DIGITS.max}}$`);

/** An app's parameters; apps enrolled before they were stored use RFC 6238's defaults. */
function parametersOf(totp: Partial<TotpParameters>): TotpParameters {
  return { algorithm: totp.algorithm ?? DEFAULT_TOTP.algorithm, digits: totp.digits ?? DEFAULT_TOTP.digits, period: totp.period ?? DEFAULT_TOTP.period };
}

const sameParameters = (a: TotpParameters, b: TotpParameters) => a.algorithm === b.algorithm && a.digits === b.digits && a.period === b.period;

export function createFactors({ models, box, recoveryKey, limiter, otpPolicy = () => Promise.resolve(DEFAULT_OTP_POLICY), now = () => new Date(), onEvent, locks = documentLocks(models.factors.db) }: FactorsDeps): Factors {
  const { factors, recoveryCodes, usedSteps } = models;
  /** FerretDB v1 rewrites the whole row on update: every writer of a user's row holds its lock. */
  const locked = <T>(userId: string, work: () => Promise<T>) => locks.hold(lockKey('mfa_factors', userId), work);
  const report = (event: FactorEvent) => {
    try {
      onEvent?.(event);
    } catch {
      // Auditing must not change the answer.
    }
  };
  const find = (userId: string) => factors.findById(userId).lean<StoredFactors>().exec();
  const remaining = (userId: string) => recoveryCodes.countDocuments({ userId }).exec();

  /** Removes the app and every recovery code and used step; whether there was an app or a code. */
  async function erase(userId: string): Promise<boolean> {
    const [removed, codes] = await Promise.all([
      // Under the lock: an update in flight (FerretDB reads, then writes back) would put the row back.
      locked(userId, () => factors.deleteOne({ _id: userId }).exec()),
      recoveryCodes.deleteMany({ userId }).exec(),
      usedSteps.deleteMany({ userId }).exec(),
    ]);
    return removed.deletedCount > 0 || codes.deletedCount > 0;
  }

  /**
   * Called after every write that adds to a user's factors: one written while the user was being
   * deleted (a request that found the user before) is erased again (src/accounts/deleted-user-rows.ts;
   * the deletion erases factors once more after the user is gone). Whether the user is gone.
   */
  async function erasedIfUserGone(userId: string): Promise<boolean> {
    if (!(await userGone(factors.db.db!, userId))) return false;
    await erase(userId);
    return true;
  }

  async function replaceRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    const at = now();
    await recoveryCodes.deleteMany({ userId }).exec();
    await recoveryCodes.insertMany(codes.map((code) => ({ _id: recoveryCodeId(recoveryKey, userId, normalizeRecoveryCode(code)!), userId, createdAt: at })));
    await erasedIfUserGone(userId);
    report({ type: 'mfa.recovery_codes_created', userId });
    return codes;
  }

  /** The step of a fresh, valid code; undefined for a wrong one, 'replayed' for a step already used. */
  async function acceptTotp(userId: string, sealed: string, lastStep: number, code: string, parameters: TotpParameters): Promise<number | 'replayed' | undefined> {
    const { lookAhead } = await otpPolicy();
    const step = totpStep(box.open(sealed, userId), code, now(), parameters, lookAhead);
    if (step === undefined) return undefined;
    if (step <= lastStep) return 'replayed';
    try {
      // Unique _id: of two instances accepting the same code at once, one insert fails. The row
      // lives while a code of its step is taken (the look-ahead past it), then expires: no clean-up
      // here, and no read of `users` either — the update below never creates a row, so a user
      // deleted meanwhile is left nothing that outlives this window.
      const expiresAt = new Date((step + lookAhead + 1) * parameters.period * 1000);
      await usedSteps.create({ _id: `${userId}:${step}`, userId, step, expiresAt });
    } catch (error) {
      if (isDuplicateKey(error)) return 'replayed';
      throw error;
    }
    await locked(userId, () => factors.updateOne({ _id: userId }, { $max: { lastTotpStep: step }, $set: { updatedAt: now() } }).exec());
    return step;
  }

  async function failed(userId: string, ip: string, reason: 'wrong_code' | 'replayed' | 'locked', attempt: Attempt) {
    const after = attempt.locked ? attempt : await limiter.recordFailure(userId, ip, attempt);
    report({ type: 'mfa.failed', userId, ip, reason, lockedForSeconds: after.locked ? after.retryAfterSeconds : null });
    return { ok: false } as const;
  }

  /**
   * Runs a code check as one attempt of the login limiter, checked and counted in one step (codes
   * sent together cannot all pass before one is counted); an error before the outcome takes the
   * attempt back.
   */
  async function asAttempt<T>(userId: string, ip: string, check: (attempt: Attempt & { locked: false }) => Promise<T>): Promise<T | { ok: false }> {
    const attempt = await limiter.attempt(userId, ip);
    if (attempt.locked) return failed(userId, ip, 'locked', attempt);
    try {
      return await check(attempt);
    } catch (error) {
      await limiter.release(userId, ip, attempt);
      throw error;
    }
  }

  /**
   * importTotp, with the last step the imported app's codes were accepted for (a restore's, from
   * the export file; 0 for an app from elsewhere) written with it, in the same update.
   */
  async function importTotpAt(userId: string, { secret, parameters, enrolledAt }: ImportedTotp, write: boolean, lastTotpStep: number): Promise<TotpImportOutcome> {
    const current = (await find(userId))?.totp;
    if (current) {
      if (box.open(current.sealed, userId) === secret && sameParameters(parametersOf(current), parameters)) return 'unchanged';
      if (current.confirmedAt.getTime() >= enrolledAt.getTime()) return 'kept';
    }
    if (!write) return 'imported';
    const totp = { sealed: box.seal(secret, userId), confirmedAt: enrolledAt, ...parameters };
    // Steps are counted in the app's period: a replaced app's last step means nothing for this one.
    await locked(userId, () => factors.updateOne({ _id: userId }, { $set: { totp, totpPending: null, lastTotpStep, updatedAt: now() } }, { upsert: true }).exec());
    await usedSteps.deleteMany({ userId }).exec();
    await erasedIfUserGone(userId);
    return 'imported';
  }
  const importTotp: Factors['importTotp'] = (userId, imported, { write }) => importTotpAt(userId, imported, write, 0);

  return {
    async status(userId) {
      const [doc, left] = await Promise.all([find(userId), remaining(userId)]);
      const totpSince = doc?.totp?.confirmedAt ?? null;
      return { totpSince, recoveryCodesLeft: left, enrolled: totpSince !== null, totpParameters: doc?.totp === undefined || doc.totp === null || totpSince === null ? null : parametersOf(doc.totp) };
    },

    async beginTotp(userId) {
      // Read and write under one lock: two starts at once show the same pending secret.
      const enrolment = await locked(userId, async (): Promise<TotpEnrolment> => {
        const doc = await find(userId);
        // The app may already show this secret: it keeps the parameters enrolment began with.
        if (doc?.totpPending) return { secret: box.open(doc.totpPending.sealed, userId), parameters: parametersOf(doc.totpPending) };
        const secret = newTotpSecret();
        const { algorithm, digits, period } = await otpPolicy();
        const at = now();
        await factors
          .updateOne(
            { _id: userId },
            { $set: { totpPending: { sealed: box.seal(secret, userId), createdAt: at, algorithm, digits, period }, updatedAt: at }, $setOnInsert: { totp: null, lastTotpStep: 0 } },
            { upsert: true },
          )
          .exec();
        return { secret, parameters: { algorithm, digits, period } };
      });
      await erasedIfUserGone(userId);
      return enrolment;
    },

    confirmTotp: (userId, code, ip) =>
      asAttempt(userId, ip, async (attempt) => {
        const doc = await find(userId);
        if (!doc?.totpPending) return failed(userId, ip, 'wrong_code', attempt);
        const parameters = parametersOf(doc.totpPending);
        const accepted = await acceptTotp(userId, doc.totpPending.sealed, doc.lastTotpStep, code.trim(), parameters);
        if (typeof accepted !== 'number') return failed(userId, ip, accepted ?? 'wrong_code', attempt);
        // Only the pending secret that was checked: a reset or a new enrolment meanwhile wins.
        // The app keeps the parameters it was enrolled with, whatever the policy says later.
        const confirmed = await locked(userId, async () => {
          const current = await find(userId);
          if (current?.totpPending?.sealed !== doc.totpPending!.sealed) return false;
          await factors.updateOne({ _id: userId }, { $set: { totp: { sealed: current.totpPending.sealed, confirmedAt: now(), ...parameters }, totpPending: null, updatedAt: now() } }).exec();
          return true;
        });
        if (!confirmed) return failed(userId, ip, 'wrong_code', attempt);
        await limiter.recordSuccess(userId, ip, attempt);
        report({ type: 'mfa.enrolled', userId, method: 'totp', ip });
        return { ok: true, recoveryCodes: await replaceRecoveryCodes(userId) };
      }),

    verify: (userId, code, ip) =>
      asAttempt(userId, ip, async (attempt) => {
        const input = code.trim();
        const doc = await find(userId);
        let method: SecondFactorMethod | undefined;
        if (TOTP_INPUT.test(input.replace(/\s/g, ''))) {
          if (doc?.totp) {
            const accepted = await acceptTotp(userId, doc.totp.sealed, doc.lastTotpStep, input.replace(/\s/g, ''), parametersOf(doc.totp));
            if (accepted === 'replayed') return failed(userId, ip, 'replayed', attempt);
            if (accepted !== undefined) method = 'totp';
          }
        } else {
          const normalized = normalizeRecoveryCode(input);
          if (normalized !== undefined) {
            // Deleting is using: of two racing uses only one deletes the row.
            const { deletedCount } = await recoveryCodes.deleteOne({ _id: recoveryCodeId(recoveryKey, userId, normalized), userId }).exec();
            if (deletedCount === 1) method = 'recovery_code';
          }
        }
        if (method === undefined) return failed(userId, ip, 'wrong_code', attempt);
        await limiter.recordSuccess(userId, ip, attempt);
        const recoveryCodesLeft = await remaining(userId);
        report({ type: 'mfa.verified', userId, method, ip, recoveryCodesLeft });
        return { ok: true, method, recoveryCodesLeft };
      }),

    regenerateRecoveryCodes: replaceRecoveryCodes,

    reset: erase,

    recoveryKeyId: createHmac('sha256', recoveryKey).update('gatehouse recovery-code key id').digest('base64url').slice(0, 22),

    async *exportEach() {
      // Two cursors in user-id order, walked side by side: each user's app and codes meet without either collection held whole.
      const apps = factors.find({ totp: { $ne: null } }).sort({ _id: 1 }).lean<StoredFactors>().cursor({ batchSize: EXPORT_BATCH });
      const codes = recoveryCodes.find({}, { _id: 1, userId: 1 }).sort({ userId: 1, _id: 1 }).lean<{ _id: string; userId: string }>().cursor({ batchSize: EXPORT_BATCH });
      try {
        let app = await apps.next();
        let code = await codes.next();
        while (app !== null || code !== null) {
          // The id the store sorts first next, compared as the store compares (not with `<`: imported ids may hold any character).
          const userId = app === null ? code!.userId : code === null || compareAsStored(app._id, code.userId) <= 0 ? app._id : code.userId;
          let exported: Pick<ExportedFactors, 'totp' | 'lastTotpStep'> = { totp: null, lastTotpStep: 0 };
          if (app?._id === userId) {
            if (app.totp) exported = { totp: { secret: box.open(app.totp.sealed, app._id), confirmedAt: app.totp.confirmedAt, ...parametersOf(app.totp) }, lastTotpStep: app.lastTotpStep };
            app = await apps.next();
          }
          const userCodes: string[] = [];
          for (; code?.userId === userId; code = await codes.next()) userCodes.push(code._id);
          yield { userId, ...exported, recoveryCodes: userCodes };
        }
      } finally {
        await Promise.all([apps.close(), codes.close()]);
      }
    },

    async restore({ userId, totp, lastTotpStep, recoveryCodes: codes }, options) {
      let outcome: TotpImportOutcome | null = null;
      if (totp !== null) {
        const { secret, confirmedAt, algorithm, digits, period } = totp;
        outcome = await importTotpAt(userId, { secret, parameters: { algorithm, digits, period }, enrolledAt: confirmedAt }, true, lastTotpStep);
        // The same app already here: its used steps only move forward.
        if (outcome === 'unchanged' && lastTotpStep > 0) await locked(userId, () => factors.updateOne({ _id: userId }, { $max: { lastTotpStep } }).exec());
      }
      if (!options.recoveryCodes || codes.length === 0 || (await remaining(userId)) > 0) return { totp: outcome, recoveryCodes: 0 };
      const at = now();
      try {
        await recoveryCodes.insertMany(codes.map((id) => ({ _id: id, userId, createdAt: at })), { ordered: false });
      } catch (error) {
        // An import run twice at once: the other wrote the same codes.
        if (!isDuplicateKey(error)) throw error;
      }
      if (await erasedIfUserGone(userId)) return { totp: outcome, recoveryCodes: 0 };
      return { totp: outcome, recoveryCodes: codes.length };
    },

    importTotp,
  };
}
