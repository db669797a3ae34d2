import type { TotpImportOutcome } from '../mfa/factors.ts';
import type { UnmappedItem } from './export-json.ts';
import { ownStrings } from './own-string.ts';
import type { RefusedUser } from './realm-import.ts';

/** Entries of each list the report shows: the first ones; `counts` says how many there are in all. */
export const REPORT_SAMPLE = 20;

type Outcome = 'created' | 'updated';
type Sample<T> = T[];
/** A client's service-account roles (Keycloak's service-account user's effective roles), set as its `service_account_roles`. */
export interface ServiceAccountRoles {
  readonly client: string;
  readonly roles: readonly string[];
}
/** A user left out, or another object of the export (an identity provider, a client, a claim scope) whose key Gatehouse holds for something the import does not own. */
export type Conflict = { readonly user: string; readonly reason: string } | { readonly kind: 'identity provider' | 'client' | 'client scope'; readonly name: string; readonly reason: string };

/** A runtime setting the realm changed (or, in a dry run, would change): the value in force before and after. */
export interface SettingChange {
  readonly group: string;
  readonly setting: string;
  readonly from: unknown;
  readonly to: unknown;
  /** What of the realm it comes from: `passwordPolicy length(12)`, `failureFactor 30`. */
  readonly keycloak: string;
  /** What else it takes (e.g. SMTP for self-registration), when something does. */
  readonly note?: string;
}

/** A setting the realm would change that an environment variable pins: left as it is (the admin API answers 409 for it). */
export interface PinnedSetting {
  readonly group: string;
  readonly setting: string;
  /** The variable that pins it, and the value in force. */
  readonly variable: string;
  readonly value: unknown;
  /** The realm's value, and what of the realm it comes from. */
  readonly keycloakValue: unknown;
  readonly keycloak: string;
}

/**
 * What a Keycloak import did (or, in a dry run, would do). Bounded whatever the number of users:
 * each list holds its first REPORT_SAMPLE entries (`unmapped`: that many of each kind) and
 * `counts` how many it has in all; every entry goes to the import's `onEntry` as it is added
 * (the CLI's `--report FILE` writes them all, one JSON line each).
 */
export interface KeycloakImportReport {
  readonly realm: string;
  readonly dryRun: boolean;
  /** The API whose Keycloak-shaped JWTs the imported clients' sign-ins get, when one was named. */
  api: { readonly identifier: string; readonly created: boolean } | undefined;
  readonly roles: Record<Outcome, Sample<string>>;
  readonly groups: Record<Outcome, Sample<string>>;
  readonly clients: Record<Outcome, Sample<string>>;
  /** Custom client scopes imported as claim scopes (src/keycloak/map-client-scopes.ts). */
  readonly claimScopes: Record<Outcome, Sample<string>>;
  /** Keycloak's own clients (account, admin console, ...), skipped on purpose: Gatehouse has its own console, account page and admin API. */
  readonly builtInClients: Sample<string>;
  /** Clients imported as native apps (`application_type: native`): their redirect URIs and what each is. */
  nativeClients: Readonly<Record<string, readonly string[]>>;
  /** Imported clients' service accounts: the roles their client_credentials tokens carry (`service_account_roles`). */
  readonly serviceAccounts: Sample<ServiceAccountRoles>;
  readonly users: Record<Outcome, Sample<string>>;
  /** Users not imported because the admin API would refuse them (`field: message`); the others are imported. */
  readonly refusedUsers: Sample<RefusedUser>;
  /** Users whose Gatehouse password is newer than Keycloak's (changed or upgraded since the last import): kept. */
  readonly passwordsKept: Sample<string>;
  /** Users an operator disabled in Gatehouse (or disabled before Gatehouse recorded who did) that Keycloak has enabled: kept disabled (enable them in Gatehouse). */
  readonly disabledKept: Sample<string>;
  /** Kept Keycloak password hashes by algorithm (verified at sign-in, re-hashed to argon2id then). */
  readonly passwordAlgorithms: Record<string, number>;
  /** Authenticator apps (Keycloak OTP credentials) by what became of them (src/mfa/factors.ts TotpImportOutcome). */
  readonly totp: Record<TotpImportOutcome, Sample<string>>;
  /** Users' consents to imported clients (Keycloak's `clientConsents`) kept as consent records: those apps do not ask these users again. */
  consents: number;
  /** Identity providers → upstream providers, and users' federated identities → upstream links. */
  readonly upstream: {
    readonly created: Sample<string>;
    readonly updated: Sample<string>;
    /** Providers imported disabled until an operator sets their client secret (masked, missing or vaulted in the export). */
    readonly secretsToSet: Sample<string>;
    /** Per provider (Gatehouse alias): what was carried over from Keycloak. */
    readonly mapped: Record<string, readonly string[]>;
    /** Users' federated identities: links made, and links that were already there. */
    readonly links: { created: number; unchanged: number };
  };
  /**
   * The realm's settings carried over to Gatehouse's runtime settings (src/keycloak/map-realm-settings.ts):
   * whether they were (`imported`: false when the import was asked to leave them out, or for a users
   * file on its own), what changed — in a dry run, what would change — in the settings every
   * instance runs with (only those whose value in force differs), and what an environment variable
   * pins. Settings Gatehouse takes from its environment only, or has no place for, are under `unmapped`.
   */
  readonly settings: { imported: boolean; readonly changed: SettingChange[]; readonly pinned: PinnedSetting[] };
  /** Users that could not be written (e.g. the username or email belongs to another Gatehouse user), links that belong to another user. */
  readonly conflicts: Sample<Conflict>;
  /** What has no place in Gatehouse, with the reason: the first REPORT_SAMPLE of each kind. */
  readonly unmapped: Sample<UnmappedItem>;
  /** How many entries each list has in all (`unmapped`: by kind). */
  readonly counts: ReportCounts;
}

export interface ReportCounts {
  readonly roles: Record<Outcome, number>;
  readonly groups: Record<Outcome, number>;
  readonly clients: Record<Outcome, number>;
  readonly claimScopes: Record<Outcome, number>;
  builtInClients: number;
  serviceAccounts: number;
  readonly users: Record<Outcome, number>;
  refusedUsers: number;
  passwordsKept: number;
  disabledKept: number;
  readonly totp: Record<TotpImportOutcome, number>;
  readonly upstream: { created: number; updated: number; secretsToSet: number };
  conflicts: number;
  readonly unmapped: Record<string, number>;
}

/** The report's lists, by name (`users.created`): what an entry of the `--report` file says it belongs to. */
export type ReportList =
  | `${'roles' | 'groups' | 'clients' | 'claimScopes' | 'users'}.${Outcome}`
  | `totp.${TotpImportOutcome}`
  | `upstream.${'created' | 'updated' | 'secretsToSet'}`
  | 'builtInClients'
  | 'serviceAccounts'
  | 'refusedUsers'
  | 'passwordsKept'
  | 'disabledKept'
  | 'conflicts'
  | `settings.${'changed' | 'pinned'}`;

/** One entry as `onEntry` gets it: its list, and the entry (a name as `name`; an object's own members). */
export type ReportEntry = { readonly list: ReportList | 'unmapped' } & Readonly<Record<string, unknown>>;
export type ReportSink = (entry: ReportEntry) => void;

const outcomes = <T>(make: () => T): Record<Outcome, T> => ({ created: make(), updated: make() });

/** A report with nothing in it yet. */
export function emptyKeycloakReport(realm: string, dryRun: boolean): KeycloakImportReport {
  return {
    realm,
    dryRun,
    api: undefined,
    roles: outcomes(() => []),
    groups: outcomes(() => []),
    clients: outcomes(() => []),
    claimScopes: outcomes(() => []),
    builtInClients: [],
    nativeClients: {},
    serviceAccounts: [],
    users: outcomes(() => []),
    refusedUsers: [],
    passwordsKept: [],
    disabledKept: [],
    passwordAlgorithms: {},
    totp: { imported: [], unchanged: [], kept: [] },
    consents: 0,
    upstream: { created: [], updated: [], secretsToSet: [], mapped: {}, links: { created: 0, unchanged: 0 } },
    settings: { imported: false, changed: [], pinned: [] },
    conflicts: [],
    unmapped: [],
    counts: {
      roles: outcomes(() => 0),
      groups: outcomes(() => 0),
      clients: outcomes(() => 0),
      claimScopes: outcomes(() => 0),
      builtInClients: 0,
      serviceAccounts: 0,
      users: outcomes(() => 0),
      refusedUsers: 0,
      passwordsKept: 0,
      disabledKept: 0,
      totp: { imported: 0, unchanged: 0, kept: 0 },
      upstream: { created: 0, updated: 0, secretsToSet: 0 },
      conflicts: 0,
      unmapped: {},
    },
  };
}

/**
 * Builds a report as the import goes: `add` counts an entry, keeps it if its list has fewer than
 * REPORT_SAMPLE, and hands it to `sink`. Memory: the samples, whatever the number of users.
 */
export class KeycloakReportBuilder {
  readonly report: KeycloakImportReport;
  /**
   * Gatehouse aliases of upstream providers whose users' links this import may write (true: the
   * realm's; false: a conflict), decided once (src/keycloak/apply-identity-providers.ts). Not reported.
   */
  readonly upstreamOwners = new Map<string, boolean>();
  /** The same for clients whose service-account roles a users file may set (src/keycloak/apply-import.ts). Not reported. */
  readonly clientOwners = new Map<string, boolean>();
  /** Clients users' consents may name: undefined, or why consents to it are not written (src/keycloak/apply-import.ts). Not reported. */
  readonly consentClients = new Map<string, string | undefined>();
  readonly #sink: ReportSink | undefined;

  constructor(realm: string, dryRun: boolean, sink?: ReportSink) {
    this.report = emptyKeycloakReport(realm, dryRun);
    this.#sink = sink;
  }

  add(list: ReportList, entry: string | Conflict | RefusedUser | ServiceAccountRoles): void {
    const [group, member] = list.split('.') as [string, string | undefined];
    const report = this.report as unknown as Record<string, Record<string, unknown[]>>;
    const counts = this.report.counts as unknown as Record<string, Record<string, number>>;
    const sample = (member === undefined ? report[group] : report[group]![member]) as unknown[];
    if (member === undefined) (counts as unknown as Record<string, number>)[group]! += 1;
    else counts[group]![member]! += 1;
    if (sample.length < REPORT_SAMPLE) sample.push(ownStrings(entry));
    this.#sink?.({ list, ...(typeof entry === 'string' ? { name: entry } : entry) });
  }

  /** A setting changed or pinned: every one is kept (a realm has a few dozen at most). */
  addSetting(list: 'changed', entry: SettingChange): void;
  addSetting(list: 'pinned', entry: PinnedSetting): void;
  addSetting(list: 'changed' | 'pinned', entry: SettingChange | PinnedSetting): void {
    (this.report.settings[list] as Array<SettingChange | PinnedSetting>).push(entry);
    this.#sink?.({ list: `settings.${list}`, ...entry });
  }

  addUnmapped(item: UnmappedItem): void {
    const { counts } = this.report;
    const seen = counts.unmapped[item.kind] ?? 0;
    counts.unmapped[item.kind] = seen + 1;
    if (seen < REPORT_SAMPLE) this.report.unmapped.push(ownStrings(item));
    this.#sink?.({ list: 'unmapped', ...item });
  }

  /** How many entries `list` has in all. */
  count(list: ReportList): number {
    const [group, member] = list.split('.') as [string, string | undefined];
    const counts = this.report.counts as unknown as Record<string, number & Record<string, number>>;
    return member === undefined ? counts[group]! : counts[group]![member]!;
  }
}
