import type { ClientRepository } from '../clients/repository.ts';
import type { SettingsStore } from '../settings/store.ts';
import { assertNotPinned, takeOff, type NameList } from './setting-name-lists.ts';
import type { MfaSettings } from '../settings/mfa.ts';
import type { SignInSettings } from '../settings/sign-in.ts';

/** What a deleted role was also taken off, for the audit trail (nothing: no key). */
export interface RoleDetached {
  readonly clients?: string[];
  readonly default_roles?: true;
  readonly mfa_required_roles?: true;
}

/**
 * What hands a role out or names it without a user holding it: clients' service-account roles
 * (their client_credentials tokens), the runtime setting default_roles (every new user) and
 * mfa_required_roles (who must use a second factor). Deleting the role takes it off all of them,
 * as Keycloak's role deletion takes it off the service-account user and the realm's default roles:
 * else the next token would still carry it, the next new user bring it back, and a role created
 * later with the same name would silently require a second factor (and the MFA settings, which
 * refuse names of no role, could not be saved as shown). The audit event and the console's
 * confirmation say what it was taken off.
 */
export function roleReferences({ clients, signIn, mfa }: { readonly clients: Pick<ClientRepository, 'removeServiceAccountRole'>; readonly signIn: SettingsStore<SignInSettings>; readonly mfa: SettingsStore<MfaSettings> }) {
  const defaults: NameList<SignInSettings> = { store: signIn, setting: 'default_roles' };
  const mfaRoles: NameList<MfaSettings> = { store: mfa, setting: 'mfa_required_roles' };
  return {
    /** 409 `pinned` naming GATEHOUSE_DEFAULT_ROLES or GATEHOUSE_MFA_REQUIRED_ROLES when it names the role: nothing is deleted. */
    assertDetachable(role: string): void {
      assertNotPinned([defaults, mfaRoles] as NameList<object>[], role);
    },
    async detach(role: string): Promise<RoleDetached> {
      const changed = await clients.removeServiceAccountRole(role);
      const fromDefaults = await takeOff(defaults, role);
      const fromMfa = await takeOff(mfaRoles, role);
      return {
        ...(changed.length === 0 ? {} : { clients: changed }),
        ...(fromDefaults ? { default_roles: true as const } : {}),
        ...(fromMfa ? { mfa_required_roles: true as const } : {}),
      };
    },
  };
}

export type RoleReferences = ReturnType<typeof roleReferences>;
