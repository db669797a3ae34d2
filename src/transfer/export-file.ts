import { CONSOLE_CLIENT_ID } from '../clients/console-client.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import type { GatehouseServices } from '../services.ts';
import { exportedClaimScope } from './claim-scopes-section.ts';
import type { ExportCounts } from './import-file.ts';
import { writeJsonObject } from './json-stream.ts';
import { EXPORT_FORMAT, EXPORT_VERSION } from './sections.ts';
import { exportedSettings, settingsCount } from './settings-section.ts';
import { exportedProviders } from './upstream-section.ts';

export { checkExport, importAll, type ExportCounts, type ImportSummary } from './import-file.ts';

export { EXPORT_FORMAT, EXPORT_VERSION } from './sections.ts';
/** The header of a clear export (`--unencrypted`): the file itself is readable. */
export const EXPORT_WARNING =
  "This file holds password hashes, client secrets (applications' and upstream providers', with their private keys) and authenticator-app (TOTP) secrets in the clear. Keep it private (mode 0600), move it only over encrypted channels, delete it after use.";
/** The header inside an encrypted export: read only by whoever decrypted it, and it says what they now hold. */
export const DECRYPTED_EXPORT_WARNING =
  "Decrypted from a passphrase-encrypted export: this text holds password hashes, client secrets (applications' and upstream providers', with their private keys) and authenticator-app (TOTP) secrets in the clear, as the encrypted file does not. Keep the encrypted file, not this text; if it must be written out, keep it private (mode 0600) and delete it after use.";

const iso = (value: Date | null) => value?.toISOString() ?? null;

/**
 * Where `exportAll` writes its text, piece by piece. `encrypted`: the text is a seal's plaintext
 * (compact, its header saying what a decrypted copy holds), else the file itself (indented).
 */
export interface ExportTarget {
  readonly write: (piece: string) => void;
  readonly encrypted: boolean;
}

async function* mapped<T, U>(items: AsyncIterable<T>, map: (item: T) => U | undefined): AsyncGenerator<U> {
  for await (const item of items) {
    const result = map(item);
    if (result !== undefined) yield result;
  }
}

/**
 * `gatehouse export`: everything an operator manages, as one JSON document: APIs, roles, groups,
 * claim scopes, clients, upstream providers, users with their second factors, passkeys, upstream
 * links and consents, Keycloak realms' contexts and the runtime settings operators changed.
 * Secrets are opened for the file (client secrets, upstream providers' client secrets and private
 * keys, authenticator apps' secrets) and sealed again by the import under the target's
 * GATEHOUSE_SECRET; recovery codes travel as their HMACs, which only a deployment with the same key
 * can check (`recovery_code_key`). Written as it is read: clients, users, second factors,
 * passkeys, upstream links and consents come from database cursors a batch at a time
 * (src/storage/read-batches.ts), so the memory it takes does not grow with them; the rest (a
 * handful to a few hundred each) is read first. Resolves to what it wrote, by kind.
 */
export async function exportAll(services: GatehouseServices, issuer: string, target: ExportTarget): Promise<ExportCounts> {
  const [allApis, roles, groups, keycloakRealms, claimScopes, providers, settings] = await Promise.all([
    services.apis.list(),
    services.roles.list(),
    services.groups.list(),
    services.keycloakRealms.exportAll(),
    services.claimScopes.list(),
    exportedProviders(services.upstream),
    exportedSettings(services.runtimeSettings),
  ]);
  const apis = allApis.filter((api) => api.identifier !== services.adminAudience);
  // The console's and the account page's clients are built in: every instance ensures its own at startup.
  // Consents go with the clients written (ids only, collected as they pass).
  const exportedClients = new Set<string>();
  const clients = mapped(services.clients.exportEach(), (client) => {
    if (client.clientId === CONSOLE_CLIENT_ID || client.clientId === ACCOUNT_CLIENT_ID) return undefined;
    exportedClients.add(client.clientId);
    return client;
  });
  const counts = await writeJsonObject(
    [
      ['format', EXPORT_FORMAT],
      ['version', EXPORT_VERSION],
      ['warning', target.encrypted ? DECRYPTED_EXPORT_WARNING : EXPORT_WARNING],
      ['contains_password_hashes', true],
      ['contains_client_secrets', true],
      ['contains_totp_secrets', true],
      ['contains_upstream_secrets', true],
      ['exported_at', new Date().toISOString()],
      ['issuer', issuer],
      ['admin_audience', services.adminAudience],
      ['recovery_code_key', services.factors.recoveryKeyId],
      ['apis', apis],
      ['roles', roles.map((role) => ({ name: role.name, description: role.description }))],
      ['groups', groups.map((group) => ({ name: group.name, description: group.description }))],
      ['claim_scopes', claimScopes.map(exportedClaimScope)],
      ['clients', clients],
      ['upstream_providers', providers],
      ['users', mapped(services.users.exportEach(), (user) => ({ ...user, passwordChangedAt: iso(user.passwordChangedAt), lastLoginAt: iso(user.lastLoginAt), createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() }))],
      ['second_factors', mapped(services.factors.exportEach(), (one) => ({ ...one, totp: one.totp === null ? null : { ...one.totp, confirmedAt: one.totp.confirmedAt.toISOString() } }))],
      ['passkeys', mapped(services.passkeys.exportEach(), (passkey) => ({ ...passkey, createdAt: passkey.createdAt.toISOString(), lastUsedAt: iso(passkey.lastUsedAt) }))],
      ['upstream_links', mapped(services.upstream.eachLink(), (link) => ({ ...link, createdAt: link.createdAt.toISOString(), lastSignInAt: iso(link.lastSignInAt) }))],
      [
        'consents',
        mapped(services.consents.exportEach(), ({ accountId, createdAt, updatedAt, ...record }) =>
          exportedClients.has(record.clientId) ? { userId: accountId, ...record, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() } : undefined,
        ),
      ],
      // What an imported Keycloak realm's users files are mapped with (src/keycloak/realm-contexts.ts): role and group definitions, client ids, provider aliases; nothing secret.
      ['keycloak_realms', keycloakRealms.map(({ updatedAt, ...context }) => ({ ...context, updatedAt: updatedAt.toISOString() }))],
      // Last: what the import writes last (they may name the roles and groups above).
      ['settings', settings],
    ],
    target.encrypted ? 0 : 2,
    target.write,
  );
  if (!target.encrypted) target.write('\n');
  return {
    apis: apis.length,
    roles: roles.length,
    groups: groups.length,
    clients: counts.clients!,
    users: counts.users!,
    second_factors: counts.second_factors!,
    passkeys: counts.passkeys!,
    consents: counts.consents!,
    keycloak_realms: keycloakRealms.length,
    claim_scopes: claimScopes.length,
    upstream_providers: providers.length,
    upstream_links: counts.upstream_links!,
    settings: settingsCount(settings),
  };
}

