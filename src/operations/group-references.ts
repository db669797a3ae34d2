import type { MfaSettings } from '../settings/mfa.ts';
import type { SettingsStore } from '../settings/store.ts';
import { assertNotPinned, takeOff, type NameList } from './setting-name-lists.ts';

/** What a deleted group was also taken off, for the audit trail (nothing: no key). */
export interface GroupDetached {
  readonly mfa_required_groups?: true;
}

/**
 * What names a group without a user being in it: the runtime setting mfa_required_groups. Deleting
 * the group takes it off, as deleting a role takes the role off mfa_required_roles
 * (role-references.ts): else a group created later with the same name would silently require a
 * second factor, and the MFA settings, which refuse names of no group, could not be saved as shown.
 */
export function groupReferences({ mfa }: { readonly mfa: SettingsStore<MfaSettings> }) {
  const mfaGroups: NameList<MfaSettings> = { store: mfa, setting: 'mfa_required_groups' };
  return {
    /** 409 `pinned` naming GATEHOUSE_MFA_REQUIRED_GROUPS when it names the group: nothing is deleted. */
    assertDetachable(group: string): void {
      assertNotPinned([mfaGroups as NameList<object>], group);
    },
    async detach(group: string): Promise<GroupDetached> {
      return (await takeOff(mfaGroups, group)) ? { mfa_required_groups: true } : {};
    },
  };
}
