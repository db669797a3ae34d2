import { GATEHOUSE_CLIENT_PROPERTIES, OPERATOR_ONLY_CLIENT_PROPERTIES, type GatehouseClientProperty } from '../clients/gatehouse-properties.ts';
import { SCOPE_TOKEN } from '../apis/scope-syntax.ts';
import { ADMIN_ROLE } from '../roles/admin-role.ts';
import { errors, type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';

const BOOLEAN_PROPS = new Set<string>(['first_party', 'login_uses_default_api', 'require_pkce', 'require_mfa', 'minimal_id_token', 'admin_client', 'allow_password_grant']);

/** The grant_types entry that `allow_password_grant` stands for. */
export const PASSWORD_GRANT = 'password';
/** The grant_types entry that a `token_exchange` policy stands for. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface TokenExchangePolicy {
  readonly apis: readonly string[];
  readonly trusted_clients: readonly string[];
}

function invalid(key: string, message: string): never {
  throw new errors.InvalidClientMetadata(`${key} ${message}`);
}

function validateOrigin(origin: unknown): void {
  if (typeof origin !== 'string' || !URL.canParse(origin) || new URL(origin).origin !== origin) {
    invalid('web_origins', 'must contain origins such as https://app.example.com (scheme, host and port only)');
  }
}

const OPERATOR_ONLY = new Set<string>(OPERATOR_ONLY_CLIENT_PROPERTIES);
const REGISTRATION_ROUTES = new Set(['registration', 'client_update']);

function isSet(value: unknown): boolean {
  return value !== false && !(Array.isArray(value) && value.length === 0);
}

/** The admin API's limit on a client's name (src/clients/spec.ts). */
const CLIENT_NAME_MAX = 200;
/** Bidi embeddings, overrides and isolates, zero-width and other invisible characters: they make the page around a name read otherwise. */
const HIDDEN_IN_NAME = /[\p{Cc}\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]/u;

/**
 * A self-registered client's `client_name` is what the consent page puts before "is asking to":
 * a third party's text. Held to the operator's rules (1–200 characters) and free of characters
 * that reorder or hide the page's own words (U+202E turned "is asking to:" into ":ot gniksa si").
 */
function checkRegisteredName(name: unknown): void {
  if (name === undefined || name === null) return;
  if (typeof name !== 'string' || name.trim() === '') invalid('client_name', 'must be a non-empty string');
  if (name.length > CLIENT_NAME_MAX) invalid('client_name', `must be at most ${CLIENT_NAME_MAX} characters`);
  if (HIDDEN_IN_NAME.test(name)) invalid('client_name', 'must not contain control, bidirectional-override or invisible characters');
}

export function validateClientProperty(ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: ClientMetadata): void {
  // Once per registration or update (the validator runs for each of Gatehouse's properties).
  if (key === GATEHOUSE_CLIENT_PROPERTIES[0] && REGISTRATION_ROUTES.has(String(ctx?.oidc?.route))) checkRegisteredName(metadata.client_name);
  // A self-registered client is a third party written against the spec, not against Keycloak:
  // its ID tokens follow OIDC Core 5.4 (scope claims at userinfo) unless it asks otherwise.
  if (key === 'minimal_id_token' && value === undefined && REGISTRATION_ROUTES.has(String(ctx?.oidc?.route))) {
    (metadata as Record<string, unknown>).minimal_id_token = true;
    return;
  }
  if (OPERATOR_ONLY.has(key) && value !== undefined && value !== null && isSet(value) && REGISTRATION_ROUTES.has(String(ctx?.oidc?.route))) {
    invalid(key, 'cannot be set through dynamic registration');
  }
  if (key === 'allow_password_grant') return checkPasswordGrant(value, metadata as Record<string, unknown>);
  if (key === 'token_exchange') return checkTokenExchange(value, metadata as Record<string, unknown>);
  if (value === undefined || value === null) return;
  if (BOOLEAN_PROPS.has(key)) {
    if (typeof value !== 'boolean') invalid(key, 'must be a boolean');
    return;
  }
  if (key === 'allowed_api_scopes') {
    const valid =
      Array.isArray(value) &&
      value.every((entry: unknown) => {
        const { api, scopes } = (entry ?? {}) as { api?: unknown; scopes?: unknown };
        return typeof api === 'string' && URL.canParse(api) && Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string');
      });
    if (!valid) invalid(key, 'must be a list of { api, scopes } entries');
    return;
  }
  if (key === 'allowed_apis') {
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && URL.canParse(item))) {
      invalid(key, 'must be an array of API identifiers (absolute URIs)');
    }
    return;
  }
  if (key === 'default_api') {
    const allowed = (metadata as Record<string, unknown>).allowed_apis;
    if (typeof value !== 'string' || !Array.isArray(allowed) || !allowed.includes(value)) {
      invalid(key, 'must be one of allowed_apis');
    }
    return;
  }
  if (key === 'default_scopes') {
    // The admin API checks them against the client's scope; here only their shape (a stale entry,
    // a claim scope deleted since, is skipped per request: src/oidc/default-scopes.ts).
    if (!Array.isArray(value) || !value.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope))) invalid(key, 'must be an array of scope names');
    return;
  }
  if (key === 'token_claims') {
    if (value !== 'gatehouse' && value !== 'keycloak') invalid(key, 'must be gatehouse or keycloak');
    return;
  }
  if (key === 'service_account_roles') {
    // The admin API's rules (src/clients/spec.ts); here, what a stored record must hold to be served.
    if (!Array.isArray(value) || !value.every((role) => typeof role === 'string' && role !== '' && role !== ADMIN_ROLE)) invalid(key, 'must be an array of role names (never admin)');
    return;
  }
  if (key === 'web_origins') {
    if (!Array.isArray(value)) invalid(key, 'must be an array of origins');
    for (const origin of value) validateOrigin(origin);
  }
}

/**
 * `allow_password_grant` is the one switch for the password grant: it puts `password` into the
 * client's grant_types (which the token endpoint checks), and `password` in grant_types without
 * it is refused. Only confidential first-party clients qualify: the client sees the password.
 */
function checkPasswordGrant(value: unknown, metadata: Record<string, unknown>): void {
  const grantTypes = Array.isArray(metadata.grant_types) ? (metadata.grant_types as unknown[]) : undefined;
  if (value === undefined || value === null || value === false) {
    if (grantTypes?.includes(PASSWORD_GRANT) === true) invalid('grant_types', 'may contain password only with allow_password_grant');
    return;
  }
  if (typeof value !== 'boolean') invalid('allow_password_grant', 'must be a boolean');
  if (metadata.token_endpoint_auth_method === 'none') invalid('allow_password_grant', 'is for confidential clients only');
  if (metadata.first_party !== true) invalid('allow_password_grant', 'is for first-party clients only');
  if (grantTypes === undefined) metadata.grant_types = [PASSWORD_GRANT];
  else if (!grantTypes.includes(PASSWORD_GRANT)) metadata.grant_types = [...grantTypes, PASSWORD_GRANT];
}

/** Like allow_password_grant: the policy puts the grant into grant_types; the grant without a policy is refused. */
function checkTokenExchange(value: unknown, metadata: Record<string, unknown>): void {
  const grantTypes = Array.isArray(metadata.grant_types) ? (metadata.grant_types as unknown[]) : [];
  if (value === undefined || value === null) {
    if (grantTypes.includes(TOKEN_EXCHANGE_GRANT)) invalid('grant_types', 'may contain token exchange only with a token_exchange policy');
    return;
  }
  const { apis, trusted_clients: trusted } = value as { apis?: unknown; trusted_clients?: unknown };
  const strings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === 'string' && item !== '');
  if (typeof value !== 'object' || !strings(apis) || !strings(trusted) || !(apis as string[]).every((api) => URL.canParse(api))) {
    invalid('token_exchange', 'must be { apis: [API identifiers], trusted_clients: [client ids] }');
  }
  if (metadata.token_endpoint_auth_method === 'none') invalid('token_exchange', 'is for confidential clients only');
  if (!grantTypes.includes(TOKEN_EXCHANGE_GRANT)) metadata.grant_types = [...grantTypes, TOKEN_EXCHANGE_GRANT];
}

/** The client's token exchange policy, when it has one. */
export function tokenExchangePolicy(client: object | undefined): TokenExchangePolicy | undefined {
  const value = clientProperty(client, 'token_exchange') as TokenExchangePolicy | undefined | null;
  return value === undefined || value === null ? undefined : value;
}

/** Reads a Gatehouse property off a client as oidc-provider hands it to hooks. */
export function clientProperty(client: object | undefined, key: GatehouseClientProperty): unknown {
  return client === undefined ? undefined : (client as Record<string, unknown>)[key];
}

export function clientFlag(client: object | undefined, key: GatehouseClientProperty): boolean {
  return clientProperty(client, key) === true;
}

export function clientList(client: object | undefined, key: GatehouseClientProperty): string[] {
  const value = clientProperty(client, key);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
