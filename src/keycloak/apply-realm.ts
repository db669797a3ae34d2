import type { ClaimScope } from '../claims/spec.ts';
import { applyUpstreamProviders } from './apply-identity-providers.ts';
import type { KeycloakImportOptions, KeycloakImportServices } from './import-services.ts';
import { clientOfRealm, GATEHOUSE_CLIENTS, UNMARKED_CLIENT } from './client-ownership.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import type { KeycloakRealmPlan } from './realm-import.ts';

/** Writes the realm part of a plan (roles, groups, clients, identity providers, the API), adding what it did to `report` (the users' batches add theirs: applyKeycloakUsers). */
export async function applyKeycloakRealm(services: KeycloakImportServices, plan: KeycloakRealmPlan, { dryRun, api }: KeycloakImportOptions, report: KeycloakReportBuilder): Promise<void> {
  if (api !== undefined) {
    const created = (await services.apis.find(api)) === undefined;
    if (created && !dryRun) await services.apis.create({ identifier: api, name: `Keycloak realm ${plan.realm}`, tokenClaims: 'keycloak' });
    report.report.api = { identifier: api, created };
  }
  for (const client of plan.builtInClients) report.add('builtInClients', client);
  report.report.nativeClients = plan.nativeClients;
  for (const item of plan.unmapped) report.addUnmapped(item);
  for (const [kind, labels] of [['roles', plan.roles], ['groups', plan.groups]] as const) {
    const directory = kind === 'roles' ? services.roles : services.groups;
    for (const label of labels) {
      const exists = (await directory.get(label.name)) !== undefined;
      if (!exists && !dryRun) await directory.create(label.name, label.description);
      report.add(`${kind}.${exists ? 'updated' : 'created'}`, label.name);
    }
  }
  await applyClaimScopes(services.claimScopes, plan, dryRun, report);
  for (const client of plan.clients) {
    // Gatehouse's own apps' clients are never replaced: the console's reaches the admin API, and
    // an export naming it with another redirect URI would send administrators' codes there.
    if (GATEHOUSE_CLIENTS.has(client.clientId)) {
      report.addUnmapped({ kind: 'client', name: client.clientId, reason: "the client id of one of Gatehouse's own apps (admin console, account page): not imported, Gatehouse's client left as it is" });
      continue;
    }
    const existing = await services.clients.get(client.clientId);
    if (existing !== undefined && !clientOfRealm(existing, plan.realm)) {
      report.clientOwners.set(client.clientId, false);
      const reason = existing.importedFrom === undefined ? UNMARKED_CLIENT : `client_id held by a client the import of realm ${existing.importedFrom.realm} created: left as it is (redirect URIs, secret, settings). Rename the client in Keycloak to import it`;
      report.add('conflicts', { kind: 'client', name: client.clientId, reason });
      continue;
    }
    report.clientOwners.set(client.clientId, true);
    const allowedApis = new Set(existing?.allowedApis ?? client.allowedApis);
    const metadata = { ...client.metadata };
    // Its service-account roles come with its service-account user (applyKeycloakUsers), in the users' files.
    const serviceRoles = existing?.metadata.service_account_roles;
    if (serviceRoles !== undefined && (metadata.grant_types as string[]).includes('client_credentials')) metadata.service_account_roles = serviceRoles;
    if (api !== undefined) {
      allowedApis.add(api);
      metadata.default_api = api;
      if ((metadata.grant_types as string[]).includes('authorization_code')) metadata.login_uses_default_api = true;
    }
    if (!dryRun) {
      await services.clients.importOne({
        ...client,
        metadata,
        // Keep what Gatehouse added since (APIs the client may call, its creation time).
        allowedApis: [...allowedApis],
        createdAt: existing?.createdAt.toISOString() ?? client.createdAt,
        // Marked: a re-import of this realm may replace it (clientOfRealm).
        importedFrom: { kind: 'keycloak', realm: plan.realm },
      });
    }
    report.add(`clients.${existing === undefined ? 'created' : 'updated'}`, client.clientId);
  }
  await applyUpstreamProviders(services.upstream, plan.upstreamProviders, { dryRun }, report);
}

/**
 * The realm's claim scopes, before the clients that list them (the provider refuses a client naming
 * a scope it does not know). A scope of the same name is replaced (descriptions and mappers); a
 * mapper whose claim another Gatehouse scope gives is left out and reported (a claim comes from one
 * scope).
 */
async function applyClaimScopes(claimScopes: KeycloakImportServices['claimScopes'], plan: KeycloakRealmPlan, dryRun: boolean, report: KeycloakReportBuilder): Promise<void> {
  if (plan.claimScopes.length === 0) return;
  const current = await claimScopes.list();
  const planned = new Map(plan.claimScopes.map((scope) => [scope.name, scope.input] as const));
  const holdersOf = (scopes: readonly ClaimScope[]) => new Map(scopes.flatMap((scope) => scope.mappers.map((mapper) => [mapper.claim, scope.name] as const)));
  const others = current.filter((scope) => !planned.has(scope.name));
  // Scopes of the export's names the import may not replace (claimScopeOfRealm): they keep giving their claims.
  const kept = current.filter((scope) => planned.has(scope.name) && !claimScopeOfRealm(scope, plan.realm));
  const keptNames = new Set(kept.map((scope) => scope.name));
  const holders = holdersOf([...others, ...kept]);
  for (const { name, input } of plan.claimScopes) {
    const existing = current.find((scope) => scope.name === name);
    if (existing !== undefined && keptNames.has(name)) {
      const reason =
        existing.importedFrom === undefined
          ? "name held by a claim scope no import marked as this realm's — created in Gatehouse, or imported by a Gatehouse version before imports marked their scopes —: left as it is (its mappers and descriptions); an import never takes over an unmarked claim scope. The clients of the export that list it get Gatehouse's. If it is this realm's scope, delete it in Gatehouse (gatehouse claim-scopes delete NAME) and import again, or rename the client scope in Keycloak"
          : `name held by a claim scope the import of realm ${existing.importedFrom.realm} created: left as it is (its mappers and descriptions). The clients of the export that list it get that scope`;
      report.add('conflicts', { kind: 'client scope', name, reason });
      continue;
    }
    const mappers = input.mappers.filter((mapper) => {
      const holder = holders.get(mapper.claim);
      if (holder !== undefined) report.addUnmapped({ kind: 'client scope', name, reason: `claim ${mapper.claim}: Gatehouse's claim scope ${holder} gives it already (a claim comes from one scope); this mapper is not imported` });
      return holder === undefined;
    });
    const mark = { kind: 'keycloak', realm: plan.realm } as const;
    if (!dryRun) {
      if (existing !== undefined) await claimScopes.update(name, { description: input.description, mappers }, mark);
      else await claimScopes.create({ ...input, mappers }, mark);
    }
    report.add(`claimScopes.${existing !== undefined ? 'updated' : 'created'}`, name);
  }
}

/**
 * Whether a re-import of `realm` may replace `existing`, the claim scope of the export's name: only
 * one this realm's import created (importedFrom). An unmarked one is never taken: its mappers are
 * visible in the tokens it gives, so an export repeating them proves nothing.
 */
function claimScopeOfRealm(existing: ClaimScope, realm: string): boolean {
  return existing.importedFrom?.kind === 'keycloak' && existing.importedFrom.realm === realm;
}
