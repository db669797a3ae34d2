import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { CONSOLE_CLIENT_ID } from '../clients/console-client.ts';
import type { ClientRepository, ClientView } from '../clients/repository.ts';
import type { KeycloakReportBuilder } from './import-report.ts';

/**
 * Which clients a Keycloak import of a realm may write: the realm file's (clientOfRealm) and, for
 * users files, the clients whose service-account roles and consents they may set (ownedClient).
 */

/** The client ids of Gatehouse's own apps (src/clients/console-client.ts, account-client.ts). */
export const GATEHOUSE_CLIENTS: ReadonlySet<string> = new Set([CONSOLE_CLIENT_ID, ACCOUNT_CLIENT_ID]);

/**
 * Why an unmarked client holding an export's client_id is left alone (clientOfRealm). Never adopted:
 * what an import could compare (redirect URIs, grant types, authentication method none) is public
 * for a public client, so a hostile export copying it would take over a client made in Gatehouse.
 */
export const UNMARKED_CLIENT =
  "client_id held by a client no import marked as this realm's — created in Gatehouse, or imported by a Gatehouse version before imports marked their clients —: left as it is (redirect URIs, secret, settings); an import never takes over an unmarked client. If it is this realm's client, delete it in Gatehouse (gatehouse clients delete ID: its consents and tokens go with it) and import again, or rename the client in Keycloak to import it as another";

/**
 * Whether a re-import of `realm` may replace `existing`, the client holding the client_id of a
 * planned client: only one this realm's import created (importedFrom). An unmarked one — created in
 * Gatehouse, or imported before imports marked their clients — is never taken: nothing an export
 * repeats proves it is the realm's (a public client's values are in every authorization request).
 */
export function clientOfRealm(existing: ClientView, realm: string): boolean {
  return existing.importedFrom?.kind === 'keycloak' && existing.importedFrom.realm === realm;
}

/**
 * Whether a users file may set `clientId`'s service-account roles: decided once per import
 * (report.clientOwners); not decided by the realm file (a users file on its own): a client marked
 * as this realm's, or none (reported below as before); an unmarked one or another realm's is a conflict.
 */
export async function ownedClient(clients: ClientRepository, clientId: string, report: KeycloakReportBuilder): Promise<boolean> {
  const decided = report.clientOwners.get(clientId);
  if (decided !== undefined) return decided;
  const existing = await clients.get(clientId);
  const owned = existing === undefined || (existing.importedFrom?.kind === 'keycloak' && existing.importedFrom.realm === report.report.realm);
  report.clientOwners.set(clientId, owned);
  if (!owned) {
    const reason =
      existing.importedFrom === undefined
        ? "client_id held by a client no import marked as this realm's (created in Gatehouse, or imported before imports marked their clients): its service-account roles and the users' consents to it are left as they are. If it is this realm's client, delete it in Gatehouse (gatehouse clients delete ID) and import the realm file again"
        : `client_id held by a client the import of realm ${existing.importedFrom.realm} created: its service-account roles and the users' consents to it are left as they are`;
    report.add('conflicts', { kind: 'client', name: clientId, reason });
  }
  return owned;
}
