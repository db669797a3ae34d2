import type { Redis } from 'ioredis';
import { createChangeChannel } from '../cache/change-channel.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import { validated } from '../storage/validated-writes.ts';
import { settingsModel, type StoredSettings } from './model.ts';
import { effectiveSignIn, SIGN_IN_SETTING_NAMES, type SignInPatch, type SignInSettingName, type SignInSettings, type StoredSignIn } from './sign-in.ts';

const ID = 'sign-in';
/** Without Redis notices, another instance's change shows here within this time. */
const POLL_MS = 1000;
/** With Redis notices: a bound on how long a lost notice can leave this instance behind. */
const NOTICED_MS = 60_000;
const WRITE_ATTEMPTS = 5;

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export function settingsChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}settings:changed`;
}

export interface SignInSettingsDeps {
  readonly mongo: Parameters<typeof settingsModel>[0];
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  /** The values from the configuration (environment or defaults). */
  readonly configured: SignInSettings;
  /** Settings whose environment variable is set: they keep the configured value and refuse writes. */
  readonly pinned: Partial<Record<SignInSettingName, string>>;
  readonly logger: WarnLogger;
  /** false for one-shot processes (CLI commands): announce changes, listen to none. */
  readonly subscribe: boolean;
  readonly now: () => number;
}

export interface SignInSettingsState {
  readonly settings: SignInSettings;
  /** What an operator stored (pinned settings included: shown, but not in force). */
  readonly stored: StoredSignIn;
  readonly updatedAt: Date | null;
}

export interface SignInSettingsChange {
  readonly before: SignInSettings;
  readonly after: SignInSettings;
  /** The settings whose value in force changed. */
  readonly changed: readonly SignInSettingName[];
}

export interface SignInSettingsStore {
  readonly configured: SignInSettings;
  readonly pinned: Partial<Record<SignInSettingName, string>>;
  /** The settings in force, from this instance's copy (see the cache note below). */
  current(): Promise<SignInSettings>;
  /** Read from the store now (operators' views). */
  read(): Promise<SignInSettingsState>;
  /** Applies a change (null = back to the configured value); 409 for a pinned setting. */
  update(patch: SignInPatch): Promise<SignInSettingsChange>;
  close(): Promise<void>;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The sign-in settings document, read through a small per-instance cache. A write drops this
 * instance's copy and announces the change over Redis, so every other instance drops its copy
 * too and reads the new settings with its next request. Without Redis (or if a notice is
 * lost) a copy lives at most POLL_MS (NOTICED_MS with notices). A read that started before a
 * notice is not kept, so a stale value never outlives the notice.
 */
export async function openSignInSettings(deps: SignInSettingsDeps): Promise<SignInSettingsStore> {
  const model = settingsModel(deps.mongo);
  const { configured, pinned, now } = deps;
  const channel = deps.redis === undefined ? undefined : createChangeChannel({ redis: deps.redis, channel: settingsChangesChannel(deps.redisPrefix), logger: deps.logger });
  let cached: { settings: SignInSettings; at: number } | undefined;
  let generation = 0;
  let loading: Promise<SignInSettings> | undefined;
  const drop = () => {
    generation += 1;
    cached = undefined;
    loading = undefined;
  };
  const subscription = deps.subscribe ? await channel?.subscribe(drop, drop) : undefined;
  const lifetime = subscription === undefined ? POLL_MS : NOTICED_MS;

  async function read(): Promise<SignInSettingsState> {
    const doc = await model.findById(ID).lean<StoredSettings>();
    const stored = doc?.values ?? {};
    return { settings: effectiveSignIn(configured, stored, pinned), stored, updatedAt: doc?.updatedAt ?? null };
  }

  function load(): Promise<SignInSettings> {
    const started = generation;
    const promise = read().then(
      ({ settings }) => {
        if (generation === started) cached = { settings, at: now() };
        return settings;
      },
      (error: unknown) => {
        // A store outage: keep serving the last settings read rather than failing the page.
        if (cached !== undefined) {
          deps.logger.warn({ err: error }, 'sign-in settings not refreshed; serving the last ones read');
          return cached.settings;
        }
        throw error;
      },
    );
    const settled = promise.finally(() => {
      if (loading === settled) loading = undefined;
    });
    loading = settled;
    return settled;
  }

  async function write(patch: SignInPatch): Promise<SignInSettingsChange> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const doc = await model.findById(ID).lean<StoredSettings>();
      const values: Record<string, unknown> = { ...(doc?.values ?? {}) };
      for (const name of SIGN_IN_SETTING_NAMES) {
        const value = patch[name];
        if (value === null) delete values[name];
        else if (value !== undefined) values[name] = value;
      }
      const next = await validated(model, { _id: ID, values: values as StoredSignIn, version: (doc?.version ?? 0) + 1, updatedAt: new Date(now()) });
      let written: boolean;
      if (doc === null) {
        written = await model.collection.insertOne(next as never).then(
          () => true,
          (error: unknown) => {
            if ((error as { code?: unknown }).code === 11000) return false;
            throw error;
          },
        );
      } else {
        written = (await model.collection.replaceOne({ _id: ID, version: doc.version } as never, next)).matchedCount === 1;
      }
      if (!written) continue;
      const before = effectiveSignIn(configured, doc?.values ?? {}, pinned);
      const after = effectiveSignIn(configured, next.values, pinned);
      return { before, after, changed: SIGN_IN_SETTING_NAMES.filter((name) => !sameValue(before[name], after[name])) };
    }
    throw new ConflictError('the sign-in settings are being changed by someone else at the same time; try again');
  }

  // Sign-in pages find the settings in memory from the first request on.
  await load();

  return {
    configured,
    pinned,
    current() {
      if (cached !== undefined && now() - cached.at < lifetime && now() >= cached.at) return Promise.resolve(cached.settings);
      return loading ?? load();
    },
    read,
    async update(patch) {
      for (const name of SIGN_IN_SETTING_NAMES) {
        const variable = pinned[name];
        if (patch[name] !== undefined && variable !== undefined) {
          throw new ConflictError(`${name}: set by the environment variable ${variable}, so it cannot be changed here (unset ${variable} and restart to manage it here)`, name);
        }
      }
      const change = await write(patch);
      drop();
      await channel?.publish(ID);
      return change;
    },
    async close() {
      await subscription?.close();
    },
  };
}
