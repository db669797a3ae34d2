import type { ClientRepository } from '../clients/repository.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { SignInSettings } from '../settings/sign-in.ts';

/** What a deleted role was also taken off, for the audit trail (nothing: no key). */
export interface RoleDetached {
  readonly clients?: string[];
  readonly default_roles?: true;
}

/**
 * What hands a role out without a user holding it: clients' service-account roles (their
 * client_credentials tokens) and the runtime setting default_roles (every new user). Deleting the
 * role takes it off both, as Keycloak's role deletion takes it off the service-account user and
 * the realm's default roles — else the next token would still carry it, the next new user bring it back.
 */
export function roleReferences({ clients, signIn }: { readonly clients: Pick<ClientRepository, 'removeServiceAccountRole'>; readonly signIn: SettingsStore<SignInSettings> }) {
  const inDefaults = async (name: string) => (await signIn.read()).settings.default_roles.includes(name);
  return {
    /** 409 `pinned` naming GATEHOUSE_DEFAULT_ROLES when it names the role: the deletion could not take it off. */
    async assertDetachable(name: string): Promise<void> {
      const variable = signIn.pinned.default_roles;
      if (variable !== undefined && (await inDefaults(name))) throw new ConflictError('pinned', { setting: 'default_roles', variable }, 'default_roles');
    },
    async detach(name: string): Promise<RoleDetached> {
      const changed = await clients.removeServiceAccountRole(name);
      const { settings } = await signIn.read();
      const defaults = settings.default_roles.includes(name) && signIn.pinned.default_roles === undefined;
      if (defaults) await signIn.update({ default_roles: settings.default_roles.filter((role) => role !== name) });
      return { ...(changed.length === 0 ? {} : { clients: changed }), ...(defaults ? { default_roles: true as const } : {}) };
    },
  };
}

export type RoleReferences = ReturnType<typeof roleReferences>;
