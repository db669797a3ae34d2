import { z } from 'zod';
import type { StoredUser } from '../accounts/user-model.ts';
import { storedProfileAttributes } from '../accounts/profile-attributes.ts';
import type { ExportedClient } from '../clients/repository.ts';
import { CONSOLE_CLIENT_ID } from '../clients/console-client.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { enrolmentKeeper } from '../mfa/enrolment.ts';
import type { GatehouseServices } from '../services.ts';

export const EXPORT_FORMAT = 'gatehouse-export';
export const EXPORT_WARNING =
  'This file holds password hashes and client secrets in the clear. Keep it private (mode 0600), move it only over encrypted channels, delete it after use.';

/** `gatehouse export`: everything an operator manages, in one JSON document. */
export async function exportAll(services: GatehouseServices, issuer: string) {
  const [apis, roles, groups, clients, users] = await Promise.all([
    services.apis.list(),
    services.roles.list(),
    services.groups.list(),
    services.clients.exportAll(),
    services.users.exportAll(),
  ]);
  return {
    format: EXPORT_FORMAT,
    version: 1,
    warning: EXPORT_WARNING,
    contains_password_hashes: true,
    contains_client_secrets: true,
    exported_at: new Date().toISOString(),
    issuer,
    admin_audience: services.adminAudience,
    apis: apis.filter((api) => api.identifier !== services.adminAudience),
    roles: roles.map((role) => ({ name: role.name, description: role.description })),
    groups: groups.map((group) => ({ name: group.name, description: group.description })),
    // The console's and the account page's clients are built in: every instance ensures its own at startup.
    clients: clients.filter((client) => client.clientId !== CONSOLE_CLIENT_ID && client.clientId !== ACCOUNT_CLIENT_ID),
    users: users.map((user) => ({ ...user, passwordChangedAt: user.passwordChangedAt?.toISOString() ?? null, lastLoginAt: user.lastLoginAt?.toISOString() ?? null, createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() })),
  };
}

const date = z.iso.datetime({ offset: true });
const importSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(1),
  admin_audience: z.string(),
  apis: z.array(
    z.object({
      identifier: z.string(),
      name: z.string(),
      scopes: z.array(z.string()),
      format: z.enum(['jwt', 'opaque']),
      alg: z.enum(['RS256', 'ES256']),
      accessTokenTtl: z.number(),
      includeRoles: z.boolean(),
      includeGroups: z.boolean(),
      tokenClaims: z.enum(['gatehouse', 'keycloak']).optional(),
      clientId: z.string().optional(),
    }),
  ),
  roles: z.array(z.object({ name: z.string().min(1), description: z.string() })),
  groups: z.array(z.object({ name: z.string().min(1), description: z.string() })),
  clients: z.array(
    z.object({
      clientId: z.string().min(1),
      displayName: z.string(),
      firstParty: z.boolean(),
      allowedApis: z.array(z.string()),
      webOrigins: z.array(z.string()),
      admin: z.boolean(),
      metadata: z.record(z.string(), z.unknown()),
      secret: z.string().nullable(),
      createdAt: date,
      updatedAt: date,
    }),
  ),
  users: z.array(
    z.object({
      _id: z.string().min(1),
      username: z.string(),
      usernameKey: z.string(),
      email: z.string().nullable(),
      emailKey: z.string(),
      emailVerified: z.boolean(),
      givenName: z.string().nullable(),
      familyName: z.string().nullable(),
      name: z.string().nullable(),
      attributes: storedProfileAttributes.optional(),
      roles: z.array(z.string()),
      groups: z.array(z.string()),
      disabled: z.boolean(),
      passwordHash: z.string().min(1).nullable(),
      passwordChangedAt: date.nullable(),
      lastLoginAt: date.nullable(),
      createdAt: date,
      updatedAt: date,
    }),
  ),
});

export type ImportSummary = Record<'apis' | 'roles' | 'groups' | 'clients' | 'users', { created: number; updated: number }>;

/**
 * `gatehouse import`: idempotent (objects are matched by their keys and replaced), secrets
 * re-sealed under this deployment's GATEHOUSE_SECRET, user ids (`sub`) and client ids kept.
 * The source's admin API audience is mapped onto this deployment's.
 */
export async function importAll(services: GatehouseServices, document: unknown): Promise<ImportSummary> {
  const data = importSchema.parse(document);
  const summary: ImportSummary = {
    apis: { created: 0, updated: 0 },
    roles: { created: 0, updated: 0 },
    groups: { created: 0, updated: 0 },
    clients: { created: 0, updated: 0 },
    users: { created: 0, updated: 0 },
  };
  const count = (kind: keyof ImportSummary, outcome: 'created' | 'updated') => (summary[kind][outcome] += 1);

  for (const api of data.apis) {
    if ((await services.apis.find(api.identifier)) === undefined) {
      await services.apis.create(api);
      count('apis', 'created');
    } else {
      const { identifier, clientId: _clientId, ...rest } = api;
      await services.apis.update(identifier, rest);
      count('apis', 'updated');
    }
  }
  for (const [kind, list] of [['roles', data.roles], ['groups', data.groups]] as const) {
    const directory = kind === 'roles' ? services.roles : services.groups;
    for (const label of list) {
      const existed = (await directory.get(label.name)) !== undefined;
      if (!existed) await directory.create(label.name, label.description);
      count(kind, existed ? 'updated' : 'created');
    }
  }
  const mapAudience = (list: readonly string[]) => list.map((api) => (api === data.admin_audience ? services.adminAudience : api));
  for (const client of data.clients) {
    const metadata = { ...client.metadata };
    if (metadata.default_api === data.admin_audience) metadata.default_api = services.adminAudience;
    const exported: ExportedClient = { ...client, allowedApis: mapAudience(client.allowedApis), metadata };
    count('clients', await services.clients.importOne(exported));
  }
  // The file carries no second factors: a user's flag follows the factors this deployment holds
  // (none for a new user; an app or passkey enrolled here stays asked for after a restore).
  const enrolled = async (id: string) => (await services.factors.status(id)).enrolled || (await services.passkeys.list(id)).length > 0;
  const syncEnrolment = enrolmentKeeper(services);
  for (const user of data.users) {
    const secondFactor = await enrolled(user._id);
    const stored: StoredUser = {
      ...user,
      secondFactor,
      passwordChangedAt: user.passwordChangedAt === null ? null : new Date(user.passwordChangedAt),
      lastLoginAt: user.lastLoginAt === null ? null : new Date(user.lastLoginAt),
      createdAt: new Date(user.createdAt),
      updatedAt: new Date(user.updatedAt),
    };
    count('users', await services.users.importOne(stored));
    // A factor enrolled or removed while the document was replaced: the flag follows it.
    if ((await enrolled(user._id)) !== secondFactor) await syncEnrolment(user._id);
  }
  return summary;
}
