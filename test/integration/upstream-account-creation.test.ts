import { expect } from 'chai';
import type { Accounts } from '../../src/accounts/accounts.ts';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import type { UpstreamProvider } from '../../src/upstream/directory.ts';
import { upstreamLinking } from '../../src/upstream/linking.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';

const SYSTEM_ACTOR = { actor: { type: 'system' as const, id: 'test' } };

/**
 * Just-in-time accounts from upstream identities, on the real stores of a running Gatehouse:
 * what the upstream sends must never make the sign-in fail — an optional claim the local rules
 * refuse is shortened or left out, and an email another account took meanwhile (between the
 * check and the insert: the competing account is created right after the check, here) is left
 * out, or linked when the provider links by verified email. The sign-in through a real upstream
 * (a second Gatehouse) is in test/e2e/upstream-sign-in.test.ts.
 */
describe('upstream just-in-time accounts: overlong claims and a racing email (real stores)', function () {
  this.timeout(60_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let plain: UpstreamProvider;
  let byEmail: UpstreamProvider;

  before(async () => {
    deploy = await deployment('upstream_create');
    gatehouse = await deploy.start();
    const create = (alias: string, extra: Record<string, unknown> = {}) =>
      upstreamOperations(gatehouse.services).create(SYSTEM_ACTOR, { alias, kind: 'oidc', display_name: alias, issuer: 'https://idp.example', client_id: 'gatehouse', client_secret: 'secret', scopes: ['openid', 'email', 'profile'], ...extra });
    plain = await create('plain');
    byEmail = await create('byemail', { link_by_email: true });
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  /** The linking rules over this Gatehouse's services; `accounts` replaced where a test says. */
  function linking(accounts: Accounts = gatehouse.services.accounts) {
    return upstreamLinking({ directory: gatehouse.services.upstream, accounts, users: gatehouse.services.users, audit: gatehouse.audit });
  }

  /**
   * The accounts, with another account taking `email` right after createFromPending has looked
   * for it (the race: the check finds nobody, the insert meets the other account). Counts the
   * creations tried.
   */
  function racedBy(email: string, competitor: { username: string; emailVerified: boolean }) {
    const real = gatehouse.services.accounts;
    const tried: Array<string | null | undefined> = [];
    let raced = false;
    const accounts: Accounts = {
      ...real,
      async findByLogin(login) {
        const found = await real.findByLogin(login);
        if (login === email && !raced) {
          raced = true;
          await real.createUser({ username: competitor.username, password: PASSWORD, email, emailVerified: competitor.emailVerified });
        }
        return found;
      },
      async createUser(input) {
        tried.push(input.email);
        return real.createUser(input);
      },
    };
    return { accounts, tried };
  }

  const pendingOf = (provider: UpstreamProvider, subject: string, claims: Record<string, unknown>) =>
    linking().resolve(provider, { subject, claims: { sub: subject, ...claims }, amr: [], idToken: undefined }, undefined).then((outcome) => {
      expect(outcome.kind).to.equal('pending');
      return (outcome as Extract<typeof outcome, { kind: 'pending' }>).pending;
    });

  it('an email another account takes meanwhile is left out after the first refusal, not sent three times: the account is created and signed in', async () => {
    const email = 'raced@corp.example';
    const pending = await pendingOf(plain, 'raced-1', { email, email_verified: true, preferred_username: 'raced', name: 'Raced' });
    const { accounts, tried } = racedBy(email, { username: 'quick', emailVerified: true });
    const outcome = await linking(accounts).createFromPending(plain, pending, undefined);
    expect(outcome.kind).to.equal('signed_in');
    expect(tried, 'the email once, then without it').to.deep.equal([email, undefined]);
    const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
    expect(created).to.deep.include({ email: null, name: 'Raced' });
    expect((await gatehouse.services.accounts.findByLogin(email))?.username, 'the address stays with the account that took it').to.equal('quick');
  });

  it('with link_by_email, a verified email that its confirmed owner took meanwhile links to that owner (as the rule would have before the race)', async () => {
    const email = 'owner@corp.example';
    const pending = await pendingOf(byEmail, 'raced-2', { email, email_verified: true, preferred_username: 'owner', name: 'Owner' });
    const { accounts, tried } = racedBy(email, { username: 'confirmed', emailVerified: true });
    const outcome = await linking(accounts).createFromPending(byEmail, pending, undefined);
    const owner = await gatehouse.services.accounts.findByLogin(email);
    expect(owner?.username).to.equal('confirmed');
    expect(outcome).to.deep.include({ kind: 'signed_in', userId: owner!.id });
    expect(tried).to.deep.equal([email]);
    expect((await gatehouse.services.upstream.findLink('byemail', 'raced-2'))?.userId).to.equal(owner!.id);
  });

  it('with link_by_email, an address whose new owner has not confirmed it is left out instead (nobody collects another person\'s sign-ins)', async () => {
    const email = 'unconfirmed@corp.example';
    const pending = await pendingOf(byEmail, 'raced-3', { email, email_verified: true, preferred_username: 'unconf', name: 'Unconfirmed' });
    const { accounts, tried } = racedBy(email, { username: 'typedit', emailVerified: false });
    const outcome = await linking(accounts).createFromPending(byEmail, pending, undefined);
    expect(outcome.kind).to.equal('signed_in');
    const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
    expect(created?.username).to.not.equal('typedit');
    expect(created?.email).to.equal(null);
    expect(tried).to.deep.equal([email, undefined]);
  });

  it('a verified upstream address that a local account holds unconfirmed goes to the new account (the verified owner wins): the local account loses it, audited — never a silent account without an address', async () => {
    const email = 'squatted@corp.example';
    const squatter = await gatehouse.services.accounts.createUser({ username: 'squatter', password: PASSWORD, email, emailVerified: false });
    const pending = await pendingOf(plain, 'owner-4', { email, email_verified: true, preferred_username: 'realowner', name: 'Real Owner' });
    const outcome = await linking().createFromPending(plain, pending, undefined);
    expect(outcome.kind).to.equal('signed_in');
    const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
    expect(created).to.deep.include({ email, emailVerified: true });
    expect(await gatehouse.services.accounts.findById(squatter.id)).to.deep.include({ email: null, emailVerified: false });
    expect((await gatehouse.services.accounts.findByLogin(email))?.id).to.equal(created!.id);
    await gatehouse.flushBatchedWrites();
    const [released] = (await gatehouse.services.audit.query({ types: ['user.email_released'], users: [squatter.id], limit: 5 })).events;
    expect(released?.details).to.deep.include({ provider: 'plain' });
    const [made] = (await gatehouse.services.audit.query({ types: ['upstream.account_created'], users: [created!.id], limit: 5 })).events;
    expect(made?.details).to.deep.include({ emailReleasedFrom: squatter.id });
  });

  it('an address a local account holds keeps its holder when the holder confirmed it, or when the upstream did not verify it: the new account has none, and its creation says why (audited)', async () => {
    const confirmed = 'kept@corp.example';
    const holder = await gatehouse.services.accounts.createUser({ username: 'keeper', password: PASSWORD, email: confirmed, emailVerified: true });
    const unverifiedClaim = 'typed@corp.example';
    const typist = await gatehouse.services.accounts.createUser({ username: 'typist', password: PASSWORD, email: unverifiedClaim, emailVerified: false });
    for (const [subject, email, verified, keeper] of [['kept-5', confirmed, true, holder], ['typed-6', unverifiedClaim, false, typist]] as const) {
      const pending = await pendingOf(plain, subject, { email, email_verified: verified, preferred_username: subject });
      const outcome = await linking().createFromPending(plain, pending, undefined);
      expect(outcome.kind).to.equal('signed_in');
      const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
      expect(created?.email, subject).to.equal(null);
      expect((outcome as { emailLeftOut?: string }).emailLeftOut, `${subject}: the address left out, for the page that says so`).to.equal(email);
      expect((await gatehouse.services.accounts.findById(keeper.id))?.email, subject).to.equal(email);
      await gatehouse.flushBatchedWrites();
      const [made] = (await gatehouse.services.audit.query({ types: ['upstream.account_created'], users: [created!.id], limit: 5 })).events;
      expect(made?.details, subject).to.deep.include({ emailLeftOut: 'taken' });
    }
    await gatehouse.flushBatchedWrites();
    expect((await gatehouse.services.audit.query({ types: ['user.email_released'], users: [typist.id], limit: 5 })).events).to.deep.equal([]);
  });

  it('the same identity signing in for the first time in two tabs at once: both end up signed in as one account, and no second account is left behind', async () => {
    const pending = await pendingOf(plain, 'twins-1', { preferred_username: 'twin', name: 'Twin' });
    // The seam: each sign-in waits after creating its account until the other has created one
    // too, so both passed "not linked yet" and both try to link (the race, every time).
    const real = gatehouse.services.accounts;
    const created: string[] = [];
    let bothCreated: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothCreated = resolve));
    const accounts: Accounts = {
      ...real,
      async createUser(input) {
        const user = await real.createUser(input);
        created.push(user.id);
        if (created.length === 2) bothCreated();
        await barrier;
        return user;
      },
    };
    const outcomes = await Promise.allSettled([linking(accounts).createFromPending(plain, pending, undefined), linking(accounts).createFromPending(plain, pending, undefined)]);
    expect(created, 'both sign-ins created an account').to.have.length(2);
    const link = await gatehouse.services.upstream.findLink('plain', 'twins-1');
    expect(link).to.not.equal(undefined);
    for (const outcome of outcomes) {
      expect(outcome.status, outcome.status === 'rejected' ? String(outcome.reason) : '').to.equal('fulfilled');
      expect((outcome as PromiseFulfilledResult<Awaited<ReturnType<ReturnType<typeof linking>['createFromPending']>>>).value).to.deep.include({ kind: 'signed_in', userId: link!.userId });
    }
    const loser = created.find((id) => id !== link!.userId)!;
    expect(await real.findById(loser), 'the account the losing tab created is gone').to.equal(undefined);
    const twins = await gatehouse.services.users.search({ query: 'twin', limit: 50, offset: 0 });
    expect(twins.users.map((user) => user.id)).to.deep.equal([link!.userId]);
  });

  it('shortens an overlong name and leaves out an email or picture the local rules refuse, instead of failing the sign-in', async () => {
    const name = `${'Ñ'.repeat(200)} ${'😀'.repeat(100)}`;
    const picture = `https://img.example/${'p'.repeat(3000)}`;
    const pending = await pendingOf(plain, 'long-1', { email: `${'x'.repeat(300)}@corp.example`, email_verified: true, preferred_username: 'longname', name, picture });
    const outcome = await linking().createFromPending(plain, pending, undefined);
    expect(outcome.kind).to.equal('signed_in');
    const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
    expect(created?.email).to.equal(null);
    expect(created?.attributes.picture).to.equal(undefined);
    // 256 UTF-16 units at most, cut between characters (never half an emoji), trailing space gone.
    expect(created?.name).to.equal(`${'Ñ'.repeat(200)} ${'😀'.repeat(27)}`);
  });

  it('a name cut at 256 keeps an emoji sequence whole or leaves it out, never its first member with a dangling joiner', async () => {
    // 👩‍💻 is three code points (👩, a zero-width joiner, 💻) and five UTF-16 units, across unit 256 here.
    const name = `${'x'.repeat(252)} 👩\u200D💻`;
    const pending = await pendingOf(plain, 'zwj-1', { preferred_username: 'zwjname', name });
    const outcome = await linking().createFromPending(plain, pending, undefined);
    expect(outcome.kind).to.equal('signed_in');
    const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
    expect(created?.name).to.equal('x'.repeat(252));
  });

  it('an upstream username with a letter outside the basic plane across the 48-unit cut: the account is made, its username cut before the whole letter', async () => {
    // 𠮷 (U+20BB7, as in 𠮷野家) is a letter the username rule accepts, two UTF-16 units: units 48 and 49 here.
    for (const [subject, wanted, expected] of [
      ['astral-1', `${'y'.repeat(47)}𠮷𠮷`, 'y'.repeat(47)],
      ['astral-2', `${'z'.repeat(46)}𠮷𠮷`, `${'z'.repeat(46)}𠮷`], // the control: one whole letter fits
    ] as const) {
      const pending = await pendingOf(plain, subject, { preferred_username: wanted, name: 'Astral' });
      const outcome = await linking().createFromPending(plain, pending, undefined);
      expect(outcome.kind, subject).to.equal('signed_in');
      const created = await gatehouse.services.accounts.findById((outcome as { userId: string }).userId);
      expect(created?.username, subject).to.equal(expected);
    }
  });
});
