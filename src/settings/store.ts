import { ConflictError, InvalidRequestError, type ErrorDetail } from '../errors/gatehouse-error.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { validated } from '../storage/validated-writes.ts';
import { effectiveOf, settingNames, type SettingsGroup, type SettingsPatch, type StoredValues } from './group.ts';
import { settingsModel, type StoredSettings } from './model.ts';
import type { SettingsNotices } from './notices.ts';

/** Without Redis notices, another instance's change shows here within this time. */
export const SETTINGS_POLL_MS = 1000;
/** With Redis notices: a bound on how long a lost notice can leave this instance behind. */
const NOTICED_MS = 60_000;
const WRITE_ATTEMPTS = 5;

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface SettingsStoreDeps<S extends object> {
  readonly mongo: Parameters<typeof settingsModel>[0];
  readonly notices: SettingsNotices;
  /** The values from the configuration (environment or defaults). */
  readonly configured: S;
  /** Settings whose environment variable is set: they keep the configured value and refuse writes. */
  readonly pinned: Partial<Record<keyof S & string, string>>;
  readonly logger: WarnLogger;
  readonly now: () => number;
  /** Serialises writes of the group's document (docs/STORAGE.md); by default on `mongo`. */
  readonly locks?: DocumentLocks;
  /**
   * The group's document as already read (null: there is none): src/settings/runtime.ts reads
   * every group's in one command. Without it the store reads its own on opening.
   */
  readonly initial?: StoredSettings<S> | null;
}

export interface SettingsState<S> {
  readonly settings: S;
  /** What an operator stored (pinned settings included: shown, but not in force). */
  readonly stored: StoredValues<S>;
  readonly updatedAt: Date | null;
}

export interface SettingsChange<S> {
  readonly before: S;
  readonly after: S;
  /** The settings whose value in force changed. */
  readonly changed: ReadonlyArray<keyof S & string>;
}

export interface SettingsStore<S extends object> {
  readonly group: SettingsGroup<S>;
  readonly configured: S;
  readonly pinned: Partial<Record<keyof S & string, string>>;
  /** The settings in force, from this instance's copy (see the cache note below). */
  current(): Promise<S>;
  /** Read from the store now (operators' views). */
  read(): Promise<SettingsState<S>>;
  /** Refuses a change to a pinned setting (409 naming it) without writing anything. */
  assertWritable(patch: SettingsPatch<S>): void;
  /**
   * Applies a change (null = back to the configured value); 409 for a pinned setting, 400 for values
   * that do not go together. A function is given the settings as stored at the write (under the
   * group's lock, retried with the version check) and returns the change: an edit of a list that
   * keeps what another writer did meanwhile (a role deletion's); an empty change writes nothing.
   * `check`: the change's problems against what else is stored (roles and groups a list names
   * must exist), run under the lock right before the write — a check made before it could pass
   * for a role whose deletion's own edit of the list then ran before this write.
   */
  update(patch: SettingsPatch<S> | SettingsEdit<S>, check?: SettingsWriteCheck<S>): Promise<SettingsChange<S>>;
}

/** A change computed from the settings in force at the write. */
export type SettingsEdit<S> = (settings: S) => SettingsPatch<S>;

/** A change's problems against what else is stored (src/operations/settings-checks.ts); any refuses it (400). */
export type SettingsWriteCheck<S> = (patch: SettingsPatch<S>) => Promise<ErrorDetail[]>;

const refusal = (problems: readonly ErrorDetail[]) => new InvalidRequestError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * One group's settings document, read through a small per-instance cache. A write drops this
 * instance's copy and announces the change (SettingsNotices), so every other instance drops
 * its copy too and reads the new settings with its next request. Without Redis (or if a notice
 * is lost) a copy lives at most SETTINGS_POLL_MS (NOTICED_MS with notices). A read that started
 * before a notice is not kept, so a stale value never outlives the notice.
 */
export async function openSettingsStore<S extends object>(group: SettingsGroup<S>, deps: SettingsStoreDeps<S>): Promise<SettingsStore<S>> {
  const model = settingsModel(deps.mongo, group);
  const { configured, pinned, now, notices } = deps;
  const names = settingNames(group);
  let cached: { settings: S; at: number } | undefined;
  let generation = 0;
  let loading: Promise<S> | undefined;
  const drop = () => {
    generation += 1;
    cached = undefined;
    loading = undefined;
  };
  notices.listen(group.id, drop);
  const lifetime = notices.listening ? NOTICED_MS : SETTINGS_POLL_MS;

  const stateOf = (doc: StoredSettings<S> | null): SettingsState<S> => {
    const stored = doc?.values ?? {};
    return { settings: effectiveOf(group, configured, stored, pinned), stored, updatedAt: doc?.updatedAt ?? null };
  };

  async function read(): Promise<SettingsState<S>> {
    return stateOf(await model.findById(group.id).lean<StoredSettings<S>>());
  }

  function load(): Promise<S> {
    const started = generation;
    const promise = read().then(
      ({ settings }) => {
        if (generation === started) cached = { settings, at: now() };
        return settings;
      },
      (error: unknown) => {
        // A store outage: keep serving the last settings read rather than failing the page.
        if (cached !== undefined) {
          deps.logger.warn({ err: error, group: group.id }, 'runtime settings not refreshed; serving the last ones read');
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

  const locks = deps.locks ?? documentLocks(deps.mongo);

  /**
   * Read, merge and write under the group's document lock: the version compare-and-set alone is
   * checked by FerretDB v1 on the document it read, so two changes at once both matched and the
   * second put the first one's setting back. (The compare-and-set stays: it is what MongoDB checks.)
   */
  const write = (change: SettingsPatch<S> | SettingsEdit<S>, check?: SettingsWriteCheck<S>) => locks.hold(lockKey('settings', group.id), () => writeUnlocked(change, check));

  async function writeUnlocked(change: SettingsPatch<S> | SettingsEdit<S>, check: SettingsWriteCheck<S> | undefined): Promise<SettingsChange<S>> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const doc = await model.findById(group.id).lean<StoredSettings<S>>();
      const before = effectiveOf(group, configured, doc?.values ?? {}, pinned);
      let patch: SettingsPatch<S>;
      if (typeof change === 'function') {
        patch = change(before);
        if (Object.keys(patch).length === 0) return { before, after: before, changed: [] };
        assertWritable(patch);
      } else patch = change;
      // Under the lock: a role deleted before this point has had its name taken off already, and one deleted later waits to take it off after this write.
      const refused = check === undefined ? [] : await check(patch);
      if (refused.length > 0) throw refusal(refused);
      const values: Record<string, unknown> = { ...(doc?.values ?? {}) };
      for (const name of names) {
        const value = patch[name];
        if (value === null) delete values[name];
        else if (value !== undefined) values[name] = value;
      }
      const after = effectiveOf(group, configured, values as StoredValues<S>, pinned);
      const problems = group.problems?.(after) ?? [];
      if (problems.length > 0) throw refusal(problems);
      const next = await validated(model, { _id: group.id, values: values as StoredValues<S>, version: (doc?.version ?? 0) + 1, updatedAt: new Date(now()) });
      let written: boolean;
      if (doc === null) {
        written = await model.collection.insertOne(next as never).then(
          () => true,
          (error: unknown) => {
            if (isDuplicateKey(error)) return false;
            throw error;
          },
        );
      } else {
        written = (await model.collection.replaceOne({ _id: group.id, version: doc.version } as never, next)).matchedCount === 1;
      }
      if (!written) continue;
      return { before, after, changed: names.filter((name) => !sameValue(before[name], after[name])) };
    }
    throw new ConflictError('settings_busy', { group: group.id });
  }

  function assertWritable(patch: SettingsPatch<S>): void {
    for (const name of names) {
      const variable = pinned[name];
      if (patch[name] !== undefined && variable !== undefined) {
        throw new ConflictError('pinned', { setting: name, variable }, name);
      }
    }
  }

  // Pages find the settings in memory from the first request on.
  if (deps.initial === undefined) await load();
  else cached = { settings: stateOf(deps.initial).settings, at: now() };

  return {
    group,
    configured,
    pinned,
    current() {
      if (cached !== undefined && now() - cached.at < lifetime && now() >= cached.at) return Promise.resolve(cached.settings);
      return loading ?? load();
    },
    read,
    assertWritable,
    async update(patch, check) {
      if (typeof patch !== 'function') assertWritable(patch);
      const change = await write(patch, check);
      drop();
      await notices.publish(group.id);
      return change;
    },
  };
}
