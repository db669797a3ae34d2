/**
 * Client properties only an operator may set (admin API, CLI, import): a client registering
 * itself (RFC 7591/7592) can never grant itself these. One list for the registration policy
 * (src/oidc/client-metadata.ts) and for what a registered client's record keeps
 * (src/clients/repository.ts).
 */
export const OPERATOR_ONLY_CLIENT_PROPERTIES: readonly string[] = [
  'first_party',
  'allowed_apis',
  'allowed_api_scopes',
  'default_api',
  'login_uses_default_api',
  'web_origins',
  'admin_client',
  // Releases the user's roles and groups in every token of the client.
  'token_claims',
  // Trades other clients' user tokens for tokens of the APIs it names: the operator's trust.
  'token_exchange',
  // Sees users' passwords (first-party only, which a registered client never is).
  'allow_password_grant',
];
