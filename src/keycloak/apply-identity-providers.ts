import { ConflictError } from '../errors/gatehouse-error.ts';
import type { UpstreamDirectory, UpstreamProvider } from '../upstream/directory.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import type { PlannedLink, PlannedUpstream } from './map-identity-providers.ts';


/** Why a provider holding an export's alias is left alone (a conflict). */
const NOT_THIS_REALMS = (realm: string | undefined) =>
  `alias held by an upstream provider ${realm === undefined ? 'created in Gatehouse' : `the import of realm ${realm} created`}: left as it is (issuer, client, endpoints, secret, settings), and the users' links to it are not imported. Import this realm's provider under another alias (rename it in Keycloak), or delete Gatehouse's if it is the same one (its links go with it) and import again`;
const UNMARKED_DIFFERENT =
  "alias held by an upstream provider no import marked as this realm's — created in Gatehouse, or imported before imports marked their providers — that signs in elsewhere (another kind, issuer, endpoint or client id): left as it is, and the users' links to it are not imported. If it is this realm's, delete it (its links go with it) and import again";
const UNMARKED_LINKS =
  "alias held by an upstream provider no import marked as this realm's (created in Gatehouse, or imported before imports marked their providers): the users' links to it are not imported. If it is this realm's, import the realm file again: it takes the provider as the realm's when it signs in where the export's does";

/**
 * Whether a re-import of `realm` may replace `existing`, the provider holding the alias of `planned`:
 * only one this realm's import created (imported_from). One imported before imports marked their
 * providers carries no mark, as one an operator created: it is taken as this realm's (and marked by
 * the write) only when it signs in exactly where the export's does — same kind, issuer, endpoints
 * and client id — so the import cannot move its users' sign-ins to another issuer or client; what
 * it then replaces (names, claims, mappings, trust_email) is what that import wrote. Anything else
 * is a conflict.
 */
export function upstreamOfRealm(existing: UpstreamProvider, planned: PlannedUpstream, realm: string): boolean {
  if (existing.imported_from !== undefined) return existing.imported_from.kind === 'keycloak' && existing.imported_from.realm === realm;
  const wanted = planned.settings;
  return (['kind', 'issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'client_id'] as const).every((field) => existing[field] === wanted[field]);
}

/**
 * Writes the planned upstream providers, adding what it did to `report`. A provider is created
 * marked with the realm (imported_from); a re-import replaces only a provider of the same realm
 * (upstreamOfRealm), its settings replaced; a client secret from the export replaces the stored
 * one, while a masked one keeps what an operator set since (and then the provider stays enabled as
 * Keycloak had it). A provider of the alias that is not the realm's is a conflict, never touched,
 * and the users' links to it are not imported (report.upstreamOwners, applyUpstreamLinks).
 */
export async function applyUpstreamProviders(
  directory: Pick<UpstreamDirectory, 'get' | 'create' | 'update'>,
  providers: readonly PlannedUpstream[],
  options: { readonly dryRun: boolean },
  report: KeycloakReportBuilder,
): Promise<void> {
  const { realm } = report.report;
  const mark = { kind: 'keycloak', realm } as const;
  for (const planned of providers) {
    const { alias } = planned.settings;
    const existing = await directory.get(alias);
    if (existing !== undefined && !upstreamOfRealm(existing, planned, realm)) {
      report.upstreamOwners.set(alias, false);
      const reason = existing.imported_from === undefined ? UNMARKED_DIFFERENT : NOT_THIS_REALMS(existing.imported_from.realm);
      report.add('conflicts', { kind: 'identity provider', name: alias, reason });
      continue;
    }
    report.upstreamOwners.set(alias, true);
    const hasSecret = planned.clientSecret !== undefined || existing?.has_secret === true;
    // As Keycloak had it, but never enabled without a secret to authenticate with.
    const settings = { ...planned.settings, enabled: planned.settings.enabled && hasSecret };
    if (!hasSecret) report.add('upstream.secretsToSet', alias);
    report.report.upstream.mapped[alias] = planned.mapped;
    if (!options.dryRun) {
      const secrets = planned.clientSecret === undefined ? {} : { clientSecret: planned.clientSecret };
      if (existing === undefined) await directory.create(settings, secrets, mark);
      else await directory.update(alias, settings, secrets, mark);
    }
    report.add(`upstream.${existing === undefined ? 'created' : 'updated'}`, alias);
  }
}

/**
 * Writes the planned links of users the import wrote (`importedUsers`), counting them in `report`.
 * A link is matched by (provider, upstream subject); one that belongs to another Gatehouse user is
 * a conflict, never moved. Only links to the realm's own providers: one of an alias held by a
 * provider not the realm's (a conflict of applyUpstreamProviders, or — a users file on its own —
 * marked as another realm's or unmarked) is not made, since its subjects are the export's
 * issuer's, not that provider's: reported once per alias.
 */
export async function applyUpstreamLinks(
  directory: Pick<UpstreamDirectory, 'findLink' | 'link' | 'get'>,
  links: readonly PlannedLink[],
  options: { readonly dryRun: boolean; readonly importedUsers: ReadonlySet<string> },
  report: KeycloakReportBuilder,
): Promise<void> {
  const counted = report.report.upstream.links;
  const { realm } = report.report;
  for (const link of links) {
    if (!options.importedUsers.has(link.userId)) continue;
    if (!(await ownedProvider(directory, link.provider, realm, report))) continue;
    const found = await directory.findLink(link.provider, link.subject);
    if (found !== undefined) {
      if (found.userId === link.userId) counted.unchanged += 1;
      else report.add('conflicts', { user: link.username, reason: `the ${link.provider} identity ${link.subject} is linked to another Gatehouse user` });
      continue;
    }
    if (!options.dryRun) {
      try {
        await directory.link(link.provider, link.subject, link.userId, link.label);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        report.add('conflicts', { user: link.username, reason: `the ${link.provider} identity ${link.subject} is linked to another Gatehouse user` });
        continue;
      }
    }
    counted.created += 1;
  }
}

/**
 * Whether the users' links to `alias` may be written: decided once per import (report.upstreamOwners).
 * Not decided by the realm file (a users file on its own): a provider marked as this realm's, or
 * none (the link waits for it, as before); an unmarked one or another realm's is a conflict.
 */
async function ownedProvider(directory: Pick<UpstreamDirectory, 'get'>, alias: string, realm: string, report: KeycloakReportBuilder): Promise<boolean> {
  const decided = report.upstreamOwners.get(alias);
  if (decided !== undefined) return decided;
  const existing = await directory.get(alias);
  const owned = existing === undefined || (existing.imported_from?.kind === 'keycloak' && existing.imported_from.realm === realm);
  report.upstreamOwners.set(alias, owned);
  if (!owned) {
    report.add('conflicts', { kind: 'identity provider', name: alias, reason: existing.imported_from === undefined ? UNMARKED_LINKS : NOT_THIS_REALMS(existing.imported_from.realm) });
  }
  return owned;
}
