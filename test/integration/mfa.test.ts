import { expect } from 'chai';
import * as oidc from 'openid-client';
import { factorModels } from '../../src/mfa/model.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { ACR } from '../../src/oidc/acr.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { asPage, formsOf, followTo, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { runCli } from '../helpers/process.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

/** A browser whose requests to the issuer's origin all go to another instance of the deployment. */
class ViaAgent extends UserAgent {
  readonly served = new Set<string>();
  readonly issuer: string;
  readonly instance: string;
  constructor(issuer: string, instance: string) {
    super();
    this.issuer = issuer;
    this.instance = instance;
  }
  override request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = url.startsWith(this.issuer) ? this.instance + url.slice(this.issuer.length) : url;
    this.served.add(new URL(target).origin);
    return super.request(target, init);
  }
}

/** A page of the flow: its HTML, the URL it was served at, and its forms. */
type Page = AgentPage;
const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: Page, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
const kind = (value: Page | URL): string =>
  value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? (value.html.includes('recovery-codes') ? 'codes' : 'other'));

const secretOf = (html: string) => html.match(/<code id="secret">([A-Z2-7 ]+)<\/code>/)![1]!.replace(/ /g, '');
const codesOf = (html: string) => [...html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
const continueOf = (page: Page) => new URL(page.html.match(/class="button primary" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&'), page.url).toString();

describe('multi-factor sign-in: TOTP, recovery codes, policies (real stores, openid-client)', () => {
  let instances: TwoInstances;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let config: oidc.Configuration;
  // The clock the second-factor service reads: TOTP steps move only when the test says so.
  let now = new Date('2026-03-01T10:00:10Z');
  const tick = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
  let n = 0;

  before(async () => {
    instances = await twoInstances('mfa', {
      settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', GATEHOUSE_MFA_REQUIRED_GROUPS: 'ops', GATEHOUSE_LOCKOUT_THRESHOLD: '4' },
      secondFactorClock: () => now,
    });
    ({ deploy, a: gatehouse } = instances);
    cast = await seed(gatehouse);
    config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
  });
  after(() => instances?.stop());

  async function newUser(extra: { roles?: string[]; groups?: string[] } = {}) {
    const username = `mfa${++n}${Math.random().toString(36).slice(2, 6)}`;
    const user = await gatehouse.services.accounts.createUser({ username, password: PASSWORD, ...extra });
    return { id: user.id, username };
  }

  /** Starts an authorization and signs in with the password; returns what follows the password. */
  async function afterPassword(agent: UserAgent, username: string, extra: Record<string, string> = {}, at = config) {
    const request = await authorizationRequest(at, REDIRECT_URI, extra);
    const login = asPage(await follow(agent, request.url.toString()));
    return { request, next: await submit(agent, login, 'login', { login: username, password: PASSWORD, remember: 'yes' }) };
  }

  /** Consent (if asked) → callback → ID token claims. */
  async function finishAt(agent: UserAgent, value: Page | URL, request: Awaited<ReturnType<typeof authorizationRequest>>, at = config) {
    let step = value;
    if (!(step instanceof URL) && kind(step) === 'confirm') step = await submit(agent, step, 'confirm');
    if (!(step instanceof URL)) throw new Error(`expected the callback, got ${kind(step)}`);
    return (await oidc.authorizationCodeGrant(at, step, request.checks)).claims()!;
  }

  /** Enrols a user who is required to: returns the secret and the recovery codes. */
  async function enrol(agent: UserAgent, username: string) {
    const { request, next } = await afterPassword(agent, username, {});
    const page = asPage(next);
    expect(kind(page)).to.equal('enrol');
    const secret = secretOf(page.html);
    const done = asPage(await submit(agent, page, 'enrol', { code: totpCode(secret, now) }));
    const codes = codesOf(done.html);
    const claims = await finishAt(agent, await follow(agent, continueOf(done)), request);
    return { secret, codes, claims };
  }

  it('leads a user whose role requires it through enrolment right after the password; the ID token says pwd + otp', async () => {
    const user = await newUser({ roles: ['finance'] });
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username);
    const page = asPage(next);
    expect(kind(page)).to.equal('enrol');
    expect(page.html).to.contain('<svg').and.contain('Set up two-step sign-in');
    const secret = secretOf(page.html);
    expect(secret).to.match(/^[A-Z2-7]{32}$/);
    // The stored secret is sealed, never the base32 text.
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const stored = await factorModels(mongo).factors.findById(user.id).lean().exec();
      expect(stored?.totpPending?.sealed).to.match(/^v1\./);
      expect(JSON.stringify(stored)).not.to.contain(secret);
    } finally {
      await mongo.close();
    }

    const wrong = asPage(await submit(agent, page, 'enrol', { code: '000000' === totpCode(secret, now) ? '111111' : '000000' }));
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.contain('That code did not work — codes change every 30 seconds');
    expect(secretOf(wrong.html), 'the same secret until confirmed').to.equal(secret);

    const done = asPage(await submit(agent, wrong, 'enrol', { code: totpCode(secret, now) }));
    const codes = codesOf(done.html);
    expect(codes).to.have.length(10);
    expect(new Set(codes).size).to.equal(10);
    // The first codes replace none: no word of older ones.
    expect(done.html).to.contain('They are shown only now.').and.not.contain('Older recovery codes');
    const claims = await finishAt(agent, await follow(agent, continueOf(done)), request);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(claims.acr).to.equal(ACR.multiFactor);

    // A remembered session keeps what was verified: no second prompt, same amr/acr.
    const again = await authorizationRequest(config, REDIRECT_URI);
    const silent = await follow(agent, again.url.toString());
    const claimsAgain = await finishAt(agent, silent, again);
    expect(claimsAgain.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(claimsAgain.acr).to.equal(ACR.multiFactor);
  });

  it('says how many digits and how often codes change per credential: an imported Keycloak app with 8 digits and 60 s, the enrolment page with 6 and 30 s', async () => {
    const enrolment = asPage((await afterPassword(new UserAgent(), (await newUser({ roles: ['finance'] })).username)).next);
    expect(kind(enrolment)).to.equal('enrol');
    expect(enrolment.html).to.include('Enter the 6-digit code the app now shows.');
    const wrongAtEnrolment = asPage(await submit(new UserAgent(), enrolment, 'enrol', { code: '000000' }));
    expect(wrongAtEnrolment.html).to.not.include('8-digit');

    const user = await newUser();
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const parameters = { algorithm: 'SHA256', digits: 8, period: 60 } as const;
    await gatehouse.services.factors.importTotp(user.id, { secret, parameters, enrolledAt: new Date('2026-01-01T00:00:00Z') }, { write: true });
    await gatehouse.services.accounts.setSecondFactor(user.id, true);
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username);
    const verify = asPage(next);
    expect(kind(verify)).to.equal('verify');
    expect(verify.html).to.include('enter the 8-digit code it shows');
    expect(verify.html).to.not.include('6-digit');
    const wrong = asPage(await submit(agent, verify, 'verify', { code: '00000000' }));
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.include('codes change every 60 seconds');
    expect(wrong.html).to.not.include('30 seconds');
    const claims = await finishAt(agent, await submit(agent, wrong, 'verify', { code: totpCode(secret, now, parameters) }), request);
    expect(claims.amr).to.include('otp');
  });

  it('asks an enrolled user every sign-in: right code once, replay refused, previous step accepted, wrong refused', async () => {
    const user = await newUser({ roles: ['finance'] });
    const { secret } = await enrol(new UserAgent(), user.username);
    tick(30);

    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username);
    let page = asPage(next);
    expect(kind(page)).to.equal('verify');
    // The code of the step used at enrolment is refused (replay); a wrong code too.
    page = asPage(await submit(agent, page, 'verify', { code: totpCode(secret, new Date(now.getTime() - 30_000)) }));
    expect(page.status).to.equal(400);
    expect(page.html).to.contain('That code did not work');
    page = asPage(await submit(agent, page, 'verify', { code: totpCode(secret, now) === '123456' ? '654321' : '123456' }));
    expect(page.status).to.equal(400);
    // The current code works once.
    const code = totpCode(secret, now);
    const claims = await finishAt(agent, await submit(agent, page, 'verify', { code }), request);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);

    // Replayed on another browser in the same 30 s: refused.
    const other = new UserAgent();
    const second = await afterPassword(other, user.username);
    const replay = asPage(await submit(other, asPage(second.next), 'verify', { code }));
    expect(replay.status).to.equal(400);
    // 60 s later the previous step's code (never used) is accepted: ±1 step of drift.
    tick(60);
    const previous = totpCode(secret, new Date(now.getTime() - 30_000));
    const late = await finishAt(other, await submit(other, replay, 'verify', { code: previous }), second.request);
    expect(late.acr).to.equal(ACR.multiFactor);
  });

  it('asks for the password and the code again with prompt=login or max_age, within a remembered session', async () => {
    const user = await newUser({ roles: ['finance'] });
    const agent = new UserAgent();
    const { secret } = await enrol(agent, user.username);
    for (const params of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      tick(30);
      const request = await authorizationRequest(config, REDIRECT_URI, params);
      const login = asPage(await follow(agent, request.url.toString()));
      expect(kind(login), JSON.stringify(params)).to.equal('login');
      const mfa = asPage(await submit(agent, login, 'login', { login: user.username, password: PASSWORD, remember: 'yes' }));
      expect(kind(mfa), JSON.stringify(params)).to.equal('verify');
      const claims = await finishAt(agent, await submit(agent, mfa, 'verify', { code: totpCode(secret, now) }), request);
      expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    }
  });

  it('shows the same pending secret to enrolments started at once (two tabs), and confirms it (10 rounds)', async () => {
    const { factors } = gatehouse.services;
    const wrong: string[] = [];
    for (let round = 1; round <= 10; round++) {
      const user = await newUser();
      const secrets = (await Promise.all([factors.beginTotp(user.id), factors.beginTotp(user.id), factors.beginTotp(user.id)])).map((enrolment) => enrolment.secret);
      if (new Set(secrets).size !== 1) wrong.push(`round ${round}: ${new Set(secrets).size} secrets`);
      const confirmed = await factors.confirmTotp(user.id, totpCode(secrets[0]!, now), '198.51.100.77');
      if (!confirmed.ok) wrong.push(`round ${round}: the secret shown first does not confirm`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('takes each recovery code once, shows how many are left, and regenerates all ten', async () => {
    const user = await newUser({ groups: ['ops'] });
    const { codes } = await enrol(new UserAgent(), user.username);
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username);
    const used = asPage(await submit(agent, asPage(next), 'verify', { code: codes[3]!.toUpperCase() }));
    expect(used.html).to.contain('Recovery codes left: 9');
    const regenerated = asPage(await submit(agent, used, 'regenerate'));
    const fresh = codesOf(regenerated.html);
    expect(fresh).to.have.length(10);
    expect(regenerated.html).to.contain('They are shown only now. Older recovery codes no longer work.');
    const claims = await finishAt(agent, await follow(agent, continueOf(regenerated)), request);
    expect(claims.amr).to.include('otp');

    // The used code, and the old codes, no longer work; a new one does.
    for (const code of [codes[3]!, codes[4]!]) {
      const browser = new UserAgent();
      const again = await afterPassword(browser, user.username);
      const refused = asPage(await submit(browser, asPage(again.next), 'verify', { code }));
      expect(refused.status, code).to.equal(400);
      expect(refused.html).to.contain('That code did not work');
    }
    const last = new UserAgent();
    const ok = await afterPassword(last, user.username);
    const page = asPage(await submit(last, asPage(ok.next), 'verify', { code: fresh[0]! }));
    expect(page.html).to.contain('Recovery codes left: 9');
    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [user.id], limit: 100 });
    const types = events.map((event) => event.type);
    expect(types).to.include.members(['mfa.enrolled', 'mfa.recovery_code_used', 'mfa.recovery_codes_created', 'mfa.failure']);
    expect(JSON.stringify(events)).not.to.contain(fresh[0]!).and.not.to.contain(codes[4]!);
  });

  it('locks the account after repeated wrong codes: then even the right code fails the same way', async () => {
    const user = await newUser({ roles: ['finance'] });
    const { secret } = await enrol(new UserAgent(), user.username);
    tick(30);
    const agent = new UserAgent();
    const { next } = await afterPassword(agent, user.username);
    let page = asPage(next);
    const wrong = totpCode(secret, now) === '999999' ? '888888' : '999999';
    for (let i = 0; i < 4; i++) page = asPage(await submit(agent, page, 'verify', { code: wrong }));
    const locked = asPage(await submit(agent, page, 'verify', { code: totpCode(secret, now) }));
    expect(locked.status).to.equal(400);
    expect(locked.html).to.contain('That code did not work');
    expect((await gatehouse.services.accounts.listLockouts()).some((lock) => lock.subject === user.id)).to.equal(true);
    await gatehouse.services.accounts.unlock(user.id);
  });

  describe('policy matrix', () => {
    it('asks nobody else: a user without a factor, role, group, client rule or acr_values signs in with the password only', async () => {
      const user = await newUser();
      const agent = new UserAgent();
      const { request, next } = await afterPassword(agent, user.username);
      const claims = await finishAt(agent, next, request);
      expect(claims.amr).to.deep.equal(['pwd']);
      expect(claims.acr).to.equal(ACR.singleFactor);
    });

    it('role, group, client require_mfa and acr_values each lead to enrolment', async () => {
      const service = await gatehouse.services.clients.create({
        displayName: 'Payroll',
        metadata: {
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          require_mfa: true,
        },
      });
      const payroll = await relyingParty(deploy.issuer, service.client.clientId, service.secret!);
      const cases: Array<[string, { roles?: string[]; groups?: string[] }, Record<string, string>, oidc.Configuration]> = [
        ['role', { roles: ['finance'] }, {}, config],
        ['group', { groups: ['ops'] }, {}, config],
        ['client', {}, {}, payroll],
        ['acr_values', {}, { acr_values: ACR.multiFactor }, config],
        ['claims essential acr', {}, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR.multiFactor } } }) }, config],
      ];
      for (const [why, extra, params, at] of cases) {
        const user = await newUser(extra);
        const agent = new UserAgent();
        const { request, next } = await afterPassword(agent, user.username, params, at);
        expect(kind(next), why).to.equal('enrol');
        const page = asPage(next);
        const done = asPage(await submit(agent, page, 'enrol', { code: totpCode(secretOf(page.html), now) }));
        const claims = await finishAt(agent, await follow(agent, continueOf(done)), request, at);
        expect(claims.acr, why).to.equal(ACR.multiFactor);
        expect(claims.amr, why).to.include('otp');
      }
    });

    it('takes acr_values that also accept the password level as satisfied by the password: no enrolment (OIDF oidcc-ensure-request-with-acr-values-succeeds)', async () => {
      // The conformance suite sends every value of acr_values_supported ("password mfa"); the
      // values are preferences (OIDC Core §3.1.2.1), and a user without a factor is not made to enrol.
      for (const acrValues of [`${ACR.singleFactor} ${ACR.multiFactor}`, `${ACR.multiFactor} ${ACR.singleFactor}`, `urn:example:loa:3 ${ACR.multiFactor} ${ACR.singleFactor}`]) {
        const user = await newUser();
        const agent = new UserAgent();
        const { request, next } = await afterPassword(agent, user.username, { acr_values: acrValues });
        expect(kind(next), acrValues).not.to.equal('enrol');
        const claims = await finishAt(agent, next, request);
        expect(claims.acr, acrValues).to.equal(ACR.singleFactor);
        expect(claims.amr, acrValues).to.deep.equal(['pwd']);
      }
      // The same for an essential acr in the claims parameter that lists both levels.
      const user = await newUser();
      const agent = new UserAgent();
      const both = JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.multiFactor, ACR.singleFactor] } } });
      const { request, next } = await afterPassword(agent, user.username, { claims: both });
      expect(kind(next)).not.to.equal('enrol');
      expect((await finishAt(agent, next, request)).acr).to.equal(ACR.singleFactor);
    });

    it('still asks a user who has a factor when acr_values prefers mfa and also lists password', async () => {
      const user = await newUser();
      const first = new UserAgent();
      const started = await afterPassword(first, user.username, { acr_values: ACR.multiFactor });
      const enrolPage = asPage(started.next);
      const secret = secretOf(enrolPage.html);
      const enrolled = asPage(await submit(first, enrolPage, 'enrol', { code: totpCode(secret, now) }));
      await finishAt(first, await follow(first, continueOf(enrolled)), started.request);
      tick(30);
      const agent = new UserAgent();
      const { request, next } = await afterPassword(agent, user.username, { acr_values: `${ACR.multiFactor} ${ACR.singleFactor}` });
      expect(kind(next)).to.equal('verify');
      const claims = await finishAt(agent, await submit(agent, asPage(next), 'verify', { code: totpCode(secret, now) }), request);
      expect(claims.acr).to.equal(ACR.multiFactor);
    });

    it('steps up a password-only session when the client asks with acr_values, without asking for the password again', async () => {
      const user = await newUser();
      const agent = new UserAgent();
      const first = await afterPassword(agent, user.username);
      expect((await finishAt(agent, first.next, first.request)).acr).to.equal(ACR.singleFactor);
      const request = await authorizationRequest(config, REDIRECT_URI, { acr_values: ACR.multiFactor });
      const page = asPage(await follow(agent, request.url.toString()));
      expect(kind(page)).to.equal('enrol');
      const done = asPage(await submit(agent, page, 'enrol', { code: totpCode(secretOf(page.html), now) }));
      const claims = await finishAt(agent, await follow(agent, continueOf(done)), request);
      expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
      // prompt=none with acr_values on a password-only session elsewhere: interaction_required, never a token.
      const other = await newUser();
      const otherAgent = new UserAgent();
      const signed = await afterPassword(otherAgent, other.username);
      await finishAt(otherAgent, signed.next, signed.request);
      const silent = await authorizationRequest(config, REDIRECT_URI, { acr_values: ACR.multiFactor, prompt: 'none' });
      const answer = await follow(otherAgent, silent.url.toString());
      expect((answer as URL).searchParams.get('error')).to.equal('interaction_required');
    });
  });

  it('lets operators see and reset factors through the admin API and the CLI (audited); the next sign-in enrols again', async () => {
    const user = await newUser({ roles: ['finance'] });
    await enrol(new UserAgent(), user.username);
    const admin = await adminClient(gatehouse, `mfa-ops-${n}`);
    const token = await admin.token();
    const shown = await callAdmin(gatehouse.url, token, 'GET', `/users/${user.id}/mfa`);
    expect(shown.status).to.equal(200);
    expect(shown.body).to.include({ enrolled: true, recovery_codes_left: 10 });
    expect(shown.body.totp.enrolled_at).to.be.a('string');
    expect((await callAdmin(gatehouse.url, token, 'GET', '/users/no-such-user/mfa')).status).to.equal(404);

    const env = instances.cliEnv({ GATEHOUSE_ISSUER: deploy.issuer });
    const seen = await runCli(['users', 'mfa', user.username, '--json'], env);
    expect(seen.code, seen.stderr).to.equal(0);
    expect(JSON.parse(seen.stdout)).to.include({ id: user.id, enrolled: true, recovery_codes_left: 10 });
    const reset = await runCli(['users', 'mfa', user.username, '--reset', '--json'], env);
    expect(reset.code, reset.stderr).to.equal(0);
    expect(JSON.parse(reset.stdout)).to.include({ reset: true, enrolled: false, recovery_codes_left: 0 });

    // Required by role and now without a factor: enrols again; the admin API resets that one.
    await enrol(new UserAgent(), user.username);
    expect((await callAdmin(gatehouse.url, token, 'DELETE', `/users/${user.id}/mfa`)).status).to.equal(204);
    expect((await callAdmin(gatehouse.url, token, 'GET', `/users/${user.id}/mfa`)).body).to.include({ enrolled: false });
    await gatehouse.services.audit.flush();
    const { events: resets } = await gatehouse.services.audit.query({ users: [user.id], types: ['user.mfa_reset'], limit: 10 });
    expect(resets.map((event) => event.actor.type).sort()).to.deep.equal(['cli', 'client']);
  });

  it('enrols on instance A and signs in with the code on instance B; an operator reset ends the prompt', async () => {
    const second = instances.b;
    const user = await newUser({ roles: ['finance'] });
    const { secret } = await enrol(new UserAgent(), user.username);
    tick(30);
    // Every request of this browser goes to instance B (same issuer, same stores).
    const agent = new ViaAgent(deploy.issuer, second.url);
    const request = await authorizationRequest(config, REDIRECT_URI);
    const login = asPage(await follow(agent, request.url.toString()));
    const mfa = asPage(await submit(agent, login, 'login', { login: user.username, password: PASSWORD, remember: 'yes' }));
    expect(kind(mfa)).to.equal('verify');
    const claims = await finishAt(agent, await submit(agent, mfa, 'verify', { code: totpCode(secret, now) }), request);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(agent.served.size, 'every request went to B').to.equal(1);

    expect(await gatehouse.services.factors.reset(user.id)).to.equal(true);
    expect((await gatehouse.services.factors.status(user.id)).enrolled).to.equal(false);
  });

  it('enrols new apps with the OTP policy (8 digits, 60 s, SHA-256) while apps enrolled earlier keep theirs; the look-ahead applies to every code', async () => {
    const otp = gatehouse.services.runtimeSettings.otp;
    const earlier = await newUser({ roles: ['finance'] });
    const { secret: earlierSecret } = await enrol(new UserAgent(), earlier.username);
    try {
      await otp.update({ otp_digits: 8, otp_period: 60, otp_algorithm: 'SHA256', otp_look_ahead: 0 });
      const policy = { algorithm: 'SHA256', digits: 8, period: 60 } as const;

      const later = await newUser({ roles: ['finance'] });
      const page = asPage((await afterPassword(new UserAgent(), later.username)).next);
      expect(kind(page)).to.equal('enrol');
      expect(page.html).to.include('Enter the 8-digit code the app now shows.');
      const secret = secretOf(page.html);
      // A code computed with RFC 6238's defaults is not this app's.
      const agent = new UserAgent();
      const started = await afterPassword(agent, later.username);
      const enrolPage = asPage(started.next);
      expect(secretOf(enrolPage.html), 'the pending app is shown again').to.equal(secret);
      const refused = asPage(await submit(agent, enrolPage, 'enrol', { code: totpCode(secret, now) }));
      expect(kind(refused)).to.equal('enrol');
      const done = asPage(await submit(agent, refused, 'enrol', { code: totpCode(secret, now, policy) }));
      expect(codesOf(done.html)).to.have.length(10);
      await finishAt(agent, await follow(agent, continueOf(done)), started.request);
      expect((await gatehouse.services.factors.status(later.id)).totpParameters).to.deep.equal(policy);
      const stored = await gatehouse.services.factors.status(earlier.id);
      expect(stored.totpParameters, 'the app enrolled before keeps RFC 6238 defaults').to.deep.equal({ algorithm: 'SHA1', digits: 6, period: 30 });

      // Sign-in: each app with its own parameters; look-ahead 0 refuses the previous step's code.
      tick(120);
      const agentA = new UserAgent();
      const again = await afterPassword(agentA, earlier.username);
      expect(asPage(again.next).html).to.include('enter the 6-digit code');
      const previousStep = totpCode(earlierSecret, new Date(now.getTime() - 30_000));
      const late = asPage(await submit(agentA, asPage(again.next), 'verify', { code: previousStep }));
      expect(kind(late), 'look-ahead 0: only the current step').to.equal('verify');
      await otp.update({ otp_look_ahead: 1 });
      const agentB = new UserAgent();
      const signIn = await afterPassword(agentB, earlier.username);
      const claims = await finishAt(agentB, await submit(agentB, asPage(signIn.next), 'verify', { code: previousStep }), signIn.request);
      expect(claims.amr).to.include('otp');
    } finally {
      await otp.update({ otp_digits: null, otp_period: null, otp_algorithm: null, otp_look_ahead: null });
    }
  });

});
