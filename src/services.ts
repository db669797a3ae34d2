import type { Redis } from 'ioredis';
import type { ClaimScopes } from './claims/claim-scopes.ts';
import type { ChannelLogger } from './cache/change-channel.ts';
import type { Connection } from 'mongoose';
import type { RoutedAdapterFactory } from './storage/oidc/adapter-factory.ts';
import type { Accounts } from './accounts/accounts.ts';
import { createUserAdmin, type UserAdmin } from './accounts/user-admin.ts';
import type { UserChangeHook } from './accounts/user-changes.ts';
import { userModel } from './accounts/user-model.ts';
import { createSignIns, signInModel } from './accounts/sign-ins.ts';
import { createUserRecords, type UserRecords } from './accounts/user-records.ts';
import { apiModel } from './apis/model.ts';
import { createApiRegistry, type ApiRegistry } from './apis/registry.ts';
import type { ClientRepository } from './clients/repository.ts';
import { dateClock, systemClock, type Clock } from './clock.ts';
import type { Config } from './config/load.ts';
import type { Factors } from './mfa/factors.ts';
import type { Passkeys } from './mfa/passkeys.ts';
import type { SessionDevices } from './sessions/devices.ts';
import type { ConsentRecords } from './consents/records.ts';
import type { RuntimeSettings } from './settings/runtime.ts';
import type { AuditTrail } from './observability/audit-trail.ts';
import { createLabelDirectory, type LabelDirectory } from './roles/directory.ts';
import { labelModel } from './roles/model.ts';
import { createOidcRevocation, type OidcRevocation, type OidcRevocationDeps } from './storage/oidc/revocation.ts';
import { documentLocks, type DocumentLocks } from './storage/document-locks.ts';
import type { UpstreamDirectory, UpstreamProvider } from './upstream/directory.ts';
import type { UpstreamProviderList } from './upstream/provider-list.ts';
import { createLinkTickets, type LinkTickets } from './upstream/link-tickets.ts';
import { pendingInvitations } from './accounts/invitations.ts';
import type { UserLinks } from './accounts/password-resets.ts';
import { upstreamCallbackPath, upstreamLogoutCallbackPath } from './routes/table.ts';
import { createRealmContexts, realmContextModel, type KeycloakRealmContexts } from './keycloak/realm-contexts.ts';

/** The domain services behind a running instance; the admin API and the CLI reach them through src/operations/. */
export interface GatehouseServices {
  readonly accounts: Accounts;
  readonly users: UserAdmin;
  /** Users' invitations that still work, as operators see and revoke them (whether or not mail can go out now). */
  readonly invitations: UserLinks;
  /** A user's records that no other service erases, for their deletion (src/accounts/user-records.ts). */
  readonly userRecords: UserRecords;
  readonly clients: ClientRepository;
  readonly apis: ApiRegistry;
  readonly roles: LabelDirectory;
  readonly groups: LabelDirectory;
  readonly audit: AuditTrail;
  readonly revocation: OidcRevocation;
  /** Users' second factors (TOTP, recovery codes). */
  readonly factors: Factors;
  /** Users' passkeys (WebAuthn credentials). */
  readonly passkeys: Passkeys;
  /** Upstream identity providers and users' links to them. */
  readonly upstream: UpstreamDirectory;
  /** Claim scopes and their mappers (src/claims/), this instance's copy kept current. */
  readonly claimScopes: ClaimScopes;
  /** Every upstream provider, from this instance's short copy that changes invalidate (sign-in pages). */
  listUpstream(): Promise<readonly UpstreamProvider[]>;
  /** The redirect URI an operator registers at an upstream provider. */
  upstreamCallbackUrl(alias: string): string;
  /** The post-logout redirect URI an operator registers at an upstream provider (upstream logout). */
  upstreamLogoutCallbackUrl(alias: string): string;
  /** One-time tickets for linking an upstream identity from the account page. */
  readonly upstreamLinkTickets: LinkTickets;
  /** Where each sign-in session was last used from (the account page's device list). */
  readonly sessionDevices: SessionDevices;
  /** What each user agreed to give each application, kept across sign-in sessions (consent pages not shown again). */
  readonly consents: ConsentRecords;
  /** What each imported Keycloak realm's users are mapped with (src/keycloak/realm-contexts.ts). */
  readonly keycloakRealms: KeycloakRealmContexts;
  /** Runtime sign-in and self-service settings (registration, verification, password reset). */
  readonly signInSettings: RuntimeSettings['signIn'];
  /** Every group of runtime settings (src/settings/): sign-in, password policy, ... */
  readonly runtimeSettings: RuntimeSettings;
  /** The API identifier whose tokens open the admin API (scope `admin`). */
  readonly adminAudience: string;
  /** Per-document locks in MongoDB (src/storage/document-locks.ts), for checks that span writes. */
  readonly locks: DocumentLocks;
  /** The change notices' Redis (none configured: undefined) and key prefix: `caches flush` speaks to every instance there. */
  readonly notices: { readonly redis: Redis | undefined; readonly redisPrefix: string; readonly logger: ChannelLogger };
  /** Gatehouse's clock (src/clock.ts), which the services date and judge by: operations read the time here. */
  readonly clock: Clock;
}

export interface ServicesDeps {
  readonly config: Pick<Config, 'issuer' | 'redisPrefix' | 'routes'>;
  readonly mongo: Connection;
  readonly redis: Redis | undefined;
  readonly accounts: Accounts;
  readonly clients: ClientRepository;
  /** oidc-provider's storage (src/oidc/storage.ts). */
  readonly adapter: RoutedAdapterFactory;
  readonly audit: AuditTrail;
  readonly factors: Factors;
  readonly passkeys: Passkeys;
  readonly sessionDevices: SessionDevices;
  readonly consents: ConsentRecords;
  readonly runtimeSettings: RuntimeSettings;
  /** Runs after every write to a user (src/oidc/account-cache.ts). */
  readonly onUserChange: UserChangeHook;
  /** Upstream providers, their writes announced (src/upstream/provider-list.ts). */
  readonly upstream: UpstreamProviderList;
  readonly claimScopes: ClaimScopes;
  /** Gatehouse's clock (src/clock.ts); the system clock when absent. */
  readonly clock?: Clock;
  /** Where a change notice that could not be sent is reported. */
  readonly logger: ChannelLogger;
  /** Told of each sign-in session the revocation service ends (the server: back-channel logout). */
  readonly sessionEnded?: OidcRevocationDeps['sessionEnded'];
}

/** The admin API's URL, which is also the audience of its tokens. */
export function adminAudience(config: Pick<Config, 'issuer' | 'routes'>): string {
  return `${new URL(config.issuer).origin}${config.routes.admin}`;
}

/** The services over open connections and already built parts (see src/composition/core.ts). */
export function createServices(deps: ServicesDeps): GatehouseServices {
  const { config, mongo, redis, clock = systemClock } = deps;
  const users = userModel(mongo);
  const now = dateClock(clock);
  return {
    accounts: deps.accounts,
    users: createUserAdmin({ users, signIns: createSignIns(signInModel(mongo)), onChange: deps.onUserChange, now }),
    userRecords: createUserRecords(mongo),
    invitations: pendingInvitations(mongo, (id) => deps.accounts.findById(id), () => clock.now()),
    clients: deps.clients,
    apis: createApiRegistry({ model: apiModel(mongo), now }),
    roles: createLabelDirectory({ kind: 'role', model: labelModel(mongo, 'role'), users, onUserChange: deps.onUserChange, now }),
    groups: createLabelDirectory({ kind: 'group', model: labelModel(mongo, 'group'), users, onUserChange: deps.onUserChange, now }),
    audit: deps.audit,
    factors: deps.factors,
    passkeys: deps.passkeys,
    upstream: deps.upstream.directory,
    claimScopes: deps.claimScopes,
    listUpstream: () => deps.upstream.list(),
    upstreamCallbackUrl: (alias) => `${new URL(config.issuer).origin}${upstreamCallbackPath(config.routes, alias)}`,
    upstreamLogoutCallbackUrl: (alias) => `${new URL(config.issuer).origin}${upstreamLogoutCallbackPath(config.routes, alias)}`,
    upstreamLinkTickets: createLinkTickets({ mongo, now }),
    sessionDevices: deps.sessionDevices,
    consents: deps.consents,
    keycloakRealms: createRealmContexts(realmContextModel(mongo), now),
    signInSettings: deps.runtimeSettings.signIn,
    runtimeSettings: deps.runtimeSettings,
    revocation: createOidcRevocation({ mongo, redis, redisPrefix: config.redisPrefix, adapter: deps.adapter, markClientTokensRevoked: (clientId) => deps.clients.markTokensRevoked(clientId), sessionEnded: deps.sessionEnded, now: clock.now }),
    adminAudience: adminAudience(config),
    locks: documentLocks(mongo),
    notices: { redis, redisPrefix: config.redisPrefix, logger: deps.logger },
    clock,
  };
}
