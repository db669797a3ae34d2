import { attributeNameProblem } from '../accounts/custom-attributes.ts';
import { claimPath, overlaps, topClaim, type ClaimPath } from '../claims/claim-path.ts';
import type { JsonType } from '../claims/json-types.ts';
import { claimScopeCreateSchema, descriptionSchema, mapperSchema, STANDARD_SCOPES, type ClaimScopeInput } from '../claims/spec.ts';
import { isObject, list, text, type Json, type UnmappedItem } from './export-json.ts';

/**
 * Keycloak client scopes (`clientScopes`) as what Gatehouse has for them:
 *
 * - Keycloak's built-in scopes: `profile`, `email`, `address`, `phone`, `offline_access`, `roles`
 *   are Gatehouse's own scopes of those names; `acr`, `basic` (sub, auth_time) and `web-origins`
 *   need none (every ID token carries acr, sub and auth_time; web origins are the client's
 *   `web_origins`); `service_account`'s client_id is in every client_credentials token. The others
 *   (`microprofile-jwt`, `organization`, the SAML ones) have no counterpart: reported when an
 *   imported client uses them.
 * - Custom scopes with `oidc-usermodel-attribute-mapper` (User Attribute) and
 *   `oidc-hardcoded-claim-mapper` (Hardcoded claim) mappers become claim scopes (src/claims/),
 *   checked by the admin API's rules; a mapper of another type, or one those rules refuse, is
 *   reported by name and left out; a scope whose name they refuse is reported and not imported.
 *   The mapper's settings carry over: the Token Claim Name (nested: `org.unit`, `\.` a literal
 *   dot), the Claim JSON Type of a user attribute, *Add to ID token / access token / userinfo /
 *   token introspection* (without the introspection setting, as access token: Keycloak's rule).
 *   *Add to lightweight access token* (`lightweight.claim`) needs nothing: Gatehouse has no
 *   lightweight access tokens, its access tokens carry every claim *Add to access token* puts there.
 *
 * `names`: each Keycloak scope → the Gatehouse scope a client's `scope` lists for it (undefined: none).
 */

export interface PlannedClaimScope {
  readonly name: string;
  /** As the admin API takes it (POST /claim-scopes), already checked against its schema. */
  readonly input: ClaimScopeInput;
}

export interface MappedClientScopes {
  readonly claimScopes: readonly PlannedClaimScope[];
  readonly names: ReadonlyMap<string, string>;
  /** Built-in scopes with no counterpart → why: reported by mapClients for the clients that use them. */
  readonly without: ReadonlyMap<string, string>;
  /** Whether a scope a client names is accounted for here (mapped, not needed, or reported); mapClients reports the others. */
  isKnown(name: string): boolean;
}

const SAME_NAME = ['profile', 'email', 'address', 'phone', 'offline_access', 'roles'];
/** Built-in scopes whose claims Gatehouse gives without a scope. */
const NOT_NEEDED = ['acr', 'basic', 'web-origins', 'service_account'];
const WITHOUT: Readonly<Record<string, string>> = {
  'microprofile-jwt': "MicroProfile JWT's upn and groups (realm roles) claims are not given (Gatehouse's roles scope gives the roles, groups the group paths)",
  organization: 'Keycloak organizations are not supported: the organization claim is not given',
};
/** Keycloak's user properties (not attributes): Gatehouse has them as standard claims. */
const USER_PROPERTIES: Readonly<Record<string, string>> = { username: 'preferred_username', email: 'email', firstName: 'given_name', lastName: 'family_name', emailVerified: 'email_verified' };
const USER_ATTRIBUTE_MAPPER = 'oidc-usermodel-attribute-mapper';
const HARDCODED_MAPPER = 'oidc-hardcoded-claim-mapper';

const flag = (config: Json, key: string) => config[key] === 'true' || config[key] === true;
/**
 * Keycloak's Claim JSON Type of a user attribute → Gatehouse's json_type. Keycloak converts only
 * String, long, int, boolean and JSON (OIDCAttributeMapperHelper.convertToType); any other type — a
 * `double` written through its REST API — it emits as the attribute's text, unconverted: a string here too.
 */
const ATTRIBUTE_JSON_TYPES: Readonly<Record<string, JsonType>> = { '': 'string', String: 'string', long: 'long', int: 'int', boolean: 'boolean', JSON: 'json', double: 'string' };

/** Java's Long.valueOf / Integer.valueOf: digits with an optional sign, within range (a long as far as a JSON number keeps it exact). */
const WHOLE_RANGE: Readonly<Record<string, number>> = { long: Number.MAX_SAFE_INTEGER, int: 2 ** 31 - 1 };

/** The first problem the admin API's schema finds, as a sentence (`claim: is a standard or protocol claim`). */
function firstProblem(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return issue === undefined ? 'refused' : `${issue.path.map(String).join('.') || 'value'}: ${issue.message}`;
}

/** A hardcoded claim's value in its JSON type; a reason when it has none Gatehouse takes. */
function hardcodedValue(value: string | undefined, type: string): { value: string | number | boolean } | { reason: string } {
  if (value === undefined) return { reason: 'no claim value' };
  // Keycloak emits the text of a type it does not convert (double) as it is.
  if (type === 'String' || type === '' || type === 'double') return { value };
  const max = WHOLE_RANGE[type];
  if (max !== undefined) {
    const number = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
    // Keycloak fails every token of the scope on one it cannot convert: left out, reported.
    return number >= -max - (type === 'int' ? 1 : 0) && number <= max ? { value: number } : { reason: `claim value ${value} is not a ${type}` };
  }
  // Boolean.valueOf: any case.
  if (type === 'boolean') return /^(true|false)$/i.test(value) ? { value: value.toLowerCase() === 'true' } : { reason: `claim value ${value} is not a boolean` };
  return { reason: `JSON type ${type} is not supported (a text, number or boolean)` };
}

/** One Keycloak protocol mapper as a claim-scope mapper (the API's shape), or why not. */
function claimMapper(mapper: Json): { mapper: unknown } | { reason: string } {
  const type = text(mapper.protocolMapper) ?? '';
  const config = isObject(mapper.config) ? mapper.config : {};
  const accessToken = flag(config, 'access.token.claim');
  // Keycloak's rule for a mapper without the setting (written before it existed): as the access token.
  const introspection = config['introspection.token.claim'] === undefined ? accessToken : flag(config, 'introspection.token.claim');
  const uses = { id_token: flag(config, 'id.token.claim'), access_token: accessToken, introspection, userinfo: flag(config, 'userinfo.token.claim') };
  const claim = text(config['claim.name']) ?? '';
  const jsonType = text(config['jsonType.label']) ?? '';
  if (type === USER_ATTRIBUTE_MAPPER) {
    const attribute = text(config['user.attribute']) ?? '';
    const property = USER_PROPERTIES[attribute];
    if (property !== undefined) return { reason: `reads the user's ${attribute}, which Gatehouse gives as the standard claim ${property} (profile or email scope)` };
    const nameProblem = attributeNameProblem(attribute);
    if (nameProblem !== undefined) return { reason: `user attribute ${attribute}: ${nameProblem === 'reserved_claim_name' ? 'a standard claim in Gatehouse, given by its standard scope' : 'not a custom attribute name Gatehouse takes'}` };
    const jsonTypeOf = ATTRIBUTE_JSON_TYPES[jsonType];
    if (jsonTypeOf === undefined) return { reason: `JSON type ${jsonType} is not supported (String, long, int, boolean, JSON)` };
    return { mapper: { type: 'user_attribute', claim, attribute, multivalued: flag(config, 'multivalued'), json_type: jsonTypeOf, ...uses } };
  }
  if (type === HARDCODED_MAPPER) {
    const value = hardcodedValue(text(config['claim.value']), jsonType);
    if ('reason' in value) return value;
    return { mapper: { type: 'hardcoded', claim, value: value.value, ...uses } };
  }
  return { reason: `mapper type ${type || 'unknown'} is not supported (User Attribute and Hardcoded claim mappers are)` };
}

export function mapClientScopes(document: Json, unmapped: UnmappedItem[]): MappedClientScopes {
  // Gatehouse's own scopes whether or not the export lists their definitions (a partial export may not).
  const names = new Map<string, string>(SAME_NAME.map((name) => [name, name]));
  const without = new Map<string, string>();
  const claimScopes: PlannedClaimScope[] = [];
  const claims = new Map<string, string>();
  for (const scope of list(document.clientScopes)) {
    if (!isObject(scope) || typeof scope.name !== 'string') continue;
    const { name } = scope;
    const note = (reason: string) => unmapped.push({ kind: 'client scope', name, reason });
    if (SAME_NAME.includes(name) || NOT_NEEDED.includes(name)) continue;
    const missing = WITHOUT[name];
    if (missing !== undefined) {
      without.set(name, missing);
      continue;
    }
    if (scope.protocol === 'saml') {
      without.set(name, 'a SAML scope: Gatehouse speaks OpenID Connect only');
      continue;
    }
    if ((STANDARD_SCOPES as readonly string[]).includes(name.toLowerCase())) {
      // Named like one of Gatehouse's own (`groups`, `admin`): clients get Gatehouse's.
      names.set(name, name.toLowerCase());
      note(`named like Gatehouse's own ${name.toLowerCase()} scope: clients get Gatehouse's (README "Claims"); its mappers are not imported`);
      continue;
    }
    const attributes = isObject(scope.attributes) ? scope.attributes : {};
    const consentText = text(attributes['consent.screen.text']);
    const mappers: unknown[] = [];
    const paths: Array<{ claim: string; path: ClaimPath }> = [];
    for (const raw of list(scope.protocolMappers)) {
      if (!isObject(raw)) continue;
      const mapperName = text(raw.name) ?? '?';
      const mapped = claimMapper(raw);
      if ('reason' in mapped) {
        note(`mapper ${mapperName}: ${mapped.reason}; not imported`);
        continue;
      }
      const checked = mapperSchema.safeParse(mapped.mapper);
      if (!checked.success) {
        note(`mapper ${mapperName}: ${firstProblem(checked.error)}; not imported`);
        continue;
      }
      const top = topClaim(checked.data.claim);
      const holder = claims.get(top);
      if (holder !== undefined && holder !== name) {
        note(`mapper ${mapperName}: claim ${top} is given by client scope ${holder} already (a claim comes from one scope in Gatehouse); not imported`);
        continue;
      }
      const path = claimPath(checked.data.claim);
      const other = paths.find((earlier) => overlaps(earlier.path, path));
      if (other !== undefined) {
        note(`mapper ${mapperName}: claim ${checked.data.claim} ${other.path.length === path.length ? 'is given by another mapper of this scope' : `lies inside or around claim ${other.claim} of another mapper of this scope`} (one would overwrite the other); not imported`);
        continue;
      }
      claims.set(top, name);
      paths.push({ claim: checked.data.claim, path });
      mappers.push(mapped.mapper);
    }
    // A `${key}` text is one of Keycloak's message keys, not words a user could read.
    const description = consentText === undefined || consentText.startsWith('${') ? undefined : descriptionSchema.safeParse({ en: consentText });
    if (description?.success === false) note(`consent screen text: ${firstProblem(description.error)}; not imported (the consent page shows the scope's name)`);
    const input = claimScopeCreateSchema.safeParse({ name, ...(description?.success === true ? { description: description.data } : {}), mappers });
    if (!input.success) {
      note(`not imported as a claim scope: ${firstProblem(input.error)}`);
      continue;
    }
    names.set(name, name);
    claimScopes.push({ name, input: input.data });
  }
  const seen = new Set(list(document.clientScopes).flatMap((scope) => (isObject(scope) && typeof scope.name === 'string' ? [scope.name] : [])));
  return { claimScopes, names, without, isKnown: (name) => names.has(name) || NOT_NEEDED.includes(name) || without.has(name) || seen.has(name) };
}
