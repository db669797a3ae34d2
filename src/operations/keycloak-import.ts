import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { applyKeycloakImport, type KeycloakImportOptions, type KeycloakImportReport } from '../keycloak/apply-import.ts';
import { planKeycloakImport } from '../keycloak/realm-import.ts';
import { refuseNulCharacters } from '../errors/nul-characters.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';

export const keycloakImportQuerySchema = z.object({
  dry_run: z.enum(['true', 'false']).optional(),
  /** An API identifier: created with Keycloak-shaped claims and made every imported client's default API. */
  api: z.string().refine((value) => URL.canParse(value) && new URL(value).hash === '', says('uri_example')).optional(),
});

/** The admin API's body: a Keycloak realm export as `kc.sh export` writes it (only `realm` is required here; the rest is read leniently). */
export const keycloakRealmSchema = z.looseObject({ realm: z.string().min(1) });

/** Realm exports of many users are large; this route alone takes bodies up to this size. */
export const KEYCLOAK_IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

/**
 * `gatehouse import --keycloak FILE [--dry-run]` and `POST /admin/api/v1/import/keycloak`:
 * maps a Keycloak realm export (src/keycloak/realm-import.ts) and applies it idempotently, or
 * with `dryRun` only reports what would be created and updated. Audited as `keycloak.imported`
 * (counts only: no names of users, no hashes).
 */
export async function importKeycloakRealm(services: GatehouseServices, ctx: OperationContext, document: unknown, options: KeycloakImportOptions): Promise<KeycloakImportReport> {
  // Refused whole, naming where (users.3.username): FerretDB on PostgreSQL cannot hold a NUL.
  refuseNulCharacters(document);
  // The users as they are: a re-import keeps the usernames an earlier one derived from addresses.
  const current = await services.users.exportAll();
  const plan = planKeycloakImport(document, new Date(services.clock.now()), current);
  const report = await applyKeycloakImport(services, plan, options, current);
  if (!options.dryRun) {
    await services.audit.write({
      ...ctx,
      type: 'keycloak.imported',
      target: { type: 'realm', id: plan.realm },
      details: {
        roles: report.roles.created.length + report.roles.updated.length,
        groups: report.groups.created.length + report.groups.updated.length,
        clients: report.clients.created.length + report.clients.updated.length,
        users: report.users.created.length + report.users.updated.length,
        totp: report.totp.imported.length,
        consents: report.consents,
        upstreamProviders: report.upstream.created.length + report.upstream.updated.length,
        upstreamLinks: report.upstream.links.created,
        conflicts: report.conflicts.length,
        refusedUsers: report.refusedUsers.length,
        unmapped: report.unmapped.length,
        ...(report.api === undefined ? {} : { api: report.api.identifier }),
      },
    });
  }
  return report;
}
