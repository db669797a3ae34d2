import { claimMappingSchema, presetValues, upstreamUrl, type ClaimMapping, type UpstreamSettings } from '../upstream/spec.ts';
import { isObject, list, text, type Json, type UnmappedItem } from './export-json.ts';
import type { RealmRoles } from './map-roles.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';

/**
 * Keycloak identity providers (identity brokering) as Gatehouse upstream providers, their
 * mappers as claim, role and group mapping, and users' federated identities as upstream links.
 * What a provider keeps is listed in `mapped`; everything else goes to `unmapped` with the
 * reason. A client secret the export masks (`**********`, as the admin console's partial export
 * writes it), leaves out or keeps in a vault (`${vault.…}`) cannot be carried over: such a
 * provider is imported disabled and named in the report, to be enabled once its secret is set.
 *
 * - providerId `oidc` / `keycloak-oidc`: kind oidc with the issuer (endpoints and keys come from
 *   its discovery document); without an issuer, a `keycloak-oidc` issuer is the realm URL in
 *   front of `/protocol/openid-connect/auth`, and any other becomes kind oauth2 with its
 *   endpoints (userinfo, no ID-token validation) — reported.
 * - `google`, `microsoft`, `github`, `gitlab`: the preset of the same name (Google's
 *   `hostedDomain` becomes `allowed_domains`, Microsoft's tenant the issuer's tenant).
 * - `trustEmail` → `trust_email`. Keycloak's first broker login asks an existing user to prove
 *   the account before linking, as Gatehouse's linking does, so `link_by_email` stays off and
 *   `create_accounts` on (off for a `linkOnly` provider).
 * - sync mode `IMPORT` → mapping on the first sign-in only; `FORCE` and `LEGACY` → every sign-in.
 * - a `logoutUrl` (Keycloak logs out of the upstream too) → `upstream_logout`.
 * - `hideOnLogin` → `hide_on_login`: no button on the sign-in page; `kc_idp_hint` still reaches it.
 */

export interface PlannedUpstream {
  /** The provider's alias in Keycloak (Gatehouse's alias may differ: lowercase letters, digits, dashes). */
  readonly keycloakAlias: string;
  readonly settings: UpstreamSettings;
  /** The client secret from the export; undefined when masked, missing or in a vault. */
  readonly clientSecret: string | undefined;
  /** The export has no usable client secret: the provider stays disabled until an operator sets one. */
  readonly needsSecret: boolean;
  /** What was carried over, in words, for the report. */
  readonly mapped: readonly string[];
}

export interface PlannedLink {
  /** Gatehouse's alias of the provider. */
  readonly provider: string;
  readonly subject: string;
  readonly userId: string;
  readonly username: string;
  /** The upstream username Keycloak kept with the link. */
  readonly label: string | undefined;
}

const MASKED = '**********';
const ALIAS = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PRESET_IDS = new Set(['google', 'microsoft', 'github', 'gitlab']);
const GENERIC_IDS = new Set(['oidc', 'keycloak-oidc']);

const config = (provider: Json): Json => (isObject(provider.config) ? provider.config : {});
const flag = (value: unknown): boolean => value === true || value === 'true';

/** Keycloak aliases may hold capitals, dots and underscores; Gatehouse's are part of the callback path. */
function gatehouseAlias(alias: string): string | undefined {
  const candidate = alias
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return ALIAS.test(candidate) ? candidate : undefined;
}

function url(value: unknown): string | undefined {
  const candidate = text(value);
  return candidate !== undefined && upstreamUrl.safeParse(candidate).success ? candidate : undefined;
}

/** A Keycloak role reference (`role` or `<clientId>.<role>`) as a Gatehouse role label, when the export has it. */
function roleLabel(reference: string, roles: RealmRoles): string | undefined {
  if (roles.labels.has(reference)) return reference;
  for (let dot = reference.indexOf('.'); dot > 0; dot = reference.indexOf('.', dot + 1)) {
    const label = `${reference.slice(0, dot)}:${reference.slice(dot + 1)}`;
    if (roles.labels.has(label)) return label;
  }
  return undefined;
}

/** Why a role a mapper gives is not carried over: not in the export, or Gatehouse's administrator role (src/keycloak/map-roles.ts). */
function missingRole(reference: unknown): string {
  return reference === ADMIN_ROLE
    ? `role ${ADMIN_ROLE} is Gatehouse's administrator role (admin console and API): an import never gives it`
    : `role ${String(reference)} is not in the export`;
}

/** Why a hard-coded role or group is not carried over for a provider without an issuer of its own. */
const EVERYONE_NEEDS_ISSUER = 'a hard-coded role or group maps to a rule on the ID token\'s issuer (iss), which needs an OpenID Connect provider with an issuer of its own (not a preset, nor OAuth 2.0): give the role or group to the users, or map it from a claim';

/** `${CLAIM.preferred_username}` — a username template that is one claim and nothing else. */
function templateClaim(template: unknown): string | undefined {
  const match = /^\$\{CLAIM\.([^\s}]+)\}$/.exec(text(template) ?? '');
  return match?.[1];
}

interface MapperResult {
  readonly claims: Partial<ClaimMapping>;
  readonly roleRules: Array<{ claim: string; value: string; role: string }>;
  readonly groupRules: Array<{ claim: string; value: string; group: string }>;
}

/**
 * `issuer`: the provider's issuer when it is an OpenID Connect provider of its own (not a preset),
 * whose every ID token carries it as `iss` (the library checks it against the discovery document):
 * a hard-coded role or group — Keycloak gives it to everyone who signs in through the provider —
 * becomes a rule on that claim, which every sign-in through it meets.
 */
function mapMappers(keycloakAlias: string, mappers: Json[], roles: RealmRoles, mapped: string[], unmapped: UnmappedItem[], issuer: string | undefined): MapperResult {
  const result: MapperResult = { claims: {}, roleRules: [], groupRules: [] };
  for (const mapper of mappers) {
    const name = `${keycloakAlias}/${String(mapper.name)}`;
    const type = String(mapper.identityProviderMapper);
    const cfg = config(mapper);
    const skip = (reason: string) => unmapped.push({ kind: 'identity provider mapper', name, reason: `${type}: ${reason}` });
    const singleClaim = (): { claim: string; value: string } | undefined => {
      if (type === 'oidc-role-idp-mapper') {
        const claim = text(cfg.claim);
        const value = text(cfg['claim.value']);
        return claim === undefined || value === undefined ? undefined : { claim, value };
      }
      let pairs: unknown;
      try {
        pairs = JSON.parse(text(cfg.claims) ?? '[]');
      } catch {
        return undefined;
      }
      const only = list(pairs);
      if (only.length !== 1 || !isObject(only[0]) || flag(cfg['are.claim.values.regex'])) return undefined;
      const claim = text(only[0].key);
      const value = text(only[0].value);
      return claim === undefined || value === undefined ? undefined : { claim, value };
    };
    switch (type) {
      case 'oidc-role-idp-mapper':
      case 'oidc-advanced-role-idp-mapper': {
        const rule = singleClaim();
        const role = roleLabel(text(cfg.role) ?? '', roles);
        if (rule === undefined) skip('only one claim with one exact value (no regular expression) maps to a role rule');
        else if (role === undefined) skip(missingRole(cfg.role));
        else {
          result.roleRules.push({ ...rule, role });
          mapped.push(`mapper ${String(mapper.name)} → role rule ${rule.claim}=${rule.value} → ${role}`);
        }
        break;
      }
      case 'oidc-advanced-group-idp-mapper': {
        const rule = singleClaim();
        const group = text(cfg.group);
        if (rule === undefined) skip('only one claim with one exact value (no regular expression) maps to a group rule');
        else if (group === undefined || !roles.groups.has(group)) skip(`group ${String(cfg.group)} is not in the export`);
        else if (!roles.groupLabels.has(group)) skip(`group ${group} is not imported (its path is refused: reported with the groups)`);
        else {
          result.groupRules.push({ ...rule, group });
          mapped.push(`mapper ${String(mapper.name)} → group rule ${rule.claim}=${rule.value} → ${group}`);
        }
        break;
      }
      case 'oidc-user-attribute-idp-mapper': {
        const claim = text(cfg.claim);
        const attribute = text(cfg['user.attribute']);
        const target = attribute === 'email' ? 'email' : attribute === 'username' ? 'username' : attribute === 'picture' ? 'picture' : attribute === 'name' ? 'name' : undefined;
        if (claim === undefined || target === undefined) skip(`user attribute ${String(attribute)}: only email, username, name and picture come from an upstream claim`);
        else {
          result.claims[target] = claim;
          mapped.push(`mapper ${String(mapper.name)} → ${target} from claim ${claim}`);
        }
        break;
      }
      case 'oidc-username-idp-mapper': {
        const claim = templateClaim(cfg.template);
        if (claim === undefined) skip(`username template ${String(cfg.template)}: only a template of one claim (\${CLAIM.name}) maps`);
        else {
          result.claims.username = claim;
          mapped.push(`mapper ${String(mapper.name)} → username from claim ${claim}`);
        }
        break;
      }
      case 'hardcoded-role-idp-mapper': {
        const role = roleLabel(text(cfg.role) ?? '', roles);
        if (issuer === undefined) skip(EVERYONE_NEEDS_ISSUER);
        else if (role === undefined) skip(missingRole(cfg.role));
        else {
          result.roleRules.push({ claim: 'iss', value: issuer, role });
          mapped.push(`mapper ${String(mapper.name)} → role rule iss=${issuer} → ${role} (every sign-in through it)`);
        }
        break;
      }
      case 'oidc-hardcoded-group-idp-mapper': {
        const group = text(cfg.group);
        if (issuer === undefined) skip(EVERYONE_NEEDS_ISSUER);
        else if (group === undefined || !roles.groups.has(group)) skip(`group ${String(cfg.group)} is not in the export`);
        else if (!roles.groupLabels.has(group)) skip(`group ${group} is not imported (its path is refused: reported with the groups)`);
        else {
          result.groupRules.push({ claim: 'iss', value: issuer, group });
          mapped.push(`mapper ${String(mapper.name)} → group rule iss=${issuer} → ${group} (every sign-in through it)`);
        }
        break;
      }
      case 'hardcoded-user-session-attribute-idp-mapper':
      case 'hardcoded-attribute-idp-mapper':
        skip('hard-coded attributes are not mapped (set the attribute on the users, or map it from a claim)');
        break;
      default:
        skip('no equivalent in Gatehouse’s claim, role and group mapping');
    }
  }
  return result;
}

/** The identity providers of a realm export; `aliases` maps Keycloak's aliases to Gatehouse's. */
export function mapIdentityProviders(document: Json, roles: RealmRoles, unmapped: UnmappedItem[]): { providers: PlannedUpstream[]; aliases: Map<string, string> } {
  const providers: PlannedUpstream[] = [];
  const aliases = new Map<string, string>();
  const mappersOf = new Map<string, Json[]>();
  for (const mapper of list(document.identityProviderMappers)) {
    if (!isObject(mapper) || typeof mapper.identityProviderAlias !== 'string') continue;
    mappersOf.set(mapper.identityProviderAlias, [...(mappersOf.get(mapper.identityProviderAlias) ?? []), mapper]);
  }
  for (const raw of list(document.identityProviders)) {
    if (!isObject(raw) || typeof raw.alias !== 'string') continue;
    const keycloakAlias = raw.alias;
    const providerId = String(raw.providerId);
    const cfg = config(raw);
    const note = (reason: string) => unmapped.push({ kind: 'identity provider', name: keycloakAlias, reason });
    if (!PRESET_IDS.has(providerId) && !GENERIC_IDS.has(providerId)) {
      note(`provider ${providerId}: ${providerId === 'saml' ? 'SAML identity providers are' : 'this kind of identity provider is'} not supported (OpenID Connect, OAuth 2.0, Google, Microsoft, GitHub and GitLab are); not imported`);
      continue;
    }
    const alias = gatehouseAlias(keycloakAlias);
    if (alias === undefined || [...aliases.values()].includes(alias)) {
      note('its alias cannot become a Gatehouse alias (lowercase letters, digits and dashes, unique): not imported');
      continue;
    }
    const clientId = text(cfg.clientId);
    if (clientId === undefined) {
      note('no client id in the export: not imported');
      continue;
    }
    const mapped: string[] = [`providerId ${providerId}`, `client id`];
    if (alias !== keycloakAlias) mapped.push(`alias ${keycloakAlias} → ${alias}`);

    // Where the provider is: a preset, or its issuer, or its endpoints.
    let base: Partial<Omit<UpstreamSettings, 'claims'>> & { claims?: Partial<ClaimMapping> };
    if (PRESET_IDS.has(providerId)) {
      const tenant = text(cfg.tenant) ?? text(cfg.tenantId);
      const gitlabBase = providerId === 'gitlab' ? url(cfg.baseUrl) : undefined;
      base = presetValues(providerId as 'google', { tenant: tenant !== undefined && /^[A-Za-z0-9.-]{1,100}$/.test(tenant) ? tenant : undefined, base_url: gitlabBase });
      mapped.push(`preset ${providerId}${tenant === undefined ? '' : ` (tenant ${tenant})`}`);
      if (providerId === 'github' && (text(cfg.baseUrl) !== undefined || text(cfg.apiUrl) !== undefined)) note('GitHub Enterprise base and API URLs: not mapped (the github preset talks to github.com; set the endpoints with gatehouse idps update)');
    } else {
      // A Keycloak upstream's issuer is its realm URL, in front of its endpoints' paths.
      const realmUrl = providerId === 'keycloak-oidc' ? /^(.*)\/protocol\/openid-connect\/auth$/.exec(text(cfg.authorizationUrl) ?? '')?.[1] : undefined;
      const issuer = url(cfg.issuer) ?? url(realmUrl);
      if (issuer !== undefined) {
        base = { kind: 'oidc', issuer };
        mapped.push(`issuer ${issuer} (endpoints and keys from its discovery document)`);
      } else {
        const endpoints = { authorization_endpoint: url(cfg.authorizationUrl), token_endpoint: url(cfg.tokenUrl), userinfo_endpoint: url(cfg.userInfoUrl) };
        if (endpoints.authorization_endpoint === undefined || endpoints.token_endpoint === undefined || endpoints.userinfo_endpoint === undefined) {
          note('no issuer and not all of the authorization, token and user-info URLs (https): not imported');
          continue;
        }
        base = { kind: 'oauth2', ...endpoints, claims: { subject: 'sub' } };
        mapped.push('authorization, token and user-info endpoints');
        note('no issuer in the export: imported as an OAuth 2.0 provider (user-info endpoint, no ID-token validation); set its issuer with gatehouse idps update to use OpenID Connect discovery');
      }
    }

    // The client's credentials.
    const secret = text(cfg.clientSecret);
    const method = text(cfg.clientAuthMethod) ?? 'client_secret_basic';
    const authMethod: UpstreamSettings['token_endpoint_auth_method'] = method === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic';
    const setIt = `set it with gatehouse idps update ${alias} --client-secret-stdin, then enable it`;
    let clientSecret: string | undefined;
    if (method === 'client_secret_jwt' || method === 'private_key_jwt') {
      note(`client authentication ${method}: not carried over (Keycloak signs with its realm keys); imported disabled — give it a client secret (${setIt}) or a private key`);
    } else if (secret === undefined || secret === MASKED || secret.startsWith('${vault.')) {
      note(`client secret ${secret === undefined ? 'missing' : secret === MASKED ? 'masked (**********)' : 'kept in a Keycloak vault'} in the export: imported disabled — ${setIt}`);
    } else {
      clientSecret = secret;
      mapped.push(`client secret (${base.token_endpoint_auth_method ?? authMethod})`);
    }
    const needsSecret = clientSecret === undefined;

    // What Gatehouse asks for and trusts.
    const defaultScopes = (text(cfg.defaultScope) ?? '').split(/[\s,]+/).filter((scope) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope));
    let scopes = defaultScopes.length > 0 ? defaultScopes : [...(base.scopes ?? (base.kind === 'oidc' ? ['openid', 'profile', 'email'] : []))];
    if (base.kind === 'oidc' && !scopes.includes('openid')) scopes = ['openid', ...scopes];
    if (defaultScopes.length > 0) mapped.push(`scopes ${scopes.join(' ')}`);
    const trustEmail = flag(raw.trustEmail);
    if (trustEmail) mapped.push('trustEmail → trust_email');
    const allowedDomains = providerId === 'google' ? (text(cfg.hostedDomain) ?? '').split(',').map((domain) => domain.trim().toLowerCase()).filter((domain) => /^([a-z0-9-]+\.)+[a-z]{2,63}$/.test(domain)) : [];
    if (allowedDomains.length > 0) mapped.push(`hostedDomain → allowed_domains ${allowedDomains.join(', ')}`);
    const syncMode = text(cfg.syncMode) ?? 'LEGACY';
    const mappingMode: UpstreamSettings['mapping_mode'] = syncMode === 'IMPORT' ? 'first_sign_in' : 'every_sign_in';
    mapped.push(`syncMode ${syncMode} → mapping_mode ${mappingMode}`);
    const linkOnly = flag(raw.linkOnly);
    if (linkOnly) note('linkOnly: Gatehouse lets a linked user sign in through the provider; no new accounts are made through it (create_accounts off)');
    const upstreamLogout = text(cfg.logoutUrl) !== undefined;
    if (upstreamLogout) mapped.push('logoutUrl → upstream_logout (through the end-session endpoint of the discovery document)');
    // Keycloak 26 keeps it on the provider; before 24, `hideOnLoginPage` in its config.
    const hideOnLogin = flag(raw.hideOnLogin) || flag(cfg.hideOnLoginPage);
    if (hideOnLogin) mapped.push('hideOnLogin → hide_on_login (no button on the sign-in page; idp_hint / kc_idp_hint go straight to it)');
    if (flag(raw.authenticateByDefault)) note('authenticateByDefault: not mapped (apps send idp_hint / kc_idp_hint to go straight to a provider)');
    if (flag(raw.storeToken)) note('storeToken: upstream tokens are not stored (only the ID token, for upstream logout)');
    if (text(raw.firstBrokerLoginFlowAlias) !== undefined && raw.firstBrokerLoginFlowAlias !== 'first broker login') note(`first broker login flow ${String(raw.firstBrokerLoginFlowAlias)}: custom flows are not imported (Gatehouse's linking rules apply)`);
    if (text(raw.postBrokerLoginFlowAlias) !== undefined) note(`post broker login flow ${String(raw.postBrokerLoginFlowAlias)}: not imported (a required second factor is asked for after an upstream sign-in anyway)`);
    if (cfg.validateSignature === 'false') note('validateSignature false: Gatehouse always validates upstream ID tokens');

    const ownIssuer = GENERIC_IDS.has(providerId) && base.kind === 'oidc' ? base.issuer ?? undefined : undefined;
    const mappers = mapMappers(keycloakAlias, mappersOf.get(keycloakAlias) ?? [], roles, mapped, unmapped, ownIssuer);
    const enabled = raw.enabled !== false;
    if (!enabled) mapped.push('disabled in Keycloak → disabled');
    const settings: UpstreamSettings = {
      alias,
      kind: base.kind ?? 'oidc',
      display_name: text(raw.displayName) ?? base.display_name ?? keycloakAlias,
      icon_url: null,
      issuer: base.issuer ?? null,
      authorization_endpoint: base.authorization_endpoint ?? null,
      token_endpoint: base.token_endpoint ?? null,
      userinfo_endpoint: base.userinfo_endpoint ?? null,
      client_id: clientId,
      token_endpoint_auth_method: base.token_endpoint_auth_method ?? authMethod,
      scopes,
      claims: claimMappingSchema.parse({ ...base.claims, ...mappers.claims }),
      role_mappings: mappers.roleRules,
      group_mappings: mappers.groupRules,
      mapping_mode: mappingMode,
      create_accounts: !linkOnly,
      link_by_email: false,
      trust_email: trustEmail,
      allowed_domains: allowedDomains,
      home_domains: [],
      clients: null,
      // As in Keycloak; the import turns it off while there is no client secret (src/keycloak/apply-identity-providers.ts).
      enabled,
      upstream_logout: upstreamLogout,
      hide_on_login: hideOnLogin,
    };
    aliases.set(keycloakAlias, alias);
    providers.push({ keycloakAlias, settings, clientSecret, needsSecret, mapped });
  }
  for (const alias of mappersOf.keys()) {
    if (!aliases.has(alias)) for (const mapper of mappersOf.get(alias)!) unmapped.push({ kind: 'identity provider mapper', name: `${alias}/${String(mapper.name)}`, reason: 'its identity provider is not imported' });
  }
  return { providers, aliases };
}

/** Users' federated identities (links to identity providers) as upstream links. */
export function mapFederatedIdentities(document: Json, aliases: ReadonlyMap<string, string>, unmapped: UnmappedItem[]): PlannedLink[] {
  const links: PlannedLink[] = [];
  for (const user of list(document.users)) {
    if (!isObject(user) || typeof user.id !== 'string' || typeof user.username !== 'string') continue;
    for (const identity of list(user.federatedIdentities)) {
      if (!isObject(identity)) continue;
      const provider = aliases.get(String(identity.identityProvider));
      const subject = text(identity.userId);
      if (provider === undefined || subject === undefined) {
        unmapped.push({ kind: 'user', name: user.username, reason: `identity provider link ${String(identity.identityProvider)}: ${subject === undefined ? 'no upstream user id' : 'its identity provider is not imported'}` });
        continue;
      }
      links.push({ provider, subject, userId: user.id, username: user.username, label: text(identity.userName) });
    }
  }
  return links;
}
