import { z } from 'zod';
import { keyStatus, type KeySet, type RotationResult } from '../keys/key-store.ts';
import { apiCreateSchema, apiOperations, apiUpdateSchema, showApi } from '../operations/apis.ts';
import { clientOperations, showClient, showCreated } from '../operations/clients.ts';
import { clientCreateSchema, clientUpdateSchema } from '../clients/spec.ts';
import { OperationError } from '../operations/errors.ts';
import { labelAssignSchema, labelCreateSchema, labelOperations, showLabel } from '../operations/labels.ts';
import { passwordSchema, showUser, userCreateSchema, userOperations, userSearchSchema, userUpdateSchema } from '../operations/users.ts';
import { importKeycloakRealm, KEYCLOAK_IMPORT_BODY_LIMIT, keycloakImportQuerySchema, keycloakRealmSchema } from '../operations/keycloak-import.ts';
import type { GatehouseServices } from '../services.ts';
import type { AdminRoute } from './route-table.ts';

export interface AdminKeys {
  keySet(): KeySet;
  rotate(): Promise<RotationResult>;
}

export interface AdminRouteDeps {
  readonly services: GatehouseServices;
  readonly keys: AdminKeys;
  /** Creates an initial access token for dynamic registration; undefined when registration is off. */
  readonly createInitialAccessToken: ((expiresIn: number) => Promise<string>) | undefined;
}

export const auditQuerySchema = z.object({
  type: z.string().max(128).optional(),
  user: z.string().max(128).optional(),
  client: z.string().max(256).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const initialAccessTokenSchema = z.object({ expires_in: z.number().int().min(60).max(30 * 86_400).default(86_400) }).strict();

const sessionView = (s: { id: string; loginAt: Date | null; expiresAt: Date | null; clients: string[] }) => ({
  id: s.id,
  login_at: s.loginAt?.toISOString() ?? null,
  expires_at: s.expiresAt?.toISOString() ?? null,
  clients: s.clients,
});

/** Every admin API route; read top to bottom it is the API's table of contents. */
export function adminRoutes({ services, keys, createInitialAccessToken }: AdminRouteDeps): AdminRoute[] {
  const clients = clientOperations(services);
  const users = userOperations(services);
  const apis = apiOperations(services);
  const labels = { roles: labelOperations(services.roles, services.audit), groups: labelOperations(services.groups, services.audit) };
  const noContent = { status: 204 };

  const labelRoutes = (kind: 'roles' | 'groups'): AdminRoute[] => {
    const ops = labels[kind];
    const one = kind.slice(0, -1);
    return [
      { method: 'get', path: `/${kind}`, tag: kind, summary: `List ${kind}`, list: true, handle: async () => ({ body: (await ops.list()).map(showLabel) }) },
      { method: 'post', path: `/${kind}`, tag: kind, summary: `Create a ${one}`, body: labelCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showLabel(await ops.create(op, body)) }) },
      { method: 'delete', path: `/${kind}/:name`, tag: kind, summary: `Delete a ${one} (and take it off every user)`, status: 204, notFound: true, handle: async ({ op, params }) => (await ops.delete(op, params.name!), noContent) },
      { method: 'post', path: `/${kind}/:name/members`, tag: kind, summary: `Assign the ${one} to a user`, body: labelAssignSchema, status: 204, notFound: true, handle: async ({ op, params, body }) => (await ops.assign(op, params.name!, body), noContent) },
      { method: 'delete', path: `/${kind}/:name/members/:userId`, tag: kind, summary: `Remove the ${one} from a user`, status: 204, notFound: true, handle: async ({ op, params }) => (await ops.unassign(op, params.name!, params.userId!), noContent) },
    ];
  };

  return [
    // Clients
    { method: 'get', path: '/clients', tag: 'clients', summary: 'List clients', list: true, handle: async () => ({ body: (await clients.list()).map(showClient) }) },
    { method: 'post', path: '/clients', tag: 'clients', summary: 'Create a client (the secret is in this response only)', body: clientCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showCreated(await clients.create(op, body)) }) },
    { method: 'get', path: '/clients/:clientId', tag: 'clients', summary: 'Get a client', notFound: true, handle: async ({ params }) => ({ body: showClient(await clients.get(params.clientId!)) }) },
    { method: 'patch', path: '/clients/:clientId', tag: 'clients', summary: 'Update a client', body: clientUpdateSchema, notFound: true, handle: async ({ op, params, body }) => ({ body: showClient(await clients.update(op, params.clientId!, body)) }) },
    { method: 'delete', path: '/clients/:clientId', tag: 'clients', summary: 'Delete a client and revoke its grants and tokens', status: 204, notFound: true, handle: async ({ op, params }) => (await clients.delete(op, params.clientId!), noContent) },
    { method: 'post', path: '/clients/:clientId/secret', tag: 'clients', summary: 'Rotate the client secret (shown once)', notFound: true, handle: async ({ op, params }) => ({ body: showCreated(await clients.rotateSecret(op, params.clientId!)) }) },

    // Users
    { method: 'get', path: '/users', tag: 'users', summary: 'List or search users (q: username/email prefix)', query: userSearchSchema, handle: async ({ query }) => {
      const page = await users.search(query);
      return { body: { users: page.users.map(showUser), total: page.total } };
    } },
    { method: 'post', path: '/users', tag: 'users', summary: 'Create a user', body: userCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showUser(await users.create(op, body)) }) },
    { method: 'get', path: '/users/:userId', tag: 'users', summary: 'Get a user', notFound: true, handle: async ({ params }) => ({ body: showUser(await users.get(params.userId!)) }) },
    { method: 'patch', path: '/users/:userId', tag: 'users', summary: 'Update profile, roles and groups', body: userUpdateSchema, notFound: true, conflict: true, handle: async ({ op, params, body }) => ({ body: showUser(await users.update(op, params.userId!, body)) }) },
    { method: 'put', path: '/users/:userId/password', tag: 'users', summary: 'Set the password', body: passwordSchema, status: 204, notFound: true, handle: async ({ op, params, body }) => (await users.setPassword(op, params.userId!, body), noContent) },
    { method: 'post', path: '/users/:userId/disable', tag: 'users', summary: 'Disable the user and revoke their sessions, grants and tokens', status: 204, notFound: true, handle: async ({ op, params }) => (await users.disable(op, params.userId!), noContent) },
    { method: 'post', path: '/users/:userId/enable', tag: 'users', summary: 'Enable the user', status: 204, notFound: true, handle: async ({ op, params }) => (await users.enable(op, params.userId!), noContent) },
    { method: 'post', path: '/users/:userId/unlock', tag: 'users', summary: 'Lift sign-in lockouts', notFound: true, handle: async ({ op, params }) => ({ body: { lifted: await users.unlock(op, params.userId!) } }) },
    { method: 'get', path: '/users/:userId/mfa', tag: 'users', summary: 'Show the user\'s second factors (authenticator app, recovery codes left)', notFound: true, handle: async ({ params }) => ({ body: await users.factors(params.userId!) }) },
    { method: 'delete', path: '/users/:userId/mfa/passkeys/:passkeyId', tag: 'users', summary: 'Remove one passkey', status: 204, notFound: true, handle: async ({ op, params }) => (await users.removePasskey(op, params.userId!, params.passkeyId!), noContent) },
    { method: 'delete', path: '/users/:userId/mfa', tag: 'users', summary: 'Reset second factors: remove the authenticator app, every passkey and every recovery code', status: 204, notFound: true, handle: async ({ op, params }) => (await users.resetFactors(op, params.userId!), noContent) },
    { method: 'get', path: '/users/:userId/sessions', tag: 'users', summary: 'List the user\'s sessions', notFound: true, list: true, handle: async ({ params }) => ({ body: (await users.sessions(params.userId!)).map(sessionView) }) },
    { method: 'delete', path: '/users/:userId/sessions/:sessionId', tag: 'users', summary: 'End a session and revoke the grants made in it', status: 204, notFound: true, handle: async ({ op, params }) => (await users.revokeSession(op, params.userId!, params.sessionId!), noContent) },
    { method: 'get', path: '/users/:userId/grants', tag: 'users', summary: 'List the user\'s grants', notFound: true, list: true, handle: async ({ params }) => ({ body: (await users.grants(params.userId!)).map((g) => ({ id: g.id, client_id: g.clientId, scope: g.scope, resources: g.resources, issued_at: g.issuedAt?.toISOString() ?? null, expires_at: g.expiresAt?.toISOString() ?? null })) }) },
    { method: 'delete', path: '/users/:userId/grants/:grantId', tag: 'users', summary: 'Revoke a grant and its tokens', status: 204, notFound: true, handle: async ({ op, params }) => (await users.revokeGrant(op, params.grantId!, params.userId!), noContent) },
    { method: 'delete', path: '/users/:userId/grants', tag: 'users', summary: 'Revoke all of the user\'s sessions, grants and tokens', notFound: true, handle: async ({ op, params }) => ({ body: await users.revokeAll(op, params.userId!) }) },

    // APIs
    { method: 'get', path: '/apis', tag: 'apis', summary: 'List APIs', list: true, handle: async () => ({ body: (await apis.list()).map(showApi) }) },
    { method: 'post', path: '/apis', tag: 'apis', summary: 'Register an API (resource server)', body: apiCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showApi(await apis.create(op, body)) }) },
    { method: 'patch', path: '/apis/:identifier', tag: 'apis', summary: 'Update an API (identifier URL-encoded)', body: apiUpdateSchema, notFound: true, handle: async ({ op, params, body }) => ({ body: showApi(await apis.update(op, params.identifier!, body)) }) },
    { method: 'delete', path: '/apis/:identifier', tag: 'apis', summary: 'Delete an API (identifier URL-encoded)', status: 204, notFound: true, handle: async ({ op, params }) => (await apis.delete(op, params.identifier!), noContent) },

    ...labelRoutes('roles'),
    ...labelRoutes('groups'),

    // Keys
    { method: 'get', path: '/keys', tag: 'keys', summary: 'List signing keys with their status (next, active, retired)', handle: async () => {
      const set = keys.keySet();
      const now = new Date();
      return { body: { version: set.version, keys: set.signingKeys.map((key) => ({ kid: key.kid, alg: key.alg, status: keyStatus(key, now), created_at: key.createdAt.toISOString(), activate_at: key.activateAt.toISOString(), retire_at: key.retireAt?.toISOString() ?? null, remove_at: key.removeAt?.toISOString() ?? null })) } };
    } },
    { method: 'post', path: '/keys/rotate', tag: 'keys', summary: 'Rotate signing and cookie keys (new keys sign after the publish delay)', handle: async ({ op }) => {
      const result = await keys.rotate();
      await services.audit.record({ ...op, type: 'keys.rotated', target: { type: 'keyset', id: String(result.keySet.version) }, details: { rotated: result.rotated, kids: result.signingKeys.map((k) => k.kid) } });
      return { body: { rotated: result.rotated, version: result.keySet.version, keys: result.signingKeys.map((key) => ({ kid: key.kid, alg: key.alg, activate_at: key.activateAt.toISOString() })) } };
    } },

    // Audit
    { method: 'get', path: '/audit-events', tag: 'audit', summary: 'Query audit events by type, user, client and time range (newest first)', query: auditQuerySchema, list: true, handle: async ({ query }) => {
      const q = auditQuerySchema.parse(query);
      const date = (v: string | undefined) => (v === undefined ? undefined : new Date(v));
      const events = await services.audit.query({ type: q.type, userId: q.user, clientId: q.client, from: date(q.from), to: date(q.to), before: date(q.before), limit: q.limit });
      return { body: events.map((e) => ({ ...e, at: e.at.toISOString() })) };
    } },

    // Migration
    { method: 'post', path: '/import/keycloak', tag: 'import', summary: 'Import a Keycloak realm export (kc.sh export): clients, roles, groups, users with their password hashes; idempotent; dry_run=true only reports', body: keycloakRealmSchema, query: keycloakImportQuerySchema, bodyLimit: KEYCLOAK_IMPORT_BODY_LIMIT, handle: async ({ op, body, query }) => {
      const { dry_run: dryRun, api } = keycloakImportQuerySchema.parse(query);
      return { body: await importKeycloakRealm(services, op, body, { dryRun: dryRun === 'true', api }) };
    } },

    // Dynamic registration
    { method: 'post', path: '/initial-access-tokens', tag: 'registration', summary: 'Create an initial access token for dynamic client registration (shown once)', body: initialAccessTokenSchema, status: 201, handle: async ({ op, body }) => {
      if (createInitialAccessToken === undefined) throw new OperationError(400, 'dynamic client registration is off (GATEHOUSE_REGISTRATION=false)', [{ path: '', message: 'registration is off' }]);
      const { expires_in: expiresIn } = initialAccessTokenSchema.parse(body);
      const token = await createInitialAccessToken(expiresIn);
      await services.audit.record({ ...op, type: 'registration.initial_access_token_created', details: { expires_in: expiresIn } });
      return { status: 201, body: { initial_access_token: token, expires_in: expiresIn } };
    } },
  ];
}
