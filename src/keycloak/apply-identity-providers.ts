import { ConflictError } from '../errors/gatehouse-error.ts';
import type { UpstreamDirectory } from '../upstream/directory.ts';
import type { PlannedLink, PlannedUpstream } from './map-identity-providers.ts';

/** What the import did with identity providers and federated identities (part of the import report). */
export interface UpstreamImportReport {
  readonly created: string[];
  readonly updated: string[];
  /** Providers imported disabled until an operator sets their client secret (masked, missing or vaulted in the export). */
  readonly secretsToSet: string[];
  /** Per provider (Gatehouse alias): what was carried over from Keycloak. */
  readonly mapped: Record<string, readonly string[]>;
  /** Users' federated identities: links made, and links that were already there. */
  readonly links: { created: number; unchanged: number };
}

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
  report: UpstreamImportReport,
): Promise<void> {
  for (const planned of providers) {
    const { alias } = planned.settings;
    const existing = await directory.get(alias);
    const hasSecret = planned.clientSecret !== undefined || existing?.has_secret === true;
    // As Keycloak had it, but never enabled without a secret to authenticate with.
    const settings = { ...planned.settings, enabled: planned.settings.enabled && hasSecret };
    if (!hasSecret) report.secretsToSet.push(alias);
    report.mapped[alias] = planned.mapped;
    if (!options.dryRun) {
      const secrets = planned.clientSecret === undefined ? {} : { clientSecret: planned.clientSecret };
      if (existing === undefined) await directory.create(settings, secrets);
      else await directory.update(alias, settings, secrets);
    }
    report[existing === undefined ? 'created' : 'updated'].push(alias);
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
  report: UpstreamImportReport['links'],
  conflicts: Array<{ readonly user: string; readonly reason: string }>,
): Promise<void> {
  for (const link of links) {
    if (!options.importedUsers.has(link.userId)) continue;
    const found = await directory.findLink(link.provider, link.subject);
    if (found !== undefined) {
      if (found.userId === link.userId) report.unchanged += 1;
      else conflicts.push({ user: link.username, reason: `the ${link.provider} identity ${link.subject} is linked to another Gatehouse user` });
      continue;
    }
    if (!options.dryRun) {
      try {
        await directory.link(link.provider, link.subject, link.userId, link.label);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        conflicts.push({ user: link.username, reason: `the ${link.provider} identity ${link.subject} is linked to another Gatehouse user` });
        continue;
      }
    }
    report.created += 1;
  }
}
