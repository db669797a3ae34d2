import { apiCreateSchema, apiUpdateSchema, showApi } from '../operations/apis.ts';
import { claimScopeCreateSchema, claimScopeUpdateSchema, showClaimScope } from '../operations/claim-scopes.ts';
import { auditQuerySchema, signInStatsSchema } from '../operations/audit.ts';
import { secretRotationSchema, showClient, showCreated } from '../operations/clients.ts';
import { clientCreateSchema, clientUpdateSchema } from '../clients/spec.ts';
import type { Operations } from '../operations/index.ts';
import { listQuerySchema } from '../operations/list-query.ts';
import { labelAssignSchema, labelCreateSchema, showLabel } from '../operations/labels.ts';
import { lockoutClearSchema, lockoutListSchema, showLifted } from '../operations/lockouts.ts';
import { initialAccessTokenSchema } from '../operations/registration.ts';
import { showConsent } from '../operations/consents.ts';
import { showGrant, showSession, showSessionCount } from '../operations/sessions.ts';
import { invitationSchema, passwordSchema, showUser, showUserPage, userCreateSchema, userSearchSchema, userUpdateSchema } from '../operations/users.ts';
import { bodyDocument } from '../keycloak/export-stream.ts';
import type { JsonBody } from './json-body.ts';
import { KEYCLOAK_IMPORT_BODY_LIMIT, keycloakImportQuerySchema, keycloakRealmSchema } from '../operations/keycloak-import.ts';
import { upstreamCreateSchema, upstreamUpdateSchema } from '../operations/upstream.ts';
import { signInPatchSchema } from '../operations/settings.ts';
import { passwordPolicyPatchSchema } from '../settings/password-policy.ts';
import { bruteForcePatchSchema } from '../settings/brute-force.ts';
import { mfaPatchSchema } from '../settings/mfa.ts';
import { otpPatchSchema } from '../settings/otp.ts';
import type { AdminRoute } from './route-table.ts';

/** Every admin API route; read top to bottom it is the API's table of contents. Each one is an operation (src/operations/). */
export function adminRoutes(ops: Operations): AdminRoute[] {
  const { clients, users, sessions, consents, apis, keys, caches, audit, registration, status, upstream } = ops;
  const noContent = { status: 204 };

  const labelRoutes = (kind: 'roles' | 'groups'): AdminRoute[] => {
    const labels = ops[kind];
    const one = kind.slice(0, -1);
    return [
      { method: 'get', path: `/${kind}`, tag: kind, summary: `List ${kind}`, list: true, handle: async () => ({ body: (await labels.list()).map(showLabel) }) },
      { method: 'post', path: `/${kind}`, tag: kind, summary: `Create a ${one}`, body: labelCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showLabel(await labels.create(op, body)) }) },
      { method: 'delete', path: `/${kind}/:name`, tag: kind, summary: `Delete a ${one} (and take it off every user)${kind === 'roles' ? '; 409 last_admin for `admin` while an enabled user holds it' : ''}`, status: 204, notFound: true, conflict: kind === 'roles', handle: async ({ op, params }) => (await labels.delete(op, params.name!), noContent) },
      { method: 'post', path: `/${kind}/:name/members`, tag: kind, summary: `Assign the ${one} to a user`, body: labelAssignSchema, status: 204, notFound: true, handle: async ({ op, params, body }) => (await labels.assign(op, params.name!, body), noContent) },
      { method: 'delete', path: `/${kind}/:name/members/:userId`, tag: kind, summary: `Remove the ${one} from a user${kind === 'roles' ? ' (409 last_admin: `admin` from the last enabled user holding it)' : ''}`, status: 204, notFound: true, conflict: kind === 'roles', handle: async ({ op, params }) => (await labels.unassign(op, params.name!, params.userId!), noContent) },
    ];
  };

  return [
    // Clients
    { method: 'get', path: '/clients', tag: 'clients', summary: 'List clients (q: id or name contains; limit, offset; the total is in X-Total-Count)', query: listQuerySchema, list: true, handle: async ({ query }) => {
      const page = await clients.page(query);
      return { body: page.items.map(showClient), headers: { 'X-Total-Count': String(page.total) } };
    } },
    { method: 'post', path: '/clients', tag: 'clients', summary: 'Create a client (the secret is in this response only)', body: clientCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showCreated(await clients.create(op, body)) }) },
    { method: 'get', path: '/clients/:clientId', tag: 'clients', summary: 'Get a client (`imported_from`: `{kind: keycloak, realm}` for one a Keycloak import created, which only that realm\'s re-imports replace; null otherwise)', notFound: true, handle: async ({ params }) => ({ body: showClient(await clients.get(params.clientId!)) }) },
    { method: 'patch', path: '/clients/:clientId', tag: 'clients', summary: 'Update a client', body: clientUpdateSchema, notFound: true, handle: async ({ op, params, body }) => ({ body: showClient(await clients.update(op, params.clientId!, body)) }) },
    { method: 'delete', path: '/clients/:clientId', tag: 'clients', summary: 'Delete a client and revoke its grants and tokens', status: 204, notFound: true, handle: async ({ op, params }) => (await clients.delete(op, params.clientId!), noContent) },
    { method: 'post', path: '/clients/:clientId/secret', tag: 'clients', summary: 'Rotate the client secret (shown once). Optional body {"grace_seconds": N} (at most 2592000, 30 days): the secret before keeps authenticating (client_secret_basic, client_secret_post; not client_secret_jwt) that long, replacing any previous one still in its grace; the client shows previous_secret_expires_at', body: secretRotationSchema, optionalBody: true, notFound: true, handle: async ({ op, params, body }) => ({ body: showCreated(await clients.rotateSecret(op, params.clientId!, body)) }) },

    // Users
    { method: 'get', path: '/users', tag: 'users', summary: 'List or search users (q: username/email prefix; role, group, limit, offset). Answers the object {"users": [...], "total": N}, not an array with X-Total-Count as the other lists do (kept for existing callers)', query: userSearchSchema, handle: async ({ query }) => {
      return { body: showUserPage(await users.search(query)) };
    } },
    { method: 'post', path: '/users', tag: 'users', summary: 'Create a user (without password: upstream or passkey sign-in, or with "invite": true an emailed invitation to set one — 409 without SMTP)', body: userCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showUser(await users.create(op, body)) }) },
    { method: 'get', path: '/users/:userId', tag: 'users', summary: 'Get a user (`imported_from`: `{kind: keycloak, realm}` for a user a Keycloak import created, which that realm\'s re-imports update; null otherwise — never in tokens or the account page)', notFound: true, handle: async ({ params }) => ({ body: showUser(await users.get(params.userId!)) }) },
    { method: 'patch', path: '/users/:userId', tag: 'users', summary: 'Update profile, roles and groups', body: userUpdateSchema, notFound: true, conflict: true, handle: async ({ op, params, body }) => ({ body: showUser(await users.update(op, params.userId!, body)) }) },
    { method: 'put', path: '/users/:userId/password', tag: 'users', summary: 'Set the password', body: passwordSchema, status: 204, notFound: true, handle: async ({ op, params, body }) => (await users.setPassword(op, params.userId!, body), noContent) },
    { method: 'delete', path: '/users/:userId', tag: 'users', summary: 'Delete the user for good: revoke their sessions, grants and tokens, erase their second factors, upstream links, consents and pending links, then the user (the username and email are free again); audit events stay (`user.deleted`); 409 last_admin for the last enabled user with the admin role', status: 204, notFound: true, conflict: true, handle: async ({ op, params }) => (await users.delete(op, params.userId!), noContent) },
    { method: 'post', path: '/users/:userId/disable', tag: 'users', summary: 'Disable the user and revoke their sessions, grants and tokens (409 last_admin for the last enabled user with the admin role)', status: 204, notFound: true, conflict: true, handle: async ({ op, params }) => (await users.disable(op, params.userId!), noContent) },
    { method: 'post', path: '/users/:userId/enable', tag: 'users', summary: 'Enable the user', status: 204, notFound: true, handle: async ({ op, params }) => (await users.enable(op, params.userId!), noContent) },
    { method: 'post', path: '/users/:userId/email-verification', tag: 'users', summary: 'Email the user a new link to confirm their address (409 without an unverified address or without SMTP)', status: 202, notFound: true, conflict: true, handle: async ({ params }) => (await users.sendVerification(params.userId!), { status: 202, body: { sent: true } }) },
    { method: 'post', path: '/users/:userId/invitation', tag: 'users', summary: 'Email the user a link to set their own password (Keycloak\'s execute-actions-email UPDATE_PASSWORD): single use, for lifetime_seconds or the invitation_ttl setting; a new one ends the previous one. Optional body: client_id with redirect_uri (exactly one of that client\'s redirect URIs) for a link back to the application afterwards. 409 without an address, for a disabled user or without SMTP', body: invitationSchema, optionalBody: true, status: 202, notFound: true, conflict: true, handle: async ({ op, params, body }) => ({ status: 202, body: await users.invite(op, params.userId!, body) }) },
    { method: 'get', path: '/users/:userId/invitation', tag: 'users', summary: 'The user\'s invitation that still works: {"pending": true, "sent_at", "expires_at", "client_id", "redirect_uri"} (the link itself is not stored; sent_at null: sent before send times were recorded), else {"pending": false}', notFound: true, handle: async ({ params }) => ({ body: await users.invitation(params.userId!) }) },
    { method: 'delete', path: '/users/:userId/invitation', tag: 'users', summary: 'Revoke the user\'s invitation: its link stops working (audited as user.invitation_revoked); 404 invitation_not_found when none still works', status: 204, notFound: true, handle: async ({ op, params }) => (await users.revokeInvitation(op, params.userId!), noContent) },
    { method: 'post', path: '/users/:userId/unlock', tag: 'users', summary: 'Lift sign-in lockouts', notFound: true, handle: async ({ op, params }) => ({ body: { lifted: await users.unlock(op, params.userId!) } }) },
    { method: 'get', path: '/users/:userId/mfa', tag: 'users', summary: 'Show the user\'s second factors (authenticator app, recovery codes left)', notFound: true, handle: async ({ params }) => ({ body: await users.factors(params.userId!) }) },
    { method: 'delete', path: '/users/:userId/mfa/passkeys/:passkeyId', tag: 'users', summary: 'Remove one passkey', status: 204, notFound: true, handle: async ({ op, params }) => (await users.removePasskey(op, params.userId!, params.passkeyId!), noContent) },
    { method: 'delete', path: '/users/:userId/mfa', tag: 'users', summary: 'Reset second factors: remove the authenticator app, every passkey and every recovery code', status: 204, notFound: true, handle: async ({ op, params }) => (await users.resetFactors(op, params.userId!), noContent) },
    { method: 'get', path: '/users/:userId/sessions', tag: 'users', summary: 'List the user\'s sessions', notFound: true, list: true, handle: async ({ params }) => ({ body: (await sessions.list(params.userId!)).map(showSession) }) },
    { method: 'delete', path: '/users/:userId/sessions/:sessionId', tag: 'users', summary: 'End a session and revoke the grants made in it', status: 204, notFound: true, handle: async ({ op, params }) => (await sessions.revoke(op, params.userId!, params.sessionId!), noContent) },
    { method: 'get', path: '/users/:userId/grants', tag: 'users', summary: 'List the user\'s grants', notFound: true, list: true, handle: async ({ params }) => ({ body: (await sessions.grants(params.userId!)).map(showGrant) }) },
    { method: 'delete', path: '/users/:userId/grants/:grantId', tag: 'users', summary: 'Revoke a grant and its tokens, and the grants exchanged from it (RFC 8693) with theirs', status: 204, notFound: true, handle: async ({ op, params }) => (await sessions.revokeGrant(op, params.grantId!, params.userId!), noContent) },
    { method: 'delete', path: '/users/:userId/grants', tag: 'users', summary: 'Revoke all of the user\'s sessions, grants and tokens (their consents stay)', notFound: true, handle: async ({ op, params }) => ({ body: await users.revokeAll(op, params.userId!) }) },
    { method: 'get', path: '/users/:userId/consents', tag: 'users', summary: 'List the consents the user keeps across sign-in sessions, one per application (scopes, claims, API scopes)', notFound: true, list: true, handle: async ({ params }) => ({ body: (await consents.list(params.userId!)).map(showConsent) }) },
    { method: 'delete', path: '/users/:userId/consents/:clientId', tag: 'users', summary: 'Revoke the user\'s consent to an application and their grants to it with their tokens: it asks for consent again', notFound: true, handle: async ({ op, params }) => ({ body: await consents.revoke(op, params.userId!, params.clientId!) }) },

    // Lockouts
    { method: 'get', path: '/lockouts', tag: 'lockouts', summary: 'Sign-in lockouts in force, newest first: scope (account_ip, account, ip), the user or login tried, the address, until when (limit: 1 to 500, default 100; the total is in X-Total-Count)', query: lockoutListSchema, list: true, handle: async ({ query }) => {
      const page = await ops.lockouts.list(query);
      return { body: page.items, headers: { 'X-Total-Count': String(page.total) } };
    } },
    { method: 'post', path: '/lockouts/clear', tag: 'lockouts', summary: 'Lift lockouts now: by subject (a user id or login:<login>, every lock of it) or by ip', body: lockoutClearSchema, handle: async ({ op, body }) => ({ body: showLifted(await ops.lockouts.clear(op, body)) }) },

    { method: 'get', path: '/users/:userId/upstream-links', tag: 'users', summary: 'List the user\'s links to upstream identity providers', notFound: true, list: true, handle: async ({ params }) => ({ body: await upstream.links(params.userId!) }) },
    { method: 'delete', path: '/users/:userId/upstream-links/:alias/:subject', tag: 'users', summary: 'Remove one upstream link (the upstream identity no longer signs in as this user)', status: 204, notFound: true, handle: async ({ op, params }) => (await upstream.unlink(op, params.userId!, params.alias!, params.subject!), noContent) },

    // Upstream identity providers
    { method: 'get', path: '/upstream-providers', tag: 'upstream', summary: 'List upstream identity providers (never their secrets)', list: true, handle: async () => ({ body: (await upstream.list()).map(upstream.show) }) },
    { method: 'post', path: '/upstream-providers', tag: 'upstream', summary: 'Add an upstream identity provider (kind oidc or oauth2, or a preset: google, microsoft, github, gitlab, keycloak); the response\'s redirect_uri is what to register upstream', body: upstreamCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: upstream.show(await upstream.create(op, body)) }) },
    { method: 'get', path: '/upstream-providers/:alias', tag: 'upstream', summary: 'Get an upstream identity provider (`imported_from`: `{kind: keycloak, realm}` for one a Keycloak import created, which only that realm\'s re-imports replace; null otherwise)', notFound: true, handle: async ({ params }) => ({ body: upstream.show(await upstream.get(params.alias!)) }) },
    { method: 'patch', path: '/upstream-providers/:alias', tag: 'upstream', summary: 'Update an upstream identity provider (a client_secret here replaces the stored one)', body: upstreamUpdateSchema, notFound: true, handle: async ({ op, params, body }) => ({ body: upstream.show(await upstream.update(op, params.alias!, body)) }) },
    { method: 'delete', path: '/upstream-providers/:alias', tag: 'upstream', summary: 'Delete an upstream identity provider and every link to it', status: 204, notFound: true, handle: async ({ op, params }) => (await upstream.delete(op, params.alias!), noContent) },

    // APIs
    { method: 'get', path: '/apis', tag: 'apis', summary: 'List APIs (q: identifier or name contains; limit, offset; the total is in X-Total-Count)', query: listQuerySchema, list: true, handle: async ({ query }) => {
      const page = await apis.page(query);
      return { body: page.items.map(showApi), headers: { 'X-Total-Count': String(page.total) } };
    } },
    { method: 'get', path: '/apis/:identifier', tag: 'apis', summary: 'Get an API (identifier URL-encoded)', notFound: true, handle: async ({ params }) => ({ body: showApi(await apis.get(params.identifier!)) }) },
    { method: 'post', path: '/apis', tag: 'apis', summary: 'Register an API (resource server)', body: apiCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showApi(await apis.create(op, body)) }) },
    { method: 'patch', path: '/apis/:identifier', tag: 'apis', summary: 'Update an API (identifier URL-encoded)', body: apiUpdateSchema, notFound: true, handle: async ({ op, params, body }) => ({ body: showApi(await apis.update(op, params.identifier!, body)) }) },
    { method: 'delete', path: '/apis/:identifier', tag: 'apis', summary: 'Delete an API (identifier URL-encoded)', status: 204, notFound: true, handle: async ({ op, params }) => (await apis.delete(op, params.identifier!), noContent) },

    // Claim scopes (custom scopes with claim mappers)
    { method: 'get', path: '/claim-scopes', tag: 'claim-scopes', summary: 'List claim scopes: custom scopes whose mappers put users\' custom attributes (or fixed values) into tokens', list: true, handle: async () => ({ body: (await ops.claimScopes.list()).map(showClaimScope) }) },
    { method: 'get', path: '/claim-scopes/:name', tag: 'claim-scopes', summary: 'Get a claim scope (`imported_from`: `{kind: keycloak, realm}` for one a Keycloak import created, which only that realm\'s re-imports replace; null otherwise)', notFound: true, handle: async ({ params }) => ({ body: showClaimScope(await ops.claimScopes.get(params.name!)) }) },
    { method: 'post', path: '/claim-scopes', tag: 'claim-scopes', summary: 'Create a claim scope (Keycloak: a client scope with User Attribute / Hardcoded claim mappers). Each mapper names its claim and where it goes: id_token, userinfo, access_token (JWT access tokens carry it; opaque ones show it at introspection). A claim name that is a standard or protocol claim, or that another scope gives, is refused (400). Every instance serves it within seconds', body: claimScopeCreateSchema, status: 201, conflict: true, handle: async ({ op, body }) => ({ status: 201, body: showClaimScope(await ops.claimScopes.create(op, body)) }) },
    { method: 'patch', path: '/claim-scopes/:name', tag: 'claim-scopes', summary: 'Update a claim scope\'s descriptions or mappers (mappers replace the list)', body: claimScopeUpdateSchema, notFound: true, handle: async ({ op, params, body }) => ({ body: showClaimScope(await ops.claimScopes.update(op, params.name!, body)) }) },
    { method: 'delete', path: '/claim-scopes/:name', tag: 'claim-scopes', summary: 'Delete a claim scope (and take it off every client whose scope lists it)', status: 204, notFound: true, handle: async ({ op, params }) => (await ops.claimScopes.delete(op, params.name!), noContent) },

    ...labelRoutes('roles'),
    ...labelRoutes('groups'),

    // Keys
    { method: 'get', path: '/keys', tag: 'keys', summary: 'List signing keys with their status (next, active, retired)', handle: async () => ({ body: await keys.list() }) },
    { method: 'post', path: '/keys/rotate', tag: 'keys', summary: 'Rotate signing and cookie keys (new keys sign after the publish delay)', handle: async ({ op }) => ({ body: await keys.rotate(op) }) },
    { method: 'post', path: '/caches/flush', tag: 'caches', summary: "Every running instance forgets its cached records and rereads its keys (after a database restore or a manual edit); 409 without Redis. `listeners`: the subscriptions that heard each cache's notice", conflict: true, handle: async ({ op }) => ({ body: await caches.flush(op) }) },

    // Audit
    { method: 'get', path: '/audit-events', tag: 'audit', summary: 'Query audit events by type, user (id or username), client and time range; newest first, pages by `before` = the previous page\'s `next`', query: auditQuerySchema, handle: async ({ query }) => ({ body: await audit.query(query) }) },

    // Status
    { method: 'get', path: '/stats/sign-ins', tag: 'status', summary: 'Successful and failed sign-ins and lockouts per UTC day (from the audit events), oldest first, today last', query: signInStatsSchema, handle: async ({ query }) => ({ body: await audit.signInsByDay(query) }) },
    { method: 'get', path: '/stats/sessions', tag: 'status', summary: 'How many sign-in sessions are in force, across all users', handle: async () => ({ body: showSessionCount(await sessions.count()) }) },
    { method: 'get', path: '/health', tag: 'status', summary: 'Whether each store (MongoDB, Redis) answers: status ok or unavailable, per component', handle: async () => ({ body: await status.health() }) },
    { method: 'get', path: '/settings/sign-in', tag: 'settings', summary: 'Sign-in and self-service settings in force: per setting its value, default, source (environment, stored, default) and pinned_by (the environment variable that fixes it, or null)', handle: async () => ({ body: await ops.settings.show() }) },
    { method: 'patch', path: '/settings/sign-in', tag: 'settings', summary: 'Change sign-in and self-service settings (every instance applies them with its next request); null returns one to its default; a setting pinned by an environment variable answers 409', body: signInPatchSchema, conflict: true, handle: async ({ op, body }) => ({ body: await ops.settings.update(op, body) }) },
    { method: 'get', path: '/settings/password-policy', tag: 'settings', summary: 'Password policy in force (checked at registration, reset, change and when an administrator sets a password): per setting its value, default, source and pinned_by', handle: async () => ({ body: await ops.settings.showGroup('password-policy') }) },
    { method: 'patch', path: '/settings/password-policy', tag: 'settings', summary: 'Change the password policy (every instance applies it with its next request; existing passwords stay valid); null returns a setting to its default; a pinned setting answers 409', body: passwordPolicyPatchSchema, conflict: true, handle: async ({ op, body }) => ({ body: await ops.settings.updateGroup(op, 'password-policy', body) }) },
    { method: 'get', path: '/settings/brute-force', tag: 'settings', summary: 'Brute-force detection in force: failed sign-ins that lock per (account, IP), per account and per IP, the counting window and the lock durations; per setting its value, default, source and pinned_by', handle: async () => ({ body: await ops.settings.showGroup('brute-force') }) },
    { method: 'patch', path: '/settings/brute-force', tag: 'settings', summary: 'Change brute-force detection (every instance applies it with its next failed sign-in; locks in force keep their end); null returns a setting to its default; a pinned setting answers 409; lockout_max_seconds below lockout_seconds answers 400', body: bruteForcePatchSchema, conflict: true, handle: async ({ op, body }) => ({ body: await ops.settings.updateGroup(op, 'brute-force', body) }) },
    { method: 'get', path: '/settings/mfa', tag: 'settings', summary: 'Who must use a second factor: the roles and groups whose members are asked to enrol one at their next sign-in; per setting its value, default, source and pinned_by', handle: async () => ({ body: await ops.settings.showGroup('mfa') }) },
    { method: 'patch', path: '/settings/mfa', tag: 'settings', summary: 'Change the roles and groups that must use a second factor (every instance applies it with its next sign-in); each must exist (400 naming an unknown one); null returns a setting to its default; a pinned setting answers 409', body: mfaPatchSchema, conflict: true, handle: async ({ op, body }) => ({ body: await ops.settings.updateGroup(op, 'mfa', body) }) },
    { method: 'get', path: '/settings/otp', tag: 'settings', summary: 'OTP policy in force: digits, period and algorithm of new authenticator apps, and the look-ahead window of every code; per setting its value, default, source and pinned_by', handle: async () => ({ body: await ops.settings.showGroup('otp') }) },
    { method: 'patch', path: '/settings/otp', tag: 'settings', summary: 'Change the OTP policy (new enrolments use it; apps enrolled earlier keep their parameters; the look-ahead applies to every code); null returns a setting to its default; a pinned setting answers 409', body: otpPatchSchema, conflict: true, handle: async ({ op, body }) => ({ body: await ops.settings.updateGroup(op, 'otp', body) }) },
    { method: 'get', path: '/settings', tag: 'status', summary: 'The effective settings the server runs with (read-only; every secret shown as [secret])', handle: async () => ({ body: await status.settings() }) },

    // Migration
    { method: 'post', path: '/import/keycloak', tag: 'import', summary: 'Import a Keycloak realm export (kc.sh export): clients, roles, groups, users with their password hashes; idempotent; dry_run=true only reports (with the runtime settings the realm would change, from → to); realm_settings=false imports everything but the realm\'s settings. A kc.sh export --dir directory: its realm file (<realm>-realm.json) first, then each users file (<realm>-users-<n>.json, { realm, users }) in its own request, which imports those users and nothing else. The report answered is bounded however many users: each list holds its first 20 entries (unmapped: 20 of each kind) and counts says how many it has in all (the CLI\'s --report FILE writes every entry). A body over 64 MiB: 413 keycloak_body_too_large (use the CLI, which streams the file)', body: keycloakRealmSchema, query: keycloakImportQuerySchema, bodyLimit: { bytes: KEYCLOAK_IMPORT_BODY_LIMIT, tooLarge: 'keycloak_body_too_large' }, streamedBody: true, handle: async ({ op, body, query }) => {
      const { dry_run: dryRun, api, realm_settings: realmSettings } = keycloakImportQuerySchema.parse(query);
      return { body: await ops.keycloak.import(op, { realm: bodyDocument(body as JsonBody) }, { dryRun: dryRun === 'true', api, realmSettings: realmSettings !== 'false' }) };
    } },

    // Dynamic registration
    { method: 'post', path: '/initial-access-tokens', tag: 'registration', summary: 'Create an initial access token for dynamic client registration (shown once)', body: initialAccessTokenSchema, status: 201, handle: async ({ op, body }) => ({ status: 201, body: await registration.createInitialAccessToken(op, body) }) },
  ];
}
