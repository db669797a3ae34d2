import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn as browserSignIn, UserAgent } from '../helpers/browserless.ts';
import { instanceForSuite, PASSWORD, REDIRECT_URI, seed } from '../helpers/e2e.ts';
import { testClock } from '../helpers/clock.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { isFerretDbV1 } from '../../src/storage/server-kind.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

/** Commands one store received, by name. */
type Tally = Map<string, number>;

/** MongoDB commands that read, and those that write (the rest is housekeeping such as `hello`). */
const MONGO_READS = new Set(['find', 'aggregate', 'count', 'getMore']);
const MONGO_WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);

/**
 * Writes batched off the request path, one command per second per instance whatever the number
 * of sign-ins (audit events; last sign-in times in user_sign_ins, test/integration/last-login.test.ts; where
 * sessions were used, src/sessions/devices.ts). Their
 * timer may fire inside a counted request, so they are not part of a request's budget.
 */
const BATCHED = new Set(['insert audit_events', 'update user_sign_ins', 'update session_devices', 'insert session_devices']);

function requestWrites(trace: readonly string[]): number {
  return trace.filter((entry) => MONGO_WRITES.has(entry.split(' ')[0]!) && !BATCHED.has(entry)).length;
}

function sum(tally: Tally, names?: Set<string>): number {
  let total = 0;
  for (const [name, count] of tally) if (names === undefined || names.has(name)) total += count;
  return total;
}

const describeTally = (tally: Tally) => JSON.stringify(Object.fromEntries(tally));
const API = 'https://api.round-trips.example';

/**
 * Round trips per operation on the stateful paths, counted on the instance's own connections
 * (issue 21's budgets). Counting, not timing: the numbers do not depend on the machine.
 */
describe('store round trips per request (counted on the connections)', function () {
  this.timeout(60_000);
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let counting = false;
  const mongo: Tally = new Map();
  const redis: Tally = new Map();
  /** `command target` of every MongoDB command counted. */
  const mongoTrace: string[] = [];
  /** `command kind` of every Redis command counted; kind = the key without the instance prefix and the id. */
  const redisTrace: string[] = [];
  /** The write each command of redisTrace went in (the same object for one pipeline), undefined when sent alone. */
  const redisWrites: Array<object | undefined> = [];
  let redisPrefix: string;
  let web: { clientId: string; secret: string };
  /** A third-party app (consent page) of the same shape as `web`. */
  let thirdParty: { clientId: string; secret: string };
  let service: { clientId: string; secret: string };
  let username: string;

  const count = async <T>(run: () => Promise<T>): Promise<{ result: T; mongo: Tally; redis: Tally; trace: string[] }> => {
    // Writes batched off the request path (audit events, last sign-in times) are counted apart.
    await gatehouse.flushBatchedWrites();
    mongo.clear();
    redis.clear();
    mongoTrace.length = 0;
    redisTrace.length = 0;
    redisWrites.length = 0;
    counting = true;
    try {
      const result = await run();
      return { result, mongo: new Map(mongo), redis: new Map(redis), trace: [...mongoTrace] };
    } finally {
      counting = false;
    }
  };

  const keyKind = (key: string | undefined) => (key === undefined ? '-' : (key.startsWith(redisPrefix) ? key.slice(redisPrefix.length) : key).split(':')[0]!);
  const counted = instanceForSuite('round_trips', {
    // Key-set polls (a MongoDB read every 5 s by default) only at startup: a slow counted
    // sign-in would otherwise contain one (seen beside stress-ng).
    settings: { GATEHOUSE_KEY_POLL_INTERVAL: '3600' },
    // Frozen: what a warm-up left in the caches (client, Session/Grant records, account) is
    // still there when the counted request comes, however slow the machine is in between.
    clock: testClock({ frozen: true }),
    onStoreCommand: (store, command, target, write) => {
      if (!counting) return;
      if (process.env.ROUND_TRIPS_TRACE) console.log(store, command, target);
      const tally = store === 'mongodb' ? mongo : redis;
      if (store === 'mongodb') mongoTrace.push(`${command} ${target}`);
      else {
        redisTrace.push(`${command} ${keyKind(target)}`);
        redisWrites.push(write);
      }
      tally.set(command, (tally.get(command) ?? 0) + 1);
    },
  });

  before(async function () {
    ({ gatehouse, deploy: { issuer } } = counted);
    redisPrefix = counted.deploy.settings.GATEHOUSE_REDIS_PREFIX!;
    const seeded = await seed(gatehouse);
    username = seeded.user.username;
    const created = await gatehouse.services.clients.create({
      displayName: 'First-party web app',
      firstParty: true,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email offline_access',
      },
    });
    web = { clientId: created.client.clientId, secret: created.secret! };
    const other = await gatehouse.services.clients.create({
      displayName: 'Third-party web app',
      metadata: {
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email offline_access',
      },
    });
    thirdParty = { clientId: other.client.clientId, secret: other.secret! };
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'] });
    const machine = await gatehouse.services.clients.create({
      displayName: 'Service',
      allowedApis: [API],
      metadata: { redirect_uris: [], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    });
    service = { clientId: machine.client.clientId, secret: machine.secret! };
  });

  const basic = (client = web) => clientSecretBasic(client.clientId, client.secret);

  async function token(form: Record<string, string>, client = web): Promise<Record<string, unknown>> {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).to.equal(200);
    return body;
  }

  /** /auth → the sign-in page (not counted); then the form POST → redirects → code → tokens (counted). */
  async function signIn(as = username, client = web): Promise<{ mongo: Tally; redis: Tally; trace: string[]; redisTrace: string[]; redisWrites: Array<object | undefined>; tokens: Record<string, unknown> }> {
    const agent = new UserAgent();
    const query = new URLSearchParams({ client_id: client.clientId, response_type: 'code', scope: 'openid profile email', redirect_uri: REDIRECT_URI });
    let url = `${issuer}/auth?${query}`;
    let response = await agent.request(url);
    while (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).toString();
      response = await agent.request(url);
    }
    const login = formsOf(await response.text()).find((form) => form.action.endsWith('/login'));
    expect(login, 'sign-in form').to.not.equal(undefined);
    const counted = await count(async () => {
      let next = await agent.postForm(new URL(login!.action, url).toString(), { ...login!.fields, login: as, password: PASSWORD, remember: 'yes' });
      let at = url;
      while (next.status >= 300 && next.status < 400) {
        at = new URL(next.headers.get('location')!, at).toString();
        if (at.startsWith(REDIRECT_URI)) break;
        next = await agent.request(at);
      }
      const code = new URL(at).searchParams.get('code');
      expect(code, `redirected to ${at}`).to.be.a('string');
      const tokens = await token({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT_URI }, client);
      return { tokens, redisTrace: [...redisTrace], redisWrites: [...redisWrites] };
    });
    return { mongo: counted.mongo, redis: counted.redis, trace: counted.trace, redisTrace: counted.result.redisTrace, redisWrites: counted.result.redisWrites, tokens: counted.result.tokens };
  }

  /**
   * The resume destroys the interaction, then saves the code: the destroy waits for that save and
   * both go to Redis in one pipeline — one write, one reply read — instead of a round trip each
   * (src/storage/oidc/interaction-hand-off.ts, deferDestroy); both before the POST answers.
   */
  it('a sign-in sends the interaction\'s destroy in one Redis write with the code\'s save', async function () {
    await signIn();
    const { redisTrace: sent, redisWrites: writes } = await signIn();
    const destroy = sent.indexOf('evalsha Interaction');
    const save = sent.indexOf('evalsha AuthorizationCode');
    expect([destroy, save], sent.join(', ')).to.not.include(-1);
    expect(writes[destroy], sent.join(', ')).to.not.equal(undefined);
    expect(writes[destroy] === writes[save], `the destroy (${destroy}) and the save (${save}) in one write: ${sent.join(', ')}`).to.equal(true);
  });

  it('a sign-in (form POST to tokens): at most 2 MongoDB reads, 3 writes and 10 Redis commands', async function () {
    await signIn(); // warms the caches a running server has (client, keys, account on first use)
    const { mongo: m, redis: r, trace } = await signIn();
    const summary = `MongoDB ${trace.join(', ')}; Redis ${describeTally(r)}`;
    expect(sum(m, MONGO_READS), summary).to.be.at.most(2);
    expect(requestWrites(trace), summary).to.be.at.most(3);
    expect(sum(r), summary).to.be.at.most(10);
  });

  /**
   * Signs `login` in (a user nothing of whom is cached) and checks the exact commands sent;
   * `extraReads`: MongoDB reads beyond the user's (a third-party app's consent record).
   */
  async function expectExactSignIn(login: string, client = web, extraReads: readonly string[] = []): Promise<void> {
    const { trace, redisTrace: sent, tokens } = await signIn(login, client);
    expect(tokens.id_token).to.be.a('string');
    const mongoCommands = trace.filter((entry) => !BATCHED.has(entry)).sort();
    // A login with @ is looked up as an email and as a username at once (accounts.ts): two reads,
    // made whether or not the email exists.
    const userReads = login.includes('@') ? ['find users', 'find users'] : ['find users'];
    // The session (with its uid copy), the grant and the refresh token are new: one insert each,
    // not an upsert (FerretDB runs an upsert as a read and a write; mongo-adapter.ts justMade).
    expect(mongoCommands, trace.join(', ')).to.deep.equal([...extraReads, ...userReads, 'insert oidc_grant', 'insert oidc_refresh_token', 'insert oidc_session'].sort());
    // The client-authentication gate reads its failure counter in one transaction, unless it saw
    // this client succeed less than a second ago (attempt-limits.ts): either that, or nothing.
    const gate = sent.filter((entry) => entry.endsWith(' gh_attempts_client_auth') || entry.endsWith(' -'));
    expect([[], ['exec -', 'get gh_attempts_client_auth', 'multi -', 'pttl gh_attempts_client_auth']], sent.join(', ')).to.deep.include([...gate].sort());
    const counted = (entries: readonly string[]) => Object.fromEntries([...new Set(entries)].sort().map((entry) => [entry, entries.filter((other) => other === entry).length]));
    expect(counted(sent.filter((entry) => !gate.includes(entry))), sent.join(', ')).to.deep.equal({
      // the interaction: read on the POST; the resume runs in the same request and reads the
      // result from it (src/interactions/resume-here.ts, src/storage/oidc/interaction-hand-off.ts),
      // so the result is never stored: the resume's destroy is the one write
      'hmget Interaction': 1,
      'evalsha Interaction': 1,
      // the login limiter: the locks checked and the attempt counted in flight on the three keys
      // in one script (guesses sent together cannot all pass before one is counted; correct
      // passwords are never counted as failures), then the pair's counter and level reset and
      // the in-flight counts ended in another
      'evalsha gh_login_account_ip': 2,
      // the code: saved, read and consumed; the access token: saved
      'evalsha AuthorizationCode': 2,
      'hmget AuthorizationCode': 1,
      'evalsha AccessToken': 1,
    });
  }

  const unique = () => Math.random().toString(36).slice(2, 8);

  /**
   * The exact commands of a sign-in, so that any added round trip shows up here (issue 21).
   * A user signing in for the first time in a while (nothing of theirs cached): the user is read
   * once, by login — the tokens' claims come from that read (AccountCache#signingIn).
   */
  it('a sign-in sends exactly these commands: 1 user read, 3 record writes, 8 Redis commands', async function () {
    await signIn(); // warms what every sign-in shares (client, keys, Redis scripts)
    const fresh = await gatehouse.services.accounts.createUser({ username: `bob${unique()}`, password: PASSWORD, email: `bob${unique()}@example.com` });
    await expectExactSignIn(fresh.username);
  });

  /**
   * A third-party app the user allowed in an earlier sign-in session (src/oidc/grant-policy.ts):
   * the session's grant is made from the user's consent record instead of the consent page — the
   * first-party sign-in's commands plus one read of that record (by its unique index). The
   * first-party sign-in above reads no record.
   */
  it('a third-party sign-in covered by the user\'s consent record: the same commands plus one read of the record', async function () {
    await signIn();
    const fresh = await gatehouse.services.accounts.createUser({ username: `cara${unique()}`, password: PASSWORD, email: `cara${unique()}@example.com` });
    const query = new URLSearchParams({ client_id: thirdParty.clientId, response_type: 'code', scope: 'openid profile email', redirect_uri: REDIRECT_URI });
    const first = await browserSignIn(new UserAgent(), `${issuer}/auth?${query}`, REDIRECT_URI, { username: fresh.username, password: PASSWORD });
    expect(first.sawConsent, 'the first sign-in asks').to.equal(true);
    await expectExactSignIn(fresh.username, thirdParty, ['find user_consents']);
  });

  /**
   * A login that contains `@` is an email: the password step first looks for an upstream provider
   * that owns its domain (home-domain routing). That list comes from the instance's copy
   * (src/upstream/provider-list.ts), so an email sign-in reads no more than the user lookup (by email and by username, at once).
   */
  it('an email-login sign-in sends the same commands but one more user read (email and username at once): the home-domain check reads nothing', async function () {
    await signIn();
    const email = `erin${unique()}@example.com`;
    await gatehouse.services.accounts.createUser({ username: `erin${unique()}`, password: PASSWORD, email });
    await expectExactSignIn(email);
  });

  /**
   * An authorization through an existing session (single sign-on, or an app asking again): the
   * first-party client's remembered grant already covers it, so it is not written again
   * (src/oidc/grant-policy.ts) — before, every such /auth upserted the unchanged grant and audited a
   * consent. A request for more scope still widens and writes it.
   */
  it('an authorization with a session writes the grant only when it grows', async function () {
    const agent = new UserAgent();
    const authorize = async (scope: string) => {
      const query = new URLSearchParams({ client_id: web.clientId, response_type: 'code', scope, redirect_uri: REDIRECT_URI });
      let url = `${issuer}/auth?${query}`;
      let response = await agent.request(url);
      while (response.status >= 300 && response.status < 400) {
        url = new URL(response.headers.get('location')!, url).toString();
        if (url.startsWith(REDIRECT_URI)) return new URL(url).searchParams.get('code');
        response = await agent.request(url);
      }
      const login = formsOf(await response.text()).find((form) => form.action.endsWith('/login'));
      let next = await agent.postForm(new URL(login!.action, url).toString(), { ...login!.fields, login: username, password: PASSWORD, remember: 'yes' });
      while (next.status >= 300 && next.status < 400) {
        url = new URL(next.headers.get('location')!, url).toString();
        if (url.startsWith(REDIRECT_URI)) return new URL(url).searchParams.get('code');
        next = await agent.request(url);
      }
      throw new Error(`no code: ${next.status}`);
    };
    expect(await authorize('openid profile')).to.be.a('string');
    const again = await count(() => authorize('openid profile'));
    expect(again.result).to.be.a('string');
    expect(again.trace.filter((entry) => entry.endsWith(' oidc_grant')), again.trace.join(', ')).to.deep.equal([]);
    const tokens = await token({ grant_type: 'authorization_code', code: again.result!, redirect_uri: REDIRECT_URI });
    expect(tokens.scope).to.equal('openid profile');
    const wider = await count(() => authorize('openid profile email'));
    // Written (within seconds of its creation here: an insert refused, then the upsert; mongo-adapter.ts justMade).
    expect(wider.trace.filter((entry) => entry.endsWith(' oidc_grant')), wider.trace.join(', ')).to.include('update oidc_grant');
    expect((await token({ grant_type: 'authorization_code', code: wider.result!, redirect_uri: REDIRECT_URI })).scope).to.equal('openid profile email');
  });

  /** `/auth` and the sign-in page on a warm instance: the upstream providers' buttons come from the instance's copy. */
  it('the sign-in page (/auth → page) reads nothing from MongoDB', async function () {
    await signIn();
    const query = new URLSearchParams({ client_id: web.clientId, response_type: 'code', scope: 'openid profile email', redirect_uri: REDIRECT_URI });
    const { result: html, mongo: m, trace } = await count(async () => {
      const agent = new UserAgent();
      let url = `${issuer}/auth?${query}`;
      let response = await agent.request(url);
      while (response.status >= 300 && response.status < 400) {
        url = new URL(response.headers.get('location')!, url).toString();
        response = await agent.request(url);
      }
      expect(response.status).to.equal(200);
      return response.text();
    });
    expect(formsOf(html).some((form) => form.action.endsWith('/login')), 'the sign-in page').to.equal(true);
    expect(sum(m, MONGO_READS), trace.join(', ')).to.equal(0);
  });

  it('writes the last sign-in time (batched, off the request path) to user_sign_ins, not the user document', async function () {
    await signIn();
    // The sign-in's time is still pending (the frozen clock fires no timer): trace its flush.
    mongoTrace.length = 0;
    counting = true;
    try {
      await gatehouse.flushBatchedWrites();
    } finally {
      counting = false;
    }
    const trace = [...mongoTrace];
    expect(trace, trace.join(', ')).to.include('update user_sign_ins');
    expect(trace.filter((entry) => MONGO_WRITES.has(entry.split(' ')[0]!) && entry.endsWith(' users')), trace.join(', ')).to.deep.equal([]);
    const user = await gatehouse.services.accounts.findByLogin(username);
    expect(user?.lastLoginAt ?? null, 'the user document keeps no sign-in time').to.equal(null);
    expect((await gatehouse.services.users.withLastSignIn(user!)).lastLoginAt).to.be.instanceOf(Date);
  });

  /**
   * Where a session was used (src/sessions/devices.ts), batched: a sign-in in a browser without a
   * session makes a new one, whose row cannot exist yet — an insert (FerretDB: one transaction
   * for the whole batch's new rows), not an upsert statement per session (a read and a write).
   */
  it('notes the device of a new sign-in session with an insert, not an upsert', async function () {
    await signIn();
    mongoTrace.length = 0;
    counting = true;
    try {
      await gatehouse.flushBatchedWrites();
    } finally {
      counting = false;
    }
    const devices = mongoTrace.filter((entry) => entry.endsWith(' session_devices'));
    expect(devices, mongoTrace.join(', ')).to.deep.equal(['insert session_devices']);
  });

  /**
   * With Redis the rotation is claimed there (one script) and writes MongoDB only at its
   * completion: ONE `insert` command of the successor and the rotation marker `rotated:<old>`
   * (one PostgreSQL transaction on FerretDB v1). The refresh grant's find reads the token
   * alone, without its marker (docs/STORAGE.md, fifth round).
   */
  it('a refresh: exactly 1 MongoDB read (the token), 1 write (one insert) and at most 2 Redis commands', async function () {
    const { tokens } = await signIn();
    let refreshToken = tokens.refresh_token as string;
    expect(refreshToken).to.be.a('string');
    // The second refresh of a grant is the steady state (the first may load what the code exchange left).
    refreshToken = (await token({ grant_type: 'refresh_token', refresh_token: refreshToken })).refresh_token as string;
    const { result, mongo: m, redis: r, trace } = await count(() => token({ grant_type: 'refresh_token', refresh_token: refreshToken }));
    expect(result.refresh_token).to.be.a('string').and.not.equal(refreshToken);
    const summary = `MongoDB ${trace.join(', ')}; Redis ${describeTally(r)}`;
    expect(sum(m, MONGO_READS), summary).to.equal(1);
    expect(requestWrites(trace), summary).to.equal(1);
    expect(trace.filter((entry) => MONGO_WRITES.has(entry.split(' ')[0]!) && !BATCHED.has(entry)), summary).to.deep.equal(['insert oidc_refresh_token']);
    // The claim and the new access token.
    expect(sum(r), summary).to.be.at.most(2);
  });

  /**
   * A refresh naming a narrower scope keeps the client's default scopes the token holds from the
   * record the refresh grant already read (src/oidc/default-scopes.ts defaultScopesAtRefresh): no
   * read of its own.
   */
  it('a refresh naming a narrower scope with the client\'s default scopes kept: still exactly 1 MongoDB read and 1 write', async function () {
    const made = await gatehouse.services.clients.create({
      displayName: 'First-party app with default scopes',
      firstParty: true,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email',
        default_scopes: ['profile'],
      },
    });
    const app = { clientId: made.client.clientId, secret: made.secret! };
    const { tokens } = await signIn(username, app);
    const narrower = { grant_type: 'refresh_token', scope: 'openid' };
    // The second refresh of a grant is the steady state, as above.
    const refreshToken = (await token({ ...narrower, refresh_token: tokens.refresh_token as string }, app)).refresh_token as string;
    const { result, mongo: m, redis: r, trace } = await count(() => token({ ...narrower, refresh_token: refreshToken }, app));
    expect(String(result.scope).split(' ')).to.have.members(['openid', 'profile']);
    expect(result.refresh_token).to.be.a('string').and.not.equal(refreshToken);
    const summary = `MongoDB ${trace.join(', ')}; Redis ${describeTally(r)}`;
    expect(sum(m, MONGO_READS), summary).to.equal(1);
    expect(requestWrites(trace), summary).to.equal(1);
  });

  /**
   * Revoking a refresh token revokes its grant (the library's revokeGrantPolicy): the grant's own
   * record is in the record cache after a refresh, so its removal reads no more than the grant's
   * chain of exchanged grants, before and after it goes (dependent-grants.ts); and the other
   * instances hear of the grant once — one notice drops its copies and its tokens' there.
   */
  it('revoking a refresh token: the grant read from the record cache, its chain twice, one change notice for it', async function () {
    const { tokens } = await signIn();
    const refreshToken = (await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string })).refresh_token as string;
    const { result, trace } = await count(async () => {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
        body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }).toString(),
      });
      return { status: response.status, redis: [...redisTrace] };
    });
    expect(result.status).to.equal(200);
    const summary = `MongoDB ${trace.join(', ')}; Redis ${result.redis.join(', ')}`;
    expect(trace.filter((entry) => entry === 'find oidc_grant'), summary).to.have.length(2);
    expect(result.redis.filter((entry) => entry.startsWith('publish ')), summary).to.have.length(1);
    // Revoked: the grant's tokens are refused.
    const refused = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
    expect(refused.status).to.equal(400);
  });

  /** A machine token for the API: the warm path (client, keys, limiter) is the steady state. */
  const machineToken = () => token({ grant_type: 'client_credentials', resource: API, scope: 'read' }, service);

  /**
   * The client-authentication gate reads its failure counter in one transaction unless it saw
   * this client succeed less than a second ago (attempt-limits.ts): either that, or nothing.
   */
  const GATE_READ = ['exec -', 'get gh_attempts_client_auth', 'multi -', 'pttl gh_attempts_client_auth'];
  const withoutGate = (sent: readonly string[]) => {
    const gate = sent.filter((entry) => entry.endsWith(' gh_attempts_client_auth') || entry.endsWith(' -'));
    expect([[], GATE_READ], sent.join(', ')).to.deep.include([...gate].sort());
    return sent.filter((entry) => !gate.includes(entry));
  };

  /**
   * A client_credentials JWT is signed, not stored: the request itself sends nothing to either
   * store. Its only write is its audit event, batched with every other event of that second.
   */
  it('a client_credentials JWT: no MongoDB command, no Redis command but the gate\'s; its audit event goes with the batch', async function () {
    await machineToken();
    const { result, mongo: m, trace } = await count(async () => ({ body: await machineToken(), redis: [...redisTrace] }));
    expect(String(result.body.access_token).split('.'), 'a JWT').to.have.length(3);
    expect(trace, trace.join(', ')).to.deep.equal([]);
    expect(sum(m)).to.equal(0);
    expect(withoutGate(result.redis)).to.deep.equal([]);
    // The batch: one insert for however many tokens (here 5), one token.issued each (the default).
    await gatehouse.flushBatchedWrites();
    const before = await gatehouse.services.audit.count({ types: ['token.issued'], clientId: service.clientId });
    const batch = await count(async () => {
      for (let i = 0; i < 5; i += 1) await machineToken();
      mongoTrace.length = 0;
      await gatehouse.flushBatchedWrites();
      return [...mongoTrace];
    });
    expect(batch.result.filter((entry) => entry === 'insert audit_events'), batch.result.join(', ')).to.have.length(1);
    expect(await gatehouse.services.audit.count({ types: ['token.issued'], clientId: service.clientId })).to.equal(before + 5);
  });

  /** userinfo with an opaque token on a warm instance: the token, its session and grant come from the record cache. */
  it('userinfo: no store command on a warm instance', async function () {
    const { tokens } = await signIn();
    const me = () => fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } }).then((response) => response.status);
    expect(await me()).to.equal(200);
    const { result, mongo: m, redis: r } = await count(me);
    expect(result).to.equal(200);
    expect(sum(m), describeTally(m)).to.equal(0);
    expect(sum(r), describeTally(r)).to.equal(0);
  });
});

/**
 * Without Redis the refresh token's own rotation marker is the gate: the server's consume writes
 * nothing (no `oidc_consumption` insert), and the completion's one insert (successor + marker)
 * decides. The other write is the new access token, which lives in MongoDB without Redis
 * (docs/PERFORMANCE.md, "Refresh without Redis: the marker is the gate").
 */
describe('store round trips of a refresh without Redis (counted on the connection)', function () {
  this.timeout(60_000);
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let web: { clientId: string; secret: string };
  let username: string;
  const trace: string[] = [];
  let counting = false;
  const counted = instanceForSuite('round_trips_no_redis', {
    redis: false,
    settings: { GATEHOUSE_KEY_POLL_INTERVAL: '3600' },
    clock: testClock({ frozen: true }),
    onStoreCommand: (store, command, target) => {
      if (counting) trace.push(`${store} ${command} ${target}`);
    },
  });

  before(async function () {
    ({ gatehouse, deploy: { issuer } } = counted);
    username = (await seed(gatehouse)).user.username;
    const created = await gatehouse.services.clients.create({
      displayName: 'First-party web app',
      firstParty: true,
      metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile offline_access' },
    });
    web = { clientId: created.client.clientId, secret: created.secret! };
  });

  async function token(form: Record<string, string>): Promise<Record<string, unknown>> {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientSecretBasic(web.clientId, web.secret) },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).to.equal(200);
    return body;
  }

  it('a refresh: exactly 2 MongoDB writes (one insert of the successor and its marker, the access token) and no consumption gate', async function () {
    const query = new URLSearchParams({ client_id: web.clientId, response_type: 'code', scope: 'openid profile', redirect_uri: REDIRECT_URI });
    const { callback } = await browserSignIn(new UserAgent(), `${issuer}/auth?${query}`, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI });
    let refreshToken = tokens.refresh_token as string;
    expect(refreshToken).to.be.a('string');
    // The second refresh of a grant is the steady state (the first may load what the code exchange left).
    refreshToken = (await token({ grant_type: 'refresh_token', refresh_token: refreshToken })).refresh_token as string;
    await gatehouse.flushBatchedWrites();
    trace.length = 0;
    counting = true;
    let result: Record<string, unknown>;
    try {
      result = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    } finally {
      counting = false;
    }
    expect(result.refresh_token).to.be.a('string').and.not.equal(refreshToken);
    expect(trace.filter((entry) => entry.startsWith('redis ')), 'no Redis configured').to.deep.equal([]);
    const mongoTrace = trace.map((entry) => entry.slice('mongodb '.length));
    const writes = mongoTrace.filter((entry) => MONGO_WRITES.has(entry.split(' ')[0]!) && !BATCHED.has(entry));
    // The access token's one write: an insert when the record is new (the adapter guesses from its `iat`), else an upsert.
    expect(writes.map((entry) => (entry.endsWith(' oidc_access_token') ? 'write oidc_access_token' : entry)), mongoTrace.join(', ')).to.have.members(['insert oidc_refresh_token', 'write oidc_access_token']).and.have.length(2);
    // The token alone (the refresh grant's find skips the marker), the Session and the Grant (no cache without Redis).
    expect(mongoTrace.filter((entry) => MONGO_READS.has(entry.split(' ')[0]!)).length, mongoTrace.join(', ')).to.be.at.most(3);
    expect(writes.filter((entry) => entry.endsWith('oidc_consumption')), 'the consume writes no gate').to.deep.equal([]);
  });
});

/**
 * GATEHOUSE_AUDIT_CLIENT_CREDENTIALS=per-minute: client_credentials tokens are counted, not
 * stored one by one — no audit write per token at all, one summary per client, address and minute.
 */
describe('store round trips of client_credentials with per-minute audit counts', function () {
  this.timeout(60_000);
  let gatehouse: RunningGatehouse;
  let mongodbUri: string;
  let issuer: string;
  const writes: string[] = [];
  let counting = false;

  // A fresh database: the test below looks at which indexes a first start creates.
  const minute = instanceForSuite('round_trips_counts', {
    fresh: true,
    settings: { GATEHOUSE_KEY_POLL_INTERVAL: '3600', GATEHOUSE_AUDIT_CLIENT_CREDENTIALS: 'per-minute' },
    clock: testClock({ frozen: true }),
    onStoreCommand: (store, command, target) => {
      if (counting && store === 'mongodb' && MONGO_WRITES.has(command)) writes.push(`${command} ${target}`);
    },
  });

  before(function () {
    ({ gatehouse, deploy: { issuer, mongodbUri } } = minute);
  });

  /**
   * FerretDB v1 scans for every audit query (docs/PERFORMANCE.md), so the server leaves out the
   * query indexes and the one on `at` there: each would only add to the cost of every event
   * written (test/integration/audit-indexes.test.ts pins why). MongoDB gets them.
   */
  it('creates the audit indexes on MongoDB only; on FerretDB v1 (where no audit query could use one) `_id` alone', async function () {
    const db = (await connectMongo({ uri: mongodbUri, timeoutMs: 5000 }));
    try {
      // No event written yet: on FerretDB v1 nothing has created the collection (NamespaceNotFound).
      const listed = await db.db!.collection('audit_events').listIndexes().toArray().catch((error: { code?: unknown }) => (error.code === 26 ? [] : Promise.reject(error)));
      const names = listed.map((index) => index.name as string);
      if (await isFerretDbV1(db.db!)) expect(names.filter((name) => name !== '_id_')).to.deep.equal([]);
      else expect(names).to.include.members(['type_id', 'actor_id', 'actor_username_id', 'target_id', 'client_id']);
    } finally {
      await db.close();
    }
  });

  it('20 tokens: no MongoDB write until the minute is written, then one insert holding one token.issued_summary with count 20', async function () {
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'] });
    const created = await gatehouse.services.clients.create({
      displayName: 'Service',
      allowedApis: [API],
      metadata: { redirect_uris: [], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const authorization = clientSecretBasic(created.client.clientId, created.secret!);
    await gatehouse.flushBatchedWrites();
    writes.length = 0;
    counting = true;
    try {
      for (let i = 0; i < 20; i += 1) {
        const response = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
          body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'read' }).toString(),
        });
        expect(response.status).to.equal(200);
      }
      // The instance's clock is frozen: the minute never ends on its own, and the 1 s batch timer never fires.
      await new Promise((resolve) => setImmediate(resolve));
      expect(writes, 'no audit write per token').to.deep.equal([]);
      await gatehouse.flushBatchedWrites();
    } finally {
      counting = false;
    }
    expect(writes).to.deep.equal(['insert audit_events']);
    const { events } = await gatehouse.services.audit.query({ types: ['token.issued', 'token.issued_summary'], clientId: created.client.clientId, limit: 10 });
    expect(events.map((event) => [event.type, event.details.count])).to.deep.equal([['token.issued_summary', 20]]);
    expect(events[0]).to.include({ ip: '127.0.0.1', client: created.client.clientId });
  });
});
