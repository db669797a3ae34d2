import { dateClock } from '../clock.ts';
import type { KeyControl } from '../keys/key-control.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { apiOperations } from './apis.ts';
import { auditOperations } from './audit.ts';
import { cacheOperations } from './caches.ts';
import { claimScopeOperations } from './claim-scopes.ts';
import { clientOperations } from './clients.ts';
import { consentOperations } from './consents.ts';
import type { KeycloakImportOptions } from '../keycloak/apply-import.ts';
import { importKeycloakRealm, type KeycloakExportSource, type KeycloakSettingsOperations } from './keycloak-import.ts';
import { keyOperations } from './keys.ts';
import { labelOperations } from './labels.ts';
import { roleReferences } from './role-references.ts';
import { groupReferences } from './group-references.ts';
import { lastAdminGuard } from './last-admin.ts';
import { lockoutOperations } from './lockouts.ts';
import { registrationOperations, type InitialAccessTokenIssuer } from './registration.ts';
import { sessionOperations } from './sessions.ts';
import { settingsOperations } from './settings.ts';
import { settingsChecks } from './settings-checks.ts';
import { statusOperations, type StatusDeps } from './status.ts';
import { transferOperations } from './transfer.ts';
import { upstreamOperations } from './upstream.ts';
import { userOperations, type VerificationSender } from './users.ts';
import type { InvitationSender } from '../accounts/invitations.ts';

export interface OperationsDeps {
  readonly services: GatehouseServices;
  readonly keys: KeyControl;
  /** Initial access tokens need a running provider: the server passes one when registration is on. */
  readonly initialAccessTokens?: InitialAccessTokenIssuer;
  /** The issuer written into export files. */
  readonly issuer: string;
  /** Verification emails for new and changed addresses (the server passes one when SMTP is set). */
  readonly verification?: VerificationSender;
  /** Invitations to set a password (the server and the CLI pass one when SMTP is set). */
  readonly invitations?: InvitationSender;
  /** Store health and effective settings: the server passes them (admin API `/health`, `/settings`). */
  readonly status?: StatusDeps;
  /** Whether SMTP is configured (registration, verification and reset need it); shown with the sign-in settings. */
  readonly emailConfigured?: boolean;
  /** The lifetimes the environment sets: a Keycloak realm's that differ are reported with the variable to set. */
  readonly lifetimes?: KeycloakSettingsOperations['lifetimes'];
  /** The name the pages show (GATEHOUSE_BRAND_NAME): a Keycloak realm's display name that differs is reported with the variable to set. */
  readonly brandName?: string;
}

/**
 * Everything an operator can do, validated and audited in one place. The admin API, the CLI
 * (and the console to come) reach the domain only through this.
 */
export function createOperations({ services, keys, initialAccessTokens, issuer, verification, invitations, status = {}, emailConfigured = false, lifetimes, brandName }: OperationsDeps) {
  const settings = settingsOperations(services.runtimeSettings, services.audit, emailConfigured, settingsChecks(services));
  const realmSettings: KeycloakSettingsOperations = { stores: services.runtimeSettings.groups, update: (ctx, group, patch) => settings.updateGroup(ctx, group, patch), lifetimes, brandName, emailConfigured, issuer };
  return {
    clients: clientOperations(services),
    users: userOperations(services, verification, invitations),
    sessions: sessionOperations(services),
    consents: consentOperations(services),
    lockouts: lockoutOperations(services),
    apis: apiOperations(services),
    claimScopes: claimScopeOperations(services),
    roles: labelOperations(services.roles, services.audit, lastAdminGuard(services), roleReferences({ clients: services.clients, signIn: services.runtimeSettings.signIn, mfa: services.runtimeSettings.mfa })),
    groups: labelOperations(services.groups, services.audit, undefined, groupReferences({ mfa: services.runtimeSettings.mfa })),
    keys: keyOperations(keys, services.audit, dateClock(services.clock)),
    caches: cacheOperations({ ...services.notices, keys, audit: services.audit }),
    audit: auditOperations(services.audit, services.accounts, dateClock(services.clock)),
    registration: registrationOperations(initialAccessTokens, services.audit),
    transfer: transferOperations(services, issuer),
    upstream: upstreamOperations(services),
    status: statusOperations(status),
    settings,
    keycloak: {
      /** One document (a realm export, or a users file of a realm imported before), or a `kc.sh export --dir` directory's realm file and users files. */
      import: (ctx: OperationContext, source: KeycloakExportSource, options: KeycloakImportOptions) => importKeycloakRealm(services, ctx, source, options, realmSettings),
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;
