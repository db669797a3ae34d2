import type { Command, CommandLine } from './command-line.ts';
import type { FlagsOf } from './flag-errors.ts';

/**
 * The commands `gatehouse` knows: each command's name, the module it runs from, and how its errors
 * name the fields at fault. Each command's module is imported when that command runs, and only
 * then: help, a mistyped command and a flag error load no store driver, no oidc-provider and no
 * argon2, and a command loads its own module, not the others'.
 */
const apis = () => import('./commands/apis.ts');
const claimScopes = () => import('./commands/claim-scopes.ts');
const clients = () => import('./commands/clients.ts');
const consents = () => import('./commands/consents.ts');
const idps = () => import('./commands/idps.ts');
const keys = () => import('./commands/keys.ts');
const labels = async (kind: 'roles' | 'groups') => (await import('./commands/labels.ts')).labelCommands(kind);
const sessions = () => import('./commands/sessions.ts');
const settings = () => import('./commands/settings.ts');
const transfer = () => import('./commands/transfer.ts');
const users = () => import('./commands/users.ts');

export const COMMANDS: Record<string, () => Promise<Command>> = {
  'clients create': async () => (await clients()).clientsCreate,
  'clients list': async () => (await clients()).clientsList,
  'clients get': async () => (await clients()).clientsGet,
  'clients update': async () => (await clients()).clientsUpdate,
  'clients delete': async () => (await clients()).clientsDelete,
  'clients rotate-secret': async () => (await clients()).clientsRotateSecret,
  'users create': async () => (await users()).usersCreate,
  'users list': async () => (await users()).usersList,
  'users get': async () => (await users()).usersGet,
  'users update': async () => (await users()).usersUpdate,
  'users set-password': async () => (await users()).usersSetPassword,
  'users delete': async () => (await users()).usersDelete,
  'users disable': async () => (await users()).usersDisable,
  'users enable': async () => (await users()).usersEnable,
  'users unlock': async () => (await users()).usersUnlock,
  'users invite': async () => (await users()).usersInvite,
  'users mfa': async () => (await users()).usersMfa,
  'apis create': async () => (await apis()).apisCreate,
  'apis list': async () => (await apis()).apisList,
  'apis get': async () => (await apis()).apisGet,
  'apis update': async () => (await apis()).apisUpdate,
  'apis delete': async () => (await apis()).apisDelete,
  'claim-scopes create': async () => (await claimScopes()).claimScopesCreate,
  'claim-scopes list': async () => (await claimScopes()).claimScopesList,
  'claim-scopes get': async () => (await claimScopes()).claimScopesGet,
  'claim-scopes update': async () => (await claimScopes()).claimScopesUpdate,
  'claim-scopes delete': async () => (await claimScopes()).claimScopesDelete,
  'roles create': async () => (await labels('roles')).create,
  'roles list': async () => (await labels('roles')).list,
  'roles delete': async () => (await labels('roles')).delete,
  'roles assign': async () => (await labels('roles')).assign,
  'roles remove': async () => (await labels('roles')).remove,
  'groups create': async () => (await labels('groups')).create,
  'groups list': async () => (await labels('groups')).list,
  'groups delete': async () => (await labels('groups')).delete,
  'groups assign': async () => (await labels('groups')).assign,
  'groups remove': async () => (await labels('groups')).remove,
  'idps create': async () => (await idps()).idpsCreate,
  'idps list': async () => (await idps()).idpsList,
  'idps get': async () => (await idps()).idpsGet,
  'idps update': async () => (await idps()).idpsUpdate,
  'idps delete': async () => (await idps()).idpsDelete,
  'idps links': async () => (await idps()).idpsLinks,
  'idps unlink': async () => (await idps()).idpsUnlink,
  'sessions list': async () => (await sessions()).sessionsList,
  'sessions revoke': async () => (await sessions()).sessionsRevoke,
  'consents list': async () => (await consents()).consentsList,
  'consents revoke': async () => (await consents()).consentsRevoke,
  audit: async () => (await import('./commands/audit.ts')).auditCommand,
  'keys list': async () => (await keys()).keysList,
  'keys rotate': async () => (await keys()).keysRotate,
  'grants revoke': async () => (await import('./commands/grants.ts')).grantsRevoke,
  'caches flush': async () => (await import('./commands/caches.ts')).cachesFlush,
  'lockouts clear': async () => (await import('./commands/lockouts.ts')).lockoutsClear,
  'settings get': async () => (await settings()).settingsGet,
  'settings set': async () => (await settings()).settingsSet,
  export: async () => (await transfer()).exportCommand,
  import: async () => (await transfer()).importCommand,
};

/** Every command's name (`clients create`, `audit`, `doctor`). */
export const COMMAND_NAMES: readonly string[] = [...Object.keys(COMMANDS), 'doctor'];

/** `gatehouse doctor ISSUER_URL`: it opens its settings itself (it runs without them too), so it is not one of COMMANDS. */
export const DOCTOR_LINE: CommandLine = { options: {}, arguments: [{ name: 'ISSUER_URL', optional: true }] };

/**
 * How each command's errors name the fields at fault: by the flags that set them, not by the
 * admin API's names (`--redirect-uri`, not `redirect_uris`). Keyed by command group; `settings
 * set` names its settings as typed (NAME=VALUE) and needs none. Read after the command failed,
 * from the module it ran from.
 */
export const FLAGS: Readonly<Record<string, () => Promise<FlagsOf>>> = {
  clients: async () => (await clients()).CLIENT_FLAGS,
  users: async () => (await users()).USER_FLAGS,
  apis: async () => (await apis()).API_FLAGS,
  'claim-scopes': async () => (await claimScopes()).CLAIM_SCOPE_FLAGS,
  roles: async () => (await import('./commands/labels.ts')).LABEL_FLAGS,
  groups: async () => (await import('./commands/labels.ts')).LABEL_FLAGS,
  idps: async () => (await idps()).IDP_FLAGS,
  audit: async () => (await import('./commands/audit.ts')).AUDIT_FLAGS,
  lockouts: async () => (await import('./commands/lockouts.ts')).LOCKOUT_FLAGS,
};

/** Commands that are one word (`export`, `import`); the rest are two. */
export const SINGLE_WORD = new Set(['export', 'import', 'audit', 'doctor']);
