import { ConflictError } from '../errors/gatehouse-error.ts';
import type { SettingsStore } from '../settings/store.ts';

/**
 * A runtime setting that lists role or group names (default_roles, mfa_required_roles,
 * mfa_required_groups), in its settings group's store: what deleting a role or a group does to
 * it (role-references.ts, group-references.ts).
 */
export interface NameList<S extends object> {
  readonly store: SettingsStore<S>;
  readonly setting: keyof S & string;
}

const namesIn = <S extends object>({ setting }: NameList<S>, settings: S) => settings[setting] as readonly string[];

/** 409 `pinned` naming the variable when it pins the setting to a list naming `name`: the deletion could not take it off. */
export function assertNotPinned(lists: ReadonlyArray<NameList<object>>, name: string): void {
  for (const list of lists) {
    const variable = list.store.pinned[list.setting];
    // A pinned setting's value in force is the configured one.
    if (variable !== undefined && namesIn(list, list.store.configured).includes(name)) throw new ConflictError('pinned', { setting: list.setting, variable }, list.setting);
  }
}

/**
 * Takes `name` off the list as it stands at the write (src/settings/store.ts: under the group's
 * lock, with the version check), so a change another operator made meanwhile stays; whether it was there.
 */
export async function takeOff<S extends object>(list: NameList<S>, name: string): Promise<boolean> {
  if (list.store.pinned[list.setting] !== undefined) return false;
  const change = await list.store.update((settings) => {
    const names = namesIn(list, settings);
    return names.includes(name) ? ({ [list.setting]: names.filter((entry) => entry !== name) } as never) : {};
  });
  return change.changed.includes(list.setting);
}
