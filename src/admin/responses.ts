import type { showApi } from '../operations/apis.ts';
import type { showAuditEvent } from '../operations/audit.ts';
import type { showClient, showCreated } from '../operations/clients.ts';
import type { Operations } from '../operations/index.ts';
import type { showLabel } from '../operations/labels.ts';
import type { showLifted } from '../operations/lockouts.ts';
import type { showGrant, showSession, showSessionCount } from '../operations/sessions.ts';
import type { showConsent } from '../operations/consents.ts';
import type { showUpstream } from '../operations/upstream.ts';
import type { showFactors, showInvitation, showUser, showUserPage } from '../operations/users.ts';

/**
 * The admin API's response bodies as types, taken from the functions that build them
 * (src/admin/routes.ts), so a client in this repository cannot drift from them: the console's
 * browser code imports these with `import type`, which is erased when it is compiled, so the
 * browser never loads a server module (test/unit/browser-modules.test.ts).
 */

/** What an operation resolves to. */
type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

export type ApiResponse = ReturnType<typeof showApi>;
export type AuditEventResponse = ReturnType<typeof showAuditEvent>;
export type AuditPageResponse = Result<Operations['audit']['query']>;
export type SignInStatsResponse = Result<Operations['audit']['signInsByDay']>;
export type ClientResponse = ReturnType<typeof showClient>;
/** A created client or a rotated secret: the client with its secret, shown this once. */
export type CreatedClientResponse = ReturnType<typeof showCreated>;
export type HealthResponse = Result<Operations['status']['health']>;
export type KeyListResponse = Result<Operations['keys']['list']>;
/** POST /keys/rotate. */
export type KeyRotationResponse = Result<Operations['keys']['rotate']>;
export type LabelResponse = ReturnType<typeof showLabel>;
export type LockoutResponse = Result<Operations['lockouts']['list']>['items'][number];
/** POST /lockouts/clear. */
export type LockoutsLiftedResponse = ReturnType<typeof showLifted>;
export type SignInSettingsResponse = Result<Operations['settings']['show']>;
/** One settings group (/settings/password-policy, /settings/brute-force, /settings/mfa). */
export type SettingsGroupResponse = Result<Operations['settings']['showGroup']>;
export type UpstreamProviderResponse = ReturnType<typeof showUpstream>;
export type UpstreamLinkResponse = Result<Operations['upstream']['links']>[number];
export type UserResponse = ReturnType<typeof showUser>;
/** GET /users: a page of users and how many match. */
export type UserPageResponse = ReturnType<typeof showUserPage>;
export type FactorsResponse = ReturnType<typeof showFactors>;
/** GET /users/{id}/invitation. */
export type InvitationResponse = ReturnType<typeof showInvitation>;
export type SessionResponse = ReturnType<typeof showSession>;
export type GrantResponse = ReturnType<typeof showGrant>;
export type ConsentResponse = ReturnType<typeof showConsent>;
/** GET /stats/sessions. */
export type SessionCountResponse = ReturnType<typeof showSessionCount>;
