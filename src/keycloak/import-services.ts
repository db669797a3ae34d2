import type { UserAdmin } from '../accounts/user-admin.ts';
import type { ApiRegistry } from '../apis/registry.ts';
import type { ClaimScopes } from '../claims/claim-scopes.ts';
import type { ClientRepository } from '../clients/repository.ts';
import type { ConsentRecords } from '../consents/records.ts';
import type { Factors } from '../mfa/factors.ts';
import type { LabelDirectory } from '../roles/directory.ts';
import type { UpstreamDirectory } from '../upstream/directory.ts';
import type { ReportSink } from './import-report.ts';

/** The parts of the domain services an import writes through (src/services.ts provides them). */
export interface KeycloakImportServices {
  readonly apis: ApiRegistry;
  readonly roles: LabelDirectory;
  readonly groups: LabelDirectory;
  readonly clients: ClientRepository;
  readonly claimScopes: Pick<ClaimScopes, 'list' | 'create' | 'update'>;
  readonly users: UserAdmin;
  readonly factors: Pick<Factors, 'importTotp'>;
  readonly upstream: Pick<UpstreamDirectory, 'get' | 'create' | 'update' | 'findLink' | 'link'>;
  readonly consents: Pick<ConsentRecords, 'add'>;
}

/**
 * Writes a Keycloak import plan (src/keycloak/realm-import.ts) through the services; with
 * `dryRun` it only reports what would be created and updated. Idempotent: objects are matched
 * by their keys (role and group names, client ids, user ids = Keycloak ids) and replaced, except
 * a user's password, which a re-import replaces only when Keycloak's is newer than the one
 * Gatehouse holds (so passwords changed or upgraded to argon2id since are kept).
 */
export interface KeycloakImportOptions {
  readonly dryRun: boolean;
  /**
   * An API identifier: created (if missing) with Keycloak-shaped token claims, and made the
   * default API of every imported client, whose sign-ins then get its JWT as access token —
   * Keycloak's behaviour (a JWT with realm_access and resource_access for every app).
   */
  readonly api?: string | undefined;
  /** Gets every entry of the report as it is added (the CLI's `--report FILE`); the report itself keeps the first of each list. */
  readonly onEntry?: ReportSink | undefined;
  /**
   * false: the realm's settings (password policy, brute force, OTP policy, login options) are left
   * out — no runtime setting is changed and none of them is reported; everything else is imported
   * (the CLI's `--no-realm-settings`, the admin API's `realm_settings=false`). Default true.
   */
  readonly realmSettings?: boolean | undefined;
}
