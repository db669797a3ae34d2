/**
 * Every problem an admin API answer can name, each with a stable code and its English text
 * (`{name}` placeholders for the values it names). The code is the source of truth: the code
 * that refuses an input names the problem (`invalid('subject', 'subject_or_ip')`,
 * `new NotFoundError('user_not_found', {id})`, a zod refinement with `says('no_spaces')`), and
 * the English message is made from it here, so the text can be reworded freely. Zod's own
 * checks (types, lengths, enums) get their code from the shape (src/errors/normalize.ts),
 * never from its wording.
 *
 * Answers carry the code and values: `details: [{path, message, code, params}]` for a field, and
 * `code`/`params` beside `error` for an error as a whole (a 404, a 409 without a field, a 503), so
 * a client says the problem in its reader's language (the console: src/console/web/locales,
 * `problem.<code>`); `message` stays the English text for API users and the CLI.
 * test/unit/problem-codes.test.ts checks that the console has a string for every code in every
 * language, and that no module writes a problem's English itself.
 */
export const PROBLEMS = {
  // Shapes any field can get wrong (zod's own checks).
  required: 'is required',
  unknown_field: 'unknown field',
  empty: 'must not be empty',
  too_short: 'must be at least {min} characters',
  too_long: 'must be at most {max} characters',
  too_small: 'must be at least {min}',
  too_big: 'must be at most {max}',
  too_few: 'must have at least {min} entries',
  too_many: 'must have at most {max} entries',
  not_boolean: 'must be true or false',
  not_number: 'must be a number',
  not_integer: 'must be a whole number',
  not_text: 'must be text',
  not_list: 'must be a list',
  not_object: 'must be an object',
  one_of: 'must be one of {values}',
  bad_format: 'has the wrong format',
  not_url: 'must be a URL',
  not_email: 'must be an email address',
  not_datetime: 'must be a date and time such as 2026-01-31T09:00:00Z',
  not_json: 'the request body is not valid JSON',
  not_json_at: 'the request body is not valid JSON at line {line}, column {column}: {reason}',
  json_file_at: 'is not valid JSON at line {line}, column {column}: {reason}',
  duplicate_member: 'is given twice in its object: again at line {line}, column {column} (which one counts would be a guess; keep one)',
  not_utf8: 'the request body is not UTF-8 text (JSON is always UTF-8: save the file as UTF-8)',
  not_json_content_type: 'the request body must be JSON (Content-Type: application/json)',
  compressed_body: 'the request body must not be compressed (Content-Encoding: {coding}): send it as it is',
  nothing_to_change: 'name at least one field to change',
  entries_length: 'entries must be 1-128 characters',
  already_in_use: 'already in use',
  nul_character: 'must not contain a NUL character',
  hidden_character: 'must not contain control characters or invisible formatting characters (such as a right-to-left override)',
  lone_surrogate: 'must not contain half of a character (a lone UTF-16 surrogate): it cannot be stored, and would turn into �',
  invalid: 'is not valid',

  // Addresses.
  uri: 'must be an absolute URI without a fragment',
  uri_example: 'must be an absolute URI without a fragment, e.g. https://api.example.com',
  redirect_uri: 'must be an absolute URI without a fragment (javascript:, data:, file: and the like are refused)',
  redirect_uri_web: 'must be an absolute http(s) URI without a fragment',
  redirect_uri_web_scheme: 'must be an absolute http(s) URI without a fragment (custom schemes are for application_type native)',
  redirect_uri_http_loopback: 'http is for loopback addresses only (http://127.0.0.1/... or http://[::1]/...)',
  redirect_uri_https_loopback: 'use http on loopback addresses (https://127.0.0.1 cannot be claimed)',
  redirect_uri_private_scheme: 'a private-use scheme must be a reverse domain name, such as com.example.app:/callback',
  origin: 'must be an origin such as https://app.example.com',
  web_url: 'must be an http(s) URL without a fragment',
  http_url: 'must be an http(s) URL',
  upstream_url: 'must be an https URL without a fragment (http only for localhost)',

  // Clients.
  scope_list: 'space-separated scope names',
  scope_names: 'scope names',
  public_keys_only: 'public keys only (no private or symmetric key members)',
  client_id_format: 'printable ASCII, 1-128 characters',
  confidential_only: 'is for confidential clients only',
  first_party_only: 'is for first-party clients only (set first_party: true)',
  admin_api_admin_only: 'the admin API is only for admin clients (set admin: true)',
  unknown_api: 'no API with identifier {identifier}',
  not_in_apis: 'must be one of apis',
  jwks_or_jwks_uri: 'give jwks or jwks_uri, not both',
  jwks_required: 'private_key_jwt needs jwks or jwks_uri',
  public_uses_none: 'a public client uses none',
  none_is_public: 'none makes a public client',
  public_no_client_credentials: 'a public client cannot use client_credentials',
  redirect_uris_required: 'required for authorization_code',
  public_stays_public: 'a public client stays public (create a confidential client instead)',
  console_client_built_in: "the admin console's client is built in and cannot be deleted",
  account_client_built_in: "the account page's client is built in and cannot be deleted",
  no_client_secret: 'this client does not authenticate with a secret',
  client_exists: 'a client with id {client_id} already exists',
  not_in_scope: "{scope} is not one of the client's allowed scopes (scope): add it there first",
  unknown_scope: 'no scope named {scope} (a standard scope or a claim scope)',
  admin_service_account_role: "admin is Gatehouse's administrator role: a service account cannot hold it",
  asked_only_scope: '{scope} is given only to a request that asks for it, never by default',

  // APIs.
  scope_tokens: 'scope names are printable ASCII without spaces or quotes',
  admin_api_built_in: 'the admin API is built in and cannot be changed',
  unknown_client: 'no client with id {client_id}',
  api_exists: 'an API with identifier {identifier} already exists',

  // Roles and groups.
  no_spaces: 'no spaces',
  name_spacing: 'may hold single spaces between words, but no tabs, line breaks, other spaces or two spaces in a row',
  role_exists: 'role {name} already exists',
  group_exists: 'group {name} already exists',
  unknown_role: 'no role named "{name}" (create it first)',
  unknown_group: 'no group named "{name}" (create it first)',

  // Users.
  username_format: 'must be 1-64 letters, digits, ".", "_" or "-"',
  username_reserved: 'must not start with "{prefix}" (any case): that is the name a client\'s service account has in its tokens',
  password_too_short: 'must be at least {limit} characters',
  password_too_long: 'must be at most {limit} characters',
  password_digits: 'must contain at least {limit} digits',
  password_lowercase: 'must contain at least {limit} lowercase letters',
  password_uppercase: 'must contain at least {limit} uppercase letters',
  password_special: 'must contain at least {limit} special characters (neither a letter nor a digit)',
  password_not_username: 'must not be the username',
  password_not_email: 'must not be the email address',
  password_history: 'must not be one of the last {limit} passwords',
  birthdate: 'must be YYYY-MM-DD, 0000-MM-DD or YYYY',
  calendar_date: 'must be a real calendar date',
  time_zone: 'must be an IANA time zone such as Europe/Paris',
  language_tag: 'must be a BCP 47 language tag such as en-US',
  phone_number: 'must be an E.164 number such as +16045551234',
  address_empty: 'must have at least one field (send null to clear the address)',
  unknown_required_action: '"{value}" is not a required action (one of {values})',

  // Custom attributes and claim scopes (src/accounts/custom-attributes.ts, src/claims/).
  attribute_name: 'must be 1-64 letters, digits, "_" or "-", starting with a letter',
  reserved_claim_name: 'is a standard or protocol claim (sub, email, roles, ...): choose another name',
  builtin_name: 'is a name every object has built in (constructor, prototype, toString, valueOf, ...): choose another name',
  attribute_value: 'must be a non-empty text or a list of non-empty texts',
  attributes_too_large: 'custom attributes must total at most {max} bytes (as JSON)',
  claim_scope_name: 'must be 1-64 letters, digits, "_", "-", "." or ":", starting with a letter',
  reserved_scope_name: 'is a standard scope (openid, profile, email, ...): choose another name',
  claim_taken: 'is already given by scope {scope}',
  claim_twice: 'is given twice in this scope',
  mapped_claim_name: 'must be levels of 1-64 letters, digits, "_", "-", ":" or "/" joined by "." (at most 5, none empty; the first starts with a letter), "\\." for a literal dot',
  claim_overlaps: 'lies inside or around claim {claim} of this scope (one of them would overwrite the other)',

  // A user's own account (the account page).
  not_current_password: 'is not your current password',
  totp_code_rejected: 'that code did not work',
  passkey_ticket_expired: 'expired or not yours; start again',
  passkey_rejected: 'the passkey was not accepted',

  // Upstream providers.
  claim_name: 'a claim name (dots reach into objects: realm_access.roles)',
  domain_name: 'a domain name such as example.com',
  alias: 'lowercase letters, digits and dashes (it becomes part of the callback URL)',
  scope_token: 'a scope token',
  tenant: 'a tenant id or domain',
  issuer_required: 'is required for kind oidc (the upstream issuer; endpoints come from its discovery document)',
  openid_scope_required: 'must include openid for kind oidc',
  required_for_oauth2: 'is required for kind oauth2',
  private_key_required: 'is required for token_endpoint_auth_method private_key_jwt',
  client_secret_required: 'is required for token_endpoint_auth_method {method}',
  kind_required: 'is required (oidc or oauth2) unless a preset gives it',
  keycloak_realm_url: 'the keycloak preset needs the realm URL (https://kc.example.com/realms/<realm>)',
  upstream_exists: 'an upstream provider with alias {alias} already exists',
  same_sign_in_name: 'is the same name to sign in with as {other} ({name}): two users cannot share one',

  // Settings.
  email_domain: 'must be an email domain such as example.com',
  below_min_length: 'must be at least password_min_length ({min})',
  below_required_classes: 'must be at least the required digits, lowercase, uppercase and special characters together ({min})',
  below_lockout_seconds: 'must be at least lockout_seconds ({min})',
  whole_seconds: 'must be a whole number of seconds',
  admin_default_role: "admin is Gatehouse's administrator role: as a default role every new user, self-registered ones included, would administer Gatehouse",
  seconds: 'must be a number of seconds',
  pinned: '{setting}: set by the environment variable {variable}, so it cannot be changed here (unset {variable} and restart to manage it here)',

  // Audit log and lockouts.
  event_type: 'unknown event type (see the README for the list)',
  event_id: "an event id (the previous page's next)",
  subject_or_ip: 'give exactly one of subject and ip',
  ip_address: 'must be an IPv4 or IPv6 address, or an IPv6 /64 block as the lockout list shows it',

  // Errors as a whole (no field): what a path names does not exist (404).
  route_not_found: 'no admin route {method} {path}',
  account_route_not_found: 'no account route {method} {path}',
  user_not_found: 'user {id} does not exist',
  client_not_found: 'client {id} does not exist',
  api_not_found: 'API {id} does not exist',
  claim_scope_not_found: 'claim scope {id} does not exist',
  role_not_found: 'role {id} does not exist',
  group_not_found: 'group {id} does not exist',
  session_not_found: 'session {id} does not exist',
  grant_not_found: 'grant {id} does not exist',
  passkey_not_found: 'passkey {id} does not exist',
  invitation_not_found: 'user {id} has no invitation that still works',
  upstream_not_found: 'upstream provider {id} does not exist',
  upstream_link_not_found: 'upstream link {id} does not exist',
  app_not_found: 'app {id} does not exist',
  consent_not_found: 'the user has no consent or grant for client {id}',
  totp_not_found: 'authenticator app of user {id} does not exist',
  settings_group_not_found: 'no settings group {id}',
  no_keys_yet: 'no keys yet: start the server once to create them',
  health_server_only: 'health is reported by a running server only',
  settings_server_only: 'settings are reported by a running server only',

  // ... clashes with the state of things (409).
  user_no_email: 'the user has no email address',
  claim_scope_exists: 'a claim scope named {scope} exists already',
  invite_with_password: 'an invited user chooses their own password: leave password out with invite',
  invite_needs_email: 'an invitation is mailed: an email address is required with invite',
  redirect_uri_not_registered: 'is not one of the redirect URIs registered for client {client_id}',
  email_already_verified: "the user's email address is already verified",
  mail_not_configured: 'email is not configured on this server (GATEHOUSE_SMTP_URL)',
  caches_not_shared: 'without Redis (REDIS_URL) no notice reaches the other instances: each cache expires on its own TTL (GATEHOUSE_CLIENT_CACHE_TTL, GATEHOUSE_ACCOUNT_CACHE_TTL, GATEHOUSE_SESSION_CACHE_TTL); restart the instances to clear them at once',
  user_disabled: 'the user is disabled',
  settings_busy: 'these settings ({group}) are being changed by someone else at the same time; try again',
  upstream_already_linked: 'this upstream account is already linked',
  password_exists: 'you have a password already; change it with the current one',
  totp_exists: 'an authenticator app is already set up: remove it first',
  recovery_codes_need_factor: 'recovery codes back up a second factor: set one up first',
  factor_required: 'your account requires a second factor; add another one before removing this one',
  last_sign_in_method: 'this is your only way to sign in: set a password, add a passkey or connect another account first',
  last_admin: 'this would leave no enabled user with the admin role, and nobody could sign in to the console or the admin API as a person: give another user the admin role first',

  // Access (401, 403): the admin API's and the account API's tokens and callers.
  token_missing: 'a Bearer access token for the admin API is required',
  token_invalid: 'the access token is invalid, expired or not for the admin API',
  token_malformed: 'malformed access token',
  token_sender_constrained: 'sender-constrained (DPoP) tokens are not accepted here',
  token_revoked: 'the access token has been revoked',
  token_session_ended: 'the session of this access token has ended',
  token_client_gone: 'the client of this token no longer exists',
  token_user_gone: 'the user of this token is disabled or gone',
  scope_missing: 'the access token lacks the {scope} scope',
  not_admin_client: 'the client is not an admin client',
  role_missing: 'the user lacks the {role} role',
  account_token_missing: 'a Bearer access token of the account page is required',
  account_token_invalid: 'the access token is invalid, expired or revoked',
  account_token_other_client: 'the account API takes only tokens of the account page',
  token_no_user: 'the access token names no user',
  sign_in_again: 'sign in again to change how you sign in',
  email_changes_limited: 'too many email address changes; try again later',
  email_resends_limited: 'the link was sent again too often; try again later',
  cross_origin: 'cross-origin requests are not accepted',

  // ... or with the request or the server as a whole.
  not_keycloak_export: 'not a Keycloak realm export (expected a JSON object with "realm", as written by kc.sh export)',
  keycloak_realm_not_imported: 'realm {realm} has not been imported here: import its realm file ({realm}-realm.json) first, then its users files',
  keycloak_other_realm: 'holds users of realm {found}, not of {realm}',
  keycloak_too_deep: 'nested more than {max} levels deep',
  too_deep: 'nested more than {max} levels deep',
  registration_off: 'dynamic client registration is off (GATEHOUSE_REGISTRATION=false)',
  body_too_large: 'request body too large',
  keycloak_body_too_large:
    'request body too large: this endpoint takes a realm export of at most {limit}; import a bigger realm with the CLI, which streams it (gatehouse import --keycloak FILE), or export it with kc.sh export --dir and import the directory (gatehouse import --keycloak DIR) or its files one request each',
  unavailable: 'the service is temporarily unavailable, try again shortly',
  internal_error: 'internal error',
  request_failed: 'the request failed',
} as const;

export type ProblemCode = keyof typeof PROBLEMS;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];
export type ProblemParams = Readonly<Record<string, string | number>>;

/**
 * The English for a count of one where it is not the text above's ("at least 1 digit", not
 * "1 digits"), chosen by the number the text counts: its `limit`, else `min`, else `max` (as the
 * console's problemCount picks its languages' forms). Code and values stay the same.
 */
const WHEN_ONE: Partial<Record<ProblemCode, string>> = {
  too_short: 'must be at least {min} character',
  too_long: 'must be at most {max} character',
  too_few: 'must have at least {min} entry',
  too_many: 'must have at most {max} entry',
  password_too_short: 'must be at least {limit} character',
  password_too_long: 'must be at most {limit} character',
  password_digits: 'must contain at least {limit} digit',
  password_lowercase: 'must contain at least {limit} lowercase letter',
  password_uppercase: 'must contain at least {limit} uppercase letter',
  password_special: 'must contain at least {limit} special character (neither a letter nor a digit)',
  password_history: 'must not be the current password',
  keycloak_too_deep: 'nested more than {max} level deep',
  too_deep: 'nested more than {max} level deep',
};

/** A problem as code and values; its English text comes from the catalogue (problemText). */
export interface Problem {
  readonly code: ProblemCode;
  readonly params?: ProblemParams | undefined;
}

/** The names a code's text fills in (`{min}`), in order, without repeats. */
export function problemParams(code: ProblemCode): string[] {
  return [...new Set([...PROBLEMS[code].matchAll(/\{(\w+)\}/g)].map((match) => match[1]!))];
}

/** The English text of a problem with its values filled in. */
export function problemText(code: ProblemCode, params: ProblemParams = {}): string {
  const one = Number(params.limit ?? params.min ?? params.max) === 1 ? WHEN_ONE[code] : undefined;
  return (one ?? PROBLEMS[code]).replace(/\{(\w+)\}/g, (_match, name: string) => String(params[name] ?? ''));
}

/**
 * A zod refinement's problem: `.refine(check, says('no_spaces'))`. The issue carries the code
 * and values in `params` (src/errors/normalize.ts reads them); its message is the English text.
 */
export function says(code: ProblemCode, params: ProblemParams = {}): { message: string; params: { code: ProblemCode } & ProblemParams; abort?: boolean } {
  return { message: problemText(code, params), params: { ...params, code } };
}
