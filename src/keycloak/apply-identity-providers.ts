import { ConflictError } from '../errors/gatehouse-error.ts';
import type { UpstreamDirectory, UpstreamProvider } from '../upstream/directory.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import type { PlannedLink, PlannedUpstream } from './map-identity-providers.ts';


/** Why a provider holding an export's alias is left alone (a conflict). */
const NOT_THIS_REALMS = (realm: string | undefined) =>
  `alias held by an upstream provider ${realm === undefined ? 'created in Gatehouse' : `the import of realm ${realm} created`}: left as it is (issuer, client, endpoints, secret, settings), and the users' links to it are not imported. Import this realm's provider under another alias (rename it in Keycloak), or delete Gatehouse's if it is the same one (its links go with it) and import again`;
const UNMARKED =
  "alias held by an upstream provider no import marked as this realm's — created in Gatehouse, or imported by a Gatehouse version before imports marked their providers —: left as it is (issuer, client, endpoints, secret, settings), and the users' links to it are not imported; an import never takes over an unmarked provider. If it is this realm's, delete it in Gatehouse (gatehouse idps delete ALIAS: its links go with it) and import again, or rename the alias in Keycloak";

/**
 * Whether a re-import of `realm` may replace `existing`, the provider holding an export's alias:
 * only one this realm's import created (imported_from). An unmarked one — created in Gatehouse, or
 * imported before imports marked their providers — is never taken: its kind, issuer, endpoints and
 * client id are in every redirect to it, so an export repeating them proves nothing, and taking it
 * would let the export replace its secret, trust_email and then where its users sign in.
 */
export function upstreamOfRealm(existing: UpstreamProvider, realm: string): boolean {
  return existing.imported_from?.kind === 'keycloak' && existing.imported_from.realm === realm;
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
    if (existing !== undefined && !upstreamOfRealm(existing, realm)) {
      report.upstreamOwners.set(alias, false);
      const reason = existing.imported_from === undefined ? UNMARKED : NOT_THIS_REALMS(existing.imported_from.realm);
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
  const owned = existing === undefined || upstreamOfRealm(existing, realm);
  report.upstreamOwners.set(alias, owned);
  if (!owned) {
    report.add('conflicts', { kind: 'identity provider', name: alias, reason: existing.imported_from === undefined ? UNMARKED : NOT_THIS_REALMS(existing.imported_from.realm) });
  }
  return owned;
}
