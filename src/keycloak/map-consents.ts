import { isOidcScope } from '../oidc/claims.ts';
import { isObject, list, strings, text, type Json, type UnmappedItem } from './export-json.ts';

/** A Keycloak user consent (`users[].clientConsents[]`) as a Gatehouse consent record (src/consents/records.ts). */
export interface PlannedConsent {
  /** The Keycloak user's id, which stays their Gatehouse id. */
  readonly userId: string;
  readonly username: string;
  readonly clientId: string;
  /** OpenID scopes: `openid` (Keycloak grants it with every consent and lists it nowhere) and the granted client scopes Gatehouse has (its own and the imported claim scopes). */
  readonly scopes: readonly string[];
  readonly createdAt: Date | undefined;
  readonly updatedAt: Date | undefined;
}

const date = (value: unknown): Date | undefined => (typeof value === 'number' && Number.isFinite(value) ? new Date(value) : undefined);

/**
 * Each user's consents to the clients the import brings (`clients`); a consent to a client it does
 * not bring (a built-in one, one not mapped) is reported. Of the granted client scopes, those that
 * are OpenID scopes in Gatehouse too (`profile`, `email`, `address`, `phone`, `offline_access`,
 * `roles`, `groups`) and the claim scopes the import brings (`claimScopes`) are kept; others (a
 * client scope not imported) are reported: Gatehouse asks for them again. `users`: the users the
 * plan imports, by id.
 */
export function mapConsents(document: Json, users: ReadonlyMap<string, string>, clients: ReadonlySet<string>, claimScopes: ReadonlySet<string>, unmapped: UnmappedItem[]): PlannedConsent[] {
  const kept = (scope: string) => isOidcScope(scope) || claimScopes.has(scope);
  const consents: PlannedConsent[] = [];
  for (const raw of list(document.users)) {
    if (!isObject(raw) || typeof raw.id !== 'string') continue;
    const username = users.get(raw.id);
    if (username === undefined) continue;
    for (const consent of list(raw.clientConsents)) {
      if (!isObject(consent)) continue;
      const clientId = text(consent.clientId);
      if (clientId === undefined) continue;
      if (!clients.has(clientId)) {
        unmapped.push({ kind: 'user consent', name: `${username} → ${clientId}`, reason: 'the client is not imported' });
        continue;
      }
      const granted = strings(consent.grantedClientScopes);
      const other = granted.filter((scope) => !kept(scope));
      if (other.length > 0) unmapped.push({ kind: 'user consent', name: `${username} → ${clientId}`, reason: `client scopes ${other.join(', ')}: not OpenID scopes in Gatehouse, asked for again` });
      consents.push({ userId: raw.id, username, clientId, scopes: ['openid', ...granted.filter(kept)], createdAt: date(consent.createdDate), updatedAt: date(consent.lastUpdatedDate) });
    }
  }
  return consents;
}
