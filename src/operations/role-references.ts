import type { ClientRepository } from '../clients/repository.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { MfaSettings } from '../settings/mfa.ts';
import type { SignInSettings } from '../settings/sign-in.ts';

/** What a deleted role was also taken off, for the audit trail (nothing: no key). */
export interface RoleDetached {
  readonly clients?: string[];
  readonly default_roles?: true;
  readonly mfa_required_roles?: true;
}

/** A runtime setting that lists role names, in its group's store. */
interface RoleList<S extends object> {
  readonly store: SettingsStore<S>;
  readonly name: keyof S & string;
}

const namesIn = <S extends object>({ name }: RoleList<S>, settings: S) => settings[name] as readonly string[];

/** Whether the setting's environment variable pins it to a list naming the role: the deletion could not take it off. */
function pinnedNaming<S extends object>(list: RoleList<S>, role: string): string | undefined {
  const variable = list.store.pinned[list.name];
  // A pinned setting's value in force is the configured one.
  return variable !== undefined && namesIn(list, list.store.configured).includes(role) ? variable : undefined;
}

/**
 * Takes the role off the list as it stands at the write (src/settings/store.ts: under the group's
 * lock, with the version check), so a change another operator made meanwhile stays; whether it was there.
 */
async function takeOff<S extends object>(list: RoleList<S>, role: string): Promise<boolean> {
  if (list.store.pinned[list.name] !== undefined) return false;
  const change = await list.store.update((settings) => {
    const names = namesIn(list, settings);
    return names.includes(role) ? ({ [list.name]: names.filter((name) => name !== role) } as never) : {};
  });
  return change.changed.includes(list.name);
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
  const defaults: RoleList<SignInSettings> = { store: signIn, name: 'default_roles' };
  const mfaRoles: RoleList<MfaSettings> = { store: mfa, name: 'mfa_required_roles' };
  return {
    /** 409 `pinned` naming GATEHOUSE_DEFAULT_ROLES or GATEHOUSE_MFA_REQUIRED_ROLES when it names the role: nothing is deleted. */
    assertDetachable(role: string): void {
      for (const list of [defaults, mfaRoles] as RoleList<object>[]) {
        const variable = pinnedNaming(list, role);
        if (variable !== undefined) throw new ConflictError('pinned', { setting: list.name, variable }, list.name);
      }
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
