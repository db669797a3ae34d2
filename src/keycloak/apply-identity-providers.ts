import { ConflictError } from '../errors/gatehouse-error.ts';
import type { UpstreamDirectory } from '../upstream/directory.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import type { PlannedLink, PlannedUpstream } from './map-identity-providers.ts';


/**
 * Writes the planned upstream providers, adding what it did to `report`. Idempotent: a provider
 * is matched by its alias and its settings replaced; a client secret from the export replaces the
 * stored one, while a masked one keeps what an operator set since (and then the provider stays
 * enabled as Keycloak had it).
 */
export async function applyUpstreamProviders(
  directory: Pick<UpstreamDirectory, 'get' | 'create' | 'update'>,
  providers: readonly PlannedUpstream[],
  options: { readonly dryRun: boolean },
  report: KeycloakReportBuilder,
): Promise<void> {
  for (const planned of providers) {
    const { alias } = planned.settings;
    const existing = await directory.get(alias);
    const hasSecret = planned.clientSecret !== undefined || existing?.has_secret === true;
    // As Keycloak had it, but never enabled without a secret to authenticate with.
    const settings = { ...planned.settings, enabled: planned.settings.enabled && hasSecret };
    if (!hasSecret) report.add('upstream.secretsToSet', alias);
    report.report.upstream.mapped[alias] = planned.mapped;
    if (!options.dryRun) {
      const secrets = planned.clientSecret === undefined ? {} : { clientSecret: planned.clientSecret };
      if (existing === undefined) await directory.create(settings, secrets);
      else await directory.update(alias, settings, secrets);
    }
    report.add(`upstream.${existing === undefined ? 'created' : 'updated'}`, alias);
  }
}

/**
 * Writes the planned links of users the import wrote (`importedUsers`), counting them in `report`.
 * A link is matched by (provider, upstream subject); one that belongs to another Gatehouse user is
 * a conflict, never moved.
 */
export async function applyUpstreamLinks(
  directory: Pick<UpstreamDirectory, 'findLink' | 'link'>,
  links: readonly PlannedLink[],
  options: { readonly dryRun: boolean; readonly importedUsers: ReadonlySet<string> },
  report: KeycloakReportBuilder,
): Promise<void> {
  const counted = report.report.upstream.links;
  for (const link of links) {
    if (!options.importedUsers.has(link.userId)) continue;
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
