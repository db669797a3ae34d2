/**
 * The problems an input can have, each with a stable code and its English text (`{name}`
 * placeholders for the values it names). Error details carry the code and the values
 * (`details: [{path, message, code, params}]`) so a client shows the problem in its reader's
 * language (the console: src/console/web/locales, `problem.<code>`); `message` stays the
 * English text for API users and the CLI.
 *
 * Modules throw English text as before (zod messages, `invalid(path, message)`); the text is
 * matched to its entry here when the error is answered (detailCode), so a code always comes
 * with exactly the text the API has documented. A text that matches no entry gets no code and
 * a client shows the English message. test/unit/problem-codes.test.ts checks that every
 * literal message under the admin API's modules has an entry, and that the console has a
 * string for every code in every language.
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
  too_many: 'must list at most {max}',
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
  not_json: 'not valid JSON',
  not_json_content_type: 'expected application/json',
  nothing_to_change: 'name at least one field to change',
  entries_length: 'entries must be 1-128 characters',
  already_in_use: 'already in use',
  nul_character: 'must not contain a NUL character',

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

  // APIs.
  scope_tokens: 'scope names are printable ASCII without spaces or quotes',
  admin_api_built_in: 'the admin API is built in and cannot be changed',
  unknown_client: 'no client with id {client_id}',
  api_exists: 'an API with identifier {identifier} already exists',

  // Roles and groups.
  no_spaces: 'no spaces',
  role_exists: 'role {name} already exists',
  group_exists: 'group {name} already exists',
  unknown_role: 'no role named "{name}" (create it first)',
  unknown_group: 'no group named "{name}" (create it first)',

  // Users.
  password_too_short: 'must be at least {limit} characters',
  password_too_long: 'must be at most {limit} characters',
  password_digits: 'must contain at least {limit} digit(s)',
  password_lowercase: 'must contain at least {limit} lowercase letter(s)',
  password_uppercase: 'must contain at least {limit} uppercase letter(s)',
  password_special: 'must contain at least {limit} special character(s) (neither a letter nor a digit)',
  password_not_username: 'must not be the username',
  password_not_email: 'must not be the email address',
  password_history: 'must not be one of the last {limit} passwords',
  birthdate: 'must be YYYY-MM-DD, 0000-MM-DD or YYYY',
  calendar_date: 'must be a real calendar date',
  time_zone: 'must be an IANA time zone such as Europe/Paris',
  language_tag: 'must be a BCP 47 language tag such as en-US',
  phone_number: 'must be an E.164 number such as +16045551234',
  address_empty: 'must have at least one field (send null to clear the address)',

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

  // Settings.
  email_domain: 'must be an email domain such as example.com',
  below_min_length: 'must be at least password_min_length ({min})',
  below_required_classes: 'must be at least the required digits, lowercase, uppercase and special characters together ({min})',
  below_lockout_seconds: 'must be at least lockout_seconds ({min})',
  whole_seconds: 'must be a whole number of seconds',
  seconds: 'must be a number of seconds',
  pinned: '{setting}: set by the environment variable {variable}, so it cannot be changed here (unset {variable} and restart to manage it here)',

  // Audit log and lockouts.
  event_type: 'unknown event type (see the README for the list)',
  event_id: "an event id (the previous page's next)",
  subject_or_ip: 'give exactly one of subject and ip',
} as const;

export type ProblemCode = keyof typeof PROBLEMS;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];
export type ProblemParams = Readonly<Record<string, string | number>>;

/** The names a code's text fills in (`{min}`), in order, without repeats. */
export function problemParams(code: ProblemCode): string[] {
  return [...new Set([...PROBLEMS[code].matchAll(/\{(\w+)\}/g)].map((match) => match[1]!))];
}

/** The English text of a problem with its values filled in. */
export function problemText(code: ProblemCode, params: ProblemParams = {}): string {
  return PROBLEMS[code].replace(/\{(\w+)\}/g, (_match, name: string) => String(params[name] ?? ''));
}

/** Values that are always whole numbers (`must list at most 100 roles` is not `too_many`). */
const NUMBERS = new Set(['min', 'max', 'limit']);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Texts without values first (exact), then fewer values before more, more fixed text before less: the most specific entry wins.
const MATCHERS = PROBLEM_CODES.map((code) => {
  const names: string[] = [];
  const source = PROBLEMS[code]
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return escape(part);
      if (names.includes(name)) return `\\k<${name}>`;
      names.push(name);
      return NUMBERS.has(name) ? `(?<${name}>\\d+)` : `(?<${name}>.+?)`;
    })
    .join('');
  return { code, names, literal: PROBLEMS[code].replace(/\{\w+\}/g, '').length, pattern: new RegExp(`^${source}$`, 's') };
}).sort((a, b) => a.names.length - b.names.length || b.literal - a.literal);

/** The code and values of an English problem text, or undefined when no entry says it. */
export function problemOf(message: string): { code: ProblemCode; params?: ProblemParams } | undefined {
  for (const { code, names, pattern } of MATCHERS) {
    const match = pattern.exec(message);
    if (match === null) continue;
    if (names.length === 0) return { code };
    const params: Record<string, string | number> = {};
    for (const name of names) {
      const value = match.groups![name]!;
      params[name] = /^\d+$/.test(value) ? Number(value) : value;
    }
    return { code, params };
  }
  return undefined;
}
