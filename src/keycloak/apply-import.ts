/*
 * A Keycloak import's writes: the realm (roles, groups, claim scopes, clients, identity providers:
 * apply-realm.ts) and its users, batch by batch (users, passwords, the disabled rule, consents,
 * service accounts: apply-users.ts); which clients an import may write: client-ownership.ts.
 */
export { applyKeycloakRealm } from './apply-realm.ts';
export { applyKeycloakUsers, importedFromRealm } from './apply-users.ts';
export { DryRunUsers } from './dry-run-users.ts';
export type { KeycloakImportOptions, KeycloakImportServices } from './import-services.ts';
