import { expect } from 'chai';
import { applyRealmSettings, realmLayoutNotes } from '../../src/keycloak/apply-realm-settings.ts';
import { KeycloakReportBuilder } from '../../src/keycloak/import-report.ts';
import { mapRealmSettings } from '../../src/keycloak/map-realm-settings.ts';
import type { UnmappedItem } from '../../src/keycloak/export-json.ts';
import { passwordPolicyGroup, type PasswordPolicySettings } from '../../src/settings/password-policy.ts';
import type { SettingsStore } from '../../src/settings/store.ts';

const DEFAULTS: PasswordPolicySettings = {
  password_min_length: 8,
  password_max_length: 1024,
  password_digits: 0,
  password_lowercase: 0,
  password_uppercase: 0,
  password_special: 0,
  password_not_username: false,
  password_not_email: false,
  password_history: 0,
};

/** The password-policy group's store as the import reads it (values in force, pins); its writes recorded. */
function store(pinned: Partial<Record<keyof PasswordPolicySettings, string>> = {}): { store: SettingsStore<object>; writes: Array<Record<string, unknown>> } {
  const writes: Array<Record<string, unknown>> = [];
  const one = {
    group: passwordPolicyGroup,
    configured: DEFAULTS,
    pinned,
    read: async () => ({ settings: DEFAULTS, stored: {}, updatedAt: null }),
  } as unknown as SettingsStore<object>;
  return { store: one, writes };
}

async function apply(policy: string, options: { pinned?: Partial<Record<keyof PasswordPolicySettings, string>>; dryRun?: boolean } = {}) {
  const unmapped: UnmappedItem[] = [];
  const planned = mapRealmSettings({ passwordPolicy: policy }, unmapped);
  const { store: one, writes } = store(options.pinned);
  const report = new KeycloakReportBuilder('r', options.dryRun ?? false);
  await applyRealmSettings({ stores: [one], update: async (group, patch) => void writes.push({ group, ...patch }), emailConfigured: true }, planned, options.dryRun ?? false, report);
  return { report: report.report, writes };
}

describe('a realm\'s settings applied (src/keycloak/apply-realm-settings.ts): one change per group, only what differs, pins and rules kept', () => {
  it('writes one change for the group with only the settings whose value in force differs; a dry run writes nothing and reports the same', async () => {
    const { report, writes } = await apply('length(8) and digits(2) and notEmail(undefined)');
    expect(writes).to.deep.equal([{ group: 'password-policy', password_digits: 2, password_not_email: true }]);
    expect(report.settings.changed.map((change) => [change.setting, change.from, change.to])).to.deep.equal([['password_digits', 0, 2], ['password_not_email', false, true]]);
    const dry = await apply('length(8) and digits(2) and notEmail(undefined)', { dryRun: true });
    expect(dry.writes).to.deep.equal([]);
    expect(dry.report.settings.changed).to.deep.equal(report.settings.changed);
  });

  it('leaves a pinned setting as it is and says so, with its variable and both values', async () => {
    const { report, writes } = await apply('length(12) and digits(2)', { pinned: { password_min_length: 'GATEHOUSE_PASSWORD_MIN_LENGTH' } });
    expect(writes).to.deep.equal([{ group: 'password-policy', password_digits: 2 }]);
    expect(report.settings.pinned).to.deep.equal([{ group: 'password-policy', setting: 'password_min_length', variable: 'GATEHOUSE_PASSWORD_MIN_LENGTH', value: 8, keycloakValue: 12, keycloak: 'passwordPolicy length(12)' }]);
  });

  it('changes nothing of a group whose values do not go together (more required characters than the maximum length), and reports each setting', async () => {
    const { report, writes } = await apply('maxLength(10) and digits(4) and upperCase(4) and specialChars(4)');
    expect(writes).to.deep.equal([]);
    expect(report.settings.changed).to.deep.equal([]);
    const reasons = report.unmapped.filter((item) => item.kind === 'realm setting' && item.name.startsWith('passwordPolicy ')).map((item) => item.reason);
    expect(reasons).to.have.length(4);
    for (const reason of reasons) expect(reason).to.match(/^not applied: with the realm's other password-policy settings, password_max_length /);
  });

  it("names GATEHOUSE_INTERACTION_TTL with the realm's sign-in timeout, and GATEHOUSE_BRAND_NAME with its display name, only when they differ from what Gatehouse runs with", async () => {
    const run = async (running: { interaction: number; brandName: string }) => {
      const planned = mapRealmSettings({ accessCodeLifespanLogin: 1800, accessCodeLifespanUserAction: 300, displayName: "ACME's sign-in" }, []);
      const report = new KeycloakReportBuilder('r', true);
      const lifetimes = { accessToken: 600, authorizationCode: 60, session: 86_400, refreshToken: 86_400, deviceCode: 600, interaction: running.interaction };
      await applyRealmSettings({ stores: [], update: async () => undefined, emailConfigured: true, lifetimes, brandName: running.brandName }, planned, true, report);
      return report.report.unmapped;
    };
    const differ = await run({ interaction: 3600, brandName: 'Gatehouse' });
    expect(differ.find((item) => item.name === 'accessCodeLifespanLogin 1800')).to.deep.include({ kind: 'realm setting' });
    expect(differ.find((item) => item.name === 'accessCodeLifespanLogin 1800')!.reason).to.match(/^environment only in Gatehouse: set GATEHOUSE_INTERACTION_TTL=1800 \(Gatehouse runs with 3600\); Keycloak timed each page/);
    expect(differ.find((item) => item.name === "displayName ACME's sign-in")!.reason).to.equal(
      `environment only in Gatehouse: set GATEHOUSE_BRAND_NAME='ACME'\\''s sign-in' (Gatehouse runs with "Gatehouse"); Gatehouse's pages show it where Keycloak's sign-in pages showed the realm's name`,
    );
    expect(await run({ interaction: 1800, brandName: "ACME's sign-in" })).to.deep.equal([]);
  });

  it("reports a realm lifetime below Gatehouse's minimum even when Gatehouse runs with that minimum already (the realm's value is not what Gatehouse runs with)", async () => {
    const planned = mapRealmSettings({ accessTokenLifespan: 10, accessCodeLifespan: 60 }, []);
    const report = new KeycloakReportBuilder('r', true);
    const lifetimes = { accessToken: 30, authorizationCode: 60, session: 86_400, refreshToken: 86_400, deviceCode: 600, interaction: 3600 };
    await applyRealmSettings({ stores: [], update: async () => undefined, emailConfigured: true, lifetimes }, planned, true, report);
    const notes = report.report.unmapped;
    expect(notes.find((item) => item.name === 'accessTokenLifespan 10')?.reason).to.equal(
      "environment only in Gatehouse: Gatehouse runs with GATEHOUSE_ACCESS_TOKEN_TTL=30 already; the realm's 10 is below what Gatehouse takes (at least 30): the nearest it takes",
    );
    // A realm value Gatehouse runs with: nothing to say.
    expect(notes.find((item) => item.name.startsWith('accessCodeLifespan '))).to.equal(undefined);
  });

  it("says where the realm's apps look for it: GATEHOUSE_KEYCLOAK_REALM when Gatehouse runs another layout or realm, GATEHOUSE_ISSUER when the realm had another Frontend URL", () => {
    expect(realmLayoutNotes('acme', undefined, 'https://sso.example.com/realms/acme')).to.deep.equal([]);
    expect(realmLayoutNotes('acme', 'https://sso.example.com', 'https://sso.example.com/realms/acme')).to.deep.equal([]);
    expect(realmLayoutNotes('acme', undefined, undefined)).to.deep.equal([]);
    const own = realmLayoutNotes('acme', undefined, 'https://sso.example.com');
    expect(own).to.have.length(1);
    expect(own[0]).to.deep.include({ kind: 'realm', name: 'realm acme' });
    expect(own[0]!.reason).to.match(/^the realm's apps call Keycloak's URLs \(…\/realms\/acme\/protocol\/openid-connect\/…\) and check an issuer ending in \/realms\/acme: set GATEHOUSE_KEYCLOAK_REALM=acme \(Gatehouse runs with issuer https:\/\/sso\.example\.com, its own URL layout\)/);
    expect(realmLayoutNotes('acme', undefined, 'https://sso.example.com/realms/other')[0]!.reason).to.include('set GATEHOUSE_KEYCLOAK_REALM=acme');
    const moved = realmLayoutNotes('acme', 'https://login.acme.test', 'https://sso.example.com/realms/acme');
    expect(moved).to.deep.equal([{ kind: 'realm', name: 'frontendUrl https://login.acme.test', reason: "the realm's apps check the issuer https://login.acme.test/realms/acme: set GATEHOUSE_ISSUER=https://login.acme.test and GATEHOUSE_KEYCLOAK_REALM=acme (Gatehouse runs with issuer https://sso.example.com/realms/acme), and point the realm's host name at Gatehouse" }]);
    expect(realmLayoutNotes('my realm', undefined, 'https://sso.example.com')[0]!.reason).to.match(/must be given Gatehouse's URLs/);
  });

  it("takes the realm's Frontend URL from its attributes, without a trailing slash", () => {
    expect(mapRealmSettings({ attributes: { frontendUrl: 'https://login.acme.test/' } }, []).frontendUrl).to.equal('https://login.acme.test');
    expect(mapRealmSettings({ attributes: { frontendUrl: '' } }, []).frontendUrl).to.equal(undefined);
  });
});
