import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/** A realm with a password policy, brute force detection and an OTP policy, exported by a real Keycloak 26.7.3 (test/fixtures/keycloak/README.md). */
const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-settings.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
/** A realm with Keycloak 26.7.3's defaults (reset password off, links of 300 s), clients and users: what an operator moving users imports. */
const DEFAULTS_FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export.json', import.meta.url));

type Change = { group: string; setting: string; from: unknown; to: unknown; keycloak: string; note?: string };
type Pinned = { group: string; setting: string; variable: string; value: unknown; keycloakValue: unknown; keycloak: string };

describe("Keycloak import carries the realm's settings over to the runtime settings (admin API, CLI; one pinned by the environment)", function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let env: Record<string, string>;

  /** Each setting's value in force in a group, as the admin API shows it. */
  const values = async (group: string) => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'GET', `/settings/${group}`);
    expect(status).to.equal(200);
    return Object.fromEntries(Object.entries(body.settings as Record<string, { value: unknown }>).map(([name, one]) => [name, one.value]));
  };
  const sources = async (group: string) => {
    const { body } = await callAdmin(gatehouse.url, token, 'GET', `/settings/${group}`);
    return Object.fromEntries(Object.entries(body.settings as Record<string, { source: string }>).map(([name, one]) => [name, one.source]));
  };

  before(async () => {
    // The environment pins one of the settings the realm changes: it must be reported, not overwritten.
    deploy = await deployment('keycloak_settings', { settings: { GATEHOUSE_LOCKOUT_SECONDS: '30' } });
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a dry run (admin API) lists each setting that would change, old → new, and the pinned one; nothing is written', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    const changed = body.settings.changed as Change[];
    const change = (setting: string) => changed.find((one) => one.setting === setting);
    expect(change('password_min_length')).to.deep.equal({ group: 'password-policy', setting: 'password_min_length', from: 8, to: 12, keycloak: 'passwordPolicy length(12)' });
    expect(change('password_max_length')).to.include({ from: 1024, to: 64 });
    expect(change('password_history')).to.include({ from: 0, to: 3 });
    expect(change('password_not_username')).to.include({ from: false, to: true });
    // No lowercase rule in Keycloak's policy, none in Gatehouse: nothing to change.
    expect(change('password_lowercase')).to.equal(undefined);
    expect(change('lockout_account_threshold')).to.include({ group: 'brute-force', from: 20, to: 7, keycloak: 'failureFactor 7' });
    expect(change('lockout_max_seconds')).to.include({ from: 86400, to: 1800 });
    expect(change('lockout_window')).to.include({ from: 3600, to: 7200 });
    expect(change('otp_algorithm')).to.include({ group: 'otp', from: 'SHA1', to: 'SHA256' });
    expect(change('otp_digits')).to.include({ from: 6, to: 8 });
    expect(change('self_registration')).to.include({ group: 'sign-in', from: false, to: true });
    expect(change('self_registration')!.note).to.match(/needs SMTP/);
    expect(change('require_verified_email')).to.include({ from: 'self-registered', to: 'all' });
    expect(change('password_reset_ttl')).to.include({ from: 1800, to: 900 });
    expect(change('lockout_seconds')).to.equal(undefined);
    expect(body.settings.pinned as Pinned[]).to.deep.equal([{ group: 'brute-force', setting: 'lockout_seconds', variable: 'GATEHOUSE_LOCKOUT_SECONDS', value: 30, keycloakValue: 120, keycloak: 'waitIncrementSeconds 120' }]);
    const unmapped = body.unmapped as Array<{ kind: string; name: string; reason: string }>;
    expect(unmapped.find((item) => item.name === 'accessTokenLifespan 900')?.reason).to.include('set GATEHOUSE_ACCESS_TOKEN_TTL=900 (Gatehouse runs with 600)');
    expect(unmapped.find((item) => item.name === 'passwordPolicy hashIterations(27500)')?.reason).to.match(/argon2id/);

    expect(await sources('password-policy')).to.include({ password_min_length: 'default' });
    expect(await values('brute-force')).to.include({ lockout_account_threshold: 20 });
    expect(await values('otp')).to.include({ otp_algorithm: 'SHA1' });
  });

  it('the CLI dry run says the same, the pinned setting with its variable', async () => {
    const exit = await runCli(['import', '--keycloak', FIXTURE, '--dry-run'], env);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stdout).to.include('  runtime settings the import would change, live on every instance at once (--no-realm-settings leaves them as they are):\n');
    expect(exit.stdout).to.include('password_min_length: 8 → 12 (passwordPolicy length(12))');
    expect(exit.stdout).to.include('otp_algorithm: "SHA1" → "SHA256" (otpPolicyAlgorithm HmacSHA256)');
    expect(exit.stdout).to.include('setting lockout_seconds pinned by GATEHOUSE_LOCKOUT_SECONDS: stays 30, not the realm\'s 120');
    expect(await sources('password-policy')).to.include({ password_min_length: 'default' });
  });

  it("a dry run of Keycloak's defaults says which live settings the import would turn off or shorten, and how to keep them", async () => {
    const exit = await runCli(['import', '--keycloak', DEFAULTS_FIXTURE, '--dry-run'], env);
    expect(exit.code, exit.stderr).to.equal(0);
    const lines = exit.stdout.split('\n');
    const header = lines.indexOf('  runtime settings the import would change, live on every instance at once (--no-realm-settings leaves them as they are):');
    expect(header, exit.stdout).to.be.greaterThan(0);
    expect(lines.slice(header + 1)).to.include.members(['    password_reset: true → false (resetPasswordAllowed false)', '    password_reset_ttl: 1800 → 300 (actionTokenGeneratedByUserLifespan 300)', '    invitation_ttl: 259200 → 43200 (actionTokenGeneratedByAdminLifespan 43200)']);
    const api = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', JSON.parse(readFileSync(DEFAULTS_FIXTURE, 'utf8')));
    expect(api.body.settings.imported).to.equal(true);
    expect(api.body.settings.changed).to.deep.include({ group: 'sign-in', setting: 'password_reset', from: true, to: false, keycloak: 'resetPasswordAllowed false' });
    // What asks something of the operator is named with its variable; what needs nothing (sslRequired, internationalization off) is not said.
    const notes = new Map((api.body.unmapped as Array<{ kind: string; name: string; reason: string }>).filter((item) => item.kind === 'realm setting').map((item) => [item.name, item.reason]));
    expect(notes.get('accessCodeLifespanLogin 1800')).to.match(/^environment only in Gatehouse: set GATEHOUSE_INTERACTION_TTL=1800 \(Gatehouse runs with 3600\)/);
    expect(notes.get('displayName ACME')).to.match(/^environment only in Gatehouse: set GATEHOUSE_BRAND_NAME=ACME \(Gatehouse runs with "Gatehouse"\)/);
    for (const name of ['sslRequired none', 'internationalizationEnabled false', 'verifyEmail false', 'accessCodeLifespanUserAction 300']) expect(notes.has(name), name).to.equal(false);
    expect(exit.stdout).to.include('  realm setting accessCodeLifespanLogin 1800: environment only in Gatehouse: set GATEHOUSE_INTERACTION_TTL=1800 (Gatehouse runs with 3600)');
    expect(exit.stdout).to.not.include('sslRequired').and.not.include('internationalizationEnabled');
  });

  it('--no-realm-settings (CLI) and realm_settings=false (admin API) import everything but the realm\'s settings: no setting changes, none reported', async () => {
    const dry = await runCli(['import', '--keycloak', FIXTURE, '--dry-run', '--no-realm-settings'], env);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include("  realm settings left out (--no-realm-settings): Gatehouse's runtime settings stay as they are\n");
    expect(dry.stdout).to.not.include('→ 12').and.not.include('pinned by').and.not.include('\n  realm setting ');
    const wrong = await runCli(['import', '--input', FIXTURE, '--no-realm-settings'], env);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.include('--no-realm-settings goes with --keycloak');
    const bad = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?realm_settings=no', REALM_EXPORT);
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.include('realm_settings');

    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?realm_settings=false', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.settings).to.deep.equal({ imported: false, changed: [], pinned: [] });
    expect((body.unmapped as Array<{ kind: string }>).filter((item) => item.kind === 'realm setting')).to.deep.equal([]);
    expect(body.counts.users.created + body.counts.clients.created, 'users and clients are imported').to.be.greaterThan(0);
    for (const group of ['password-policy', 'otp', 'sign-in']) expect(Object.values(await sources(group)), group).to.satisfy((all: string[]) => all.every((source) => source === 'default'));
    expect(await values('brute-force')).to.include({ lockout_account_threshold: 20 });
    expect((await gatehouse.services.audit.query({ types: ['settings.updated'], limit: 5 })).events).to.deep.equal([]);
  });

  it("--no-realm-settings / realm_settings=false says the realm's default roles were given to its users but not made default_roles (it said nothing)", async () => {
    const roles = REALM_EXPORT.roles as { realm: Array<Record<string, any>> };
    const realm = {
      ...REALM_EXPORT,
      roles: { ...roles, realm: [...roles.realm.map((role) => (role.name === 'default-roles-policies' ? { ...role, composites: { ...role.composites, realm: [...role.composites.realm, 'member'] } } : role)), { name: 'member' }] },
    };
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true&realm_settings=false', realm);
    expect(status, JSON.stringify(body)).to.equal(200);
    const note = (body.unmapped as Array<{ kind: string; name: string; reason: string }>).find((item) => item.name === 'defaultRole default-roles-policies');
    expect(note).to.deep.include({ kind: 'realm' });
    expect(note!.reason).to.equal("the imported users the export maps it to have its roles (member); default_roles is left as it is (realm settings left out): users Gatehouse creates later get them only once it is set (PATCH /admin/api/v1/settings/sign-in, or import without --no-realm-settings)");
    // With the settings, it is a setting change instead, not a note.
    const withSettings = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', realm);
    expect((withSettings.body.unmapped as Array<{ name: string }>).some((item) => item.name === 'defaultRole default-roles-policies')).to.equal(false);
    expect(withSettings.body.settings.changed).to.deep.include({ group: 'sign-in', setting: 'default_roles', from: [], to: ['member'], keycloak: 'defaultRole default-roles-policies' });
  });

  it("--no-realm-settings / realm_settings=false keeps the realm's notes about its users (duplicate emails, email as username): they change how users import", async () => {
    const realm = { ...REALM_EXPORT, duplicateEmailsAllowed: true, registrationEmailAsUsername: true };
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true&realm_settings=false', realm);
    expect(status, JSON.stringify(body)).to.equal(200);
    const unmapped = body.unmapped as Array<{ kind: string; name: string; reason: string }>;
    expect(unmapped.filter((item) => item.kind === 'realm setting')).to.deep.equal([]);
    // And where its apps find it: this Gatehouse serves its own URL layout, not realm policies' (GATEHOUSE_KEYCLOAK_REALM).
    expect(unmapped.filter((item) => item.kind === 'realm').map((item) => item.name)).to.have.members(['duplicateEmailsAllowed true', 'registrationEmailAsUsername true', 'realm policies']);
    expect(unmapped.find((item) => item.name === 'realm policies')!.reason).to.include(`set GATEHOUSE_KEYCLOAK_REALM=policies (Gatehouse runs with issuer ${deploy.issuer}, its own URL layout)`);
    expect(unmapped.find((item) => item.name === 'duplicateEmailsAllowed true')!.reason).to.match(/unique: a user whose address another user has is a conflict/);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-users-notes-'));
    const file = join(dir, 'realm-duplicate-emails.json');
    writeFileSync(file, JSON.stringify(realm));
    const dry = await runCli(['import', '--keycloak', file, '--dry-run', '--no-realm-settings'], env).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include('  realm duplicateEmailsAllowed true: ');
    expect(dry.stdout).to.not.include('\n  realm setting ');
  });

  it('the import applies them through the settings operations: read back through the admin API, audited; the pinned one kept', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.dryRun).to.equal(false);
    expect(await values('password-policy')).to.deep.equal({
      password_min_length: 12,
      password_max_length: 64,
      password_digits: 1,
      password_lowercase: 0,
      password_uppercase: 1,
      password_special: 1,
      password_not_username: true,
      password_not_email: true,
      password_history: 3,
    });
    expect(await sources('password-policy')).to.include({ password_min_length: 'stored', password_lowercase: 'default' });
    expect(await values('brute-force')).to.deep.equal({ lockout_threshold: 5, lockout_account_threshold: 7, lockout_ip_threshold: 100, lockout_window: 7200, lockout_seconds: 30, lockout_max_seconds: 1800 });
    expect(await sources('brute-force')).to.include({ lockout_seconds: 'environment' });
    expect(await values('otp')).to.deep.equal({ otp_digits: 8, otp_period: 60, otp_algorithm: 'SHA256', otp_look_ahead: 2 });
    expect(await values('sign-in')).to.include({ self_registration: true, password_reset: true, require_verified_email: 'all', password_reset_ttl: 900, email_verification_ttl: 600 });
    expect(body.settings.pinned).to.have.length(1);

    const { events } = await gatehouse.services.audit.query({ types: ['settings.updated'], limit: 20 });
    expect(events.map((event) => event.target?.id)).to.have.members(['password-policy', 'brute-force', 'otp', 'sign-in']);
    const policy = events.find((event) => event.target?.id === 'password-policy')!;
    expect(policy.details).to.deep.include({ before: { password_min_length: 8, password_max_length: 1024, password_digits: 0, password_uppercase: 0, password_special: 0, password_not_username: false, password_not_email: false, password_history: 0 } });
    expect(policy.actor).to.not.include({ type: 'system' });
    const imported = await gatehouse.services.audit.query({ types: ['keycloak.imported'], limit: 5 });
    expect(imported.events[0]!.details).to.include({ settings: body.settings.changed.length });

    // The imported policy is the one new passwords meet (admin API, as the policy's own rules say).
    const user = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'new-after-import', password: 'Short1!a' });
    expect(user.status).to.equal(400);
    expect(JSON.stringify(user.body)).to.match(/password/);
  });

  it('a re-import changes no setting (idempotent), and a setting changed since is put back to the realm\'s', async () => {
    const again = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(again.status).to.equal(200);
    expect(again.body.settings.changed).to.deep.equal([]);
    expect(again.body.settings.pinned).to.have.length(1);

    expect((await callAdmin(gatehouse.url, token, 'PATCH', '/settings/otp', { otp_digits: 6 })).status).to.equal(200);
    const third = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(third.body.settings.changed).to.deep.equal([{ group: 'otp', setting: 'otp_digits', from: 6, to: 8, keycloak: 'otpPolicyDigits 8' }]);
    expect(await values('otp')).to.include({ otp_digits: 8 });
  });
});
