import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { Connection } from 'mongoose';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import { consentOperations } from '../../src/operations/consents.ts';
import { sessionOperations, showGrant } from '../../src/operations/sessions.ts';
import { userOperations } from '../../src/operations/users.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { collectionName } from '../../src/storage/oidc/models.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

const ORDERS = 'https://orders.example.com';
const ORDERS_OPAQUE = 'https://orders.example.com/opaque';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
/** The Orders APIs' token lifetime: shorter than the web app's access token (600 s), far shorter than a grant's. */
const ORDERS_TTL = 120;

interface AppView {
  client_id: string;
  scopes: string[];
  api_details: Array<{ identifier: string }>;
  via: Array<{ client_id: string }>;
  exchanged_from: Array<{ client_id: string | null }>;
}

/**
 * A service (B) exchanges the user's access token of an app (A) for tokens to an API (RFC 8693).
 * The exchanged grant lives as long as its token, goes with A's grant whichever way that ends,
 * and the account page's "Remove access" removes what its entry lists, nothing else.
 */
describe('exchanged grants (RFC 8693; real stores): lifetime, revocation with the original, precise "Remove access"', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let mongo: Connection;
  let web: oidc.Configuration;
  /** B: trusted to exchange the web app's tokens; signs the user in itself too (password grant). */
  let caller: oidc.Configuration;
  let callerId: string;
  let userinfoUrl: string;
  // The server's clock: the wall clock, or standing still once a test froze it (freezeClock), and
  // this far ahead of either when a test says so.
  let frozenAt: number | undefined;
  let ahead = 0;
  /**
   * Stops the server's clock at the next whole second (ahead of the wall clock, never behind it):
   * every reading Gatehouse takes of it then (a token's iat, the grant's expiry at its save) gives
   * that same time, however long the machine takes between them. Returns it, in milliseconds.
   */
  const freezeClock = () => (frozenAt = Math.ceil(Date.now() / 1000) * 1000);
  const ctx = { actor: { type: 'cli' as const, id: 'test' } };

  before(async () => {
    deploy = await deployment('exchanged_grants', { clock: { now: () => (frozenAt ?? Date.now()) + ahead }, settings: { GATEHOUSE_REFRESH_REUSE_WINDOW: '0', GATEHOUSE_SESSION_CACHE_TTL: '0' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    const { apis, clients } = gatehouse.services;
    await apis.create({ identifier: ORDERS, name: 'Orders', scopes: ['read'], accessTokenTtl: ORDERS_TTL });
    await apis.create({ identifier: ORDERS_OPAQUE, name: 'Orders (opaque)', scopes: ['read'], format: 'opaque', accessTokenTtl: ORDERS_TTL });
    const b = await clients.create({
      displayName: 'Orders caller',
      firstParty: true,
      allowedApis: [ORDERS, ORDERS_OPAQUE, API],
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        allow_password_grant: true,
        token_exchange: { apis: [ORDERS, ORDERS_OPAQUE], trusted_clients: [cast.web.clientId] },
      },
    });
    callerId = b.client.clientId;
    caller = await relyingParty(deploy.issuer, callerId, b.secret);
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    userinfoUrl = web.serverMetadata().userinfo_endpoint!;
    mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });
  afterEach(() => {
    frozenAt = undefined;
    ahead = 0;
  });

  async function newUser(name: string): Promise<{ id: string; username: string }> {
    const user = await gatehouse.services.accounts.createUser({ username: `${name}-${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD });
    return { id: user.id, username: user.username };
  }

  /** The user signs in to the web app (A) in a browser, consenting: its tokens for the example API. */
  async function signInToWebApp(username: string, agent = new UserAgent()) {
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid offline_access read', resource: API, prompt: 'consent' });
    const { callback } = await signIn(agent, request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(web, callback, request.checks, { resource: API });
    return { tokens, agent };
  }

  /** B exchanges A's access token for a JWT to Orders and an opaque token to Orders (opaque). */
  async function exchangeBoth(subject: string) {
    const exchange = (resource: string) => oidc.genericGrantRequest(caller, EXCHANGE, { subject_token: subject, subject_token_type: ACCESS_TOKEN, resource, scope: 'read' });
    const jwt = (await exchange(ORDERS)).access_token;
    const opaque = (await exchange(ORDERS_OPAQUE)).access_token;
    expect(opaque, 'an opaque token').to.not.include('.');
    return { jwt, opaque };
  }

  const grantsOf = (userId: string) => gatehouse.services.revocation.listGrants(userId);
  const webGrantOf = async (userId: string) => (await grantsOf(userId)).find((grant) => grant.clientId === cast.web.clientId)!;
  const exchangedGrantsOf = async (userId: string) => (await grantsOf(userId)).filter((grant) => grant.clientId === callerId && grant.id.includes('~x~'));
  const active = async (token: string) => (await oidc.tokenIntrospection(caller, token)).active;
  const userinfoStatus = async (token: string) => (await fetch(userinfoUrl, { headers: { authorization: `Bearer ${token}` } })).status;

  /** The account page's own token, as the page gets it (code + PKCE). */
  async function accountToken(username: string): Promise<string> {
    const accountUrl = `${deploy.issuer}/account/`;
    const config = await relyingParty(deploy.issuer, ACCOUNT_CLIENT_ID);
    const request = await authorizationRequest(config, accountUrl);
    const { callback } = await signIn(new UserAgent(), request.url.href, accountUrl, { username, password: PASSWORD });
    return (await oidc.authorizationCodeGrant(config, callback, request.checks)).access_token;
  }
  async function account(token: string, method: 'GET' | 'DELETE', path: string) {
    const response = await fetch(`${deploy.issuer}/account/api/v1${path}`, { method, headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as unknown };
  }
  const appsOf = async (token: string) => (await account(token, 'GET', '/apps')).body as AppView[];

  it('an exchanged grant expires with its token: stored until then, listed until then, and nothing else changes', async () => {
    const user = await newUser('lifetime');
    const frozen = freezeClock();
    const { tokens } = await signInToWebApp(user.username);
    const { jwt } = await exchangeBoth(tokens.access_token);
    const exp = decodeJwt(jwt).exp!;
    expect(exp, "the Orders token's lifetime, from the server's clock").to.equal(frozen / 1000 + ORDERS_TTL);
    const [derived, other] = await exchangedGrantsOf(user.id);
    expect(other, 'two exchanges, two grants').to.not.equal(undefined);
    // Stored for as long as the token lives, not a grant's days.
    for (const grant of [derived!, other!]) expect(grant.expiresAt!.getTime(), grant.id).to.equal(exp * 1000);
    const page = await accountToken(user.username);
    expect((await appsOf(page)).find((app) => app.client_id === cast.web.clientId)!.via.map((via) => via.client_id)).to.deep.equal([callerId]);
    const atUserinfo = await userinfoStatus(tokens.access_token);

    // Past the exchanged token's exp: the grant is gone from the listings; the web app keeps everything.
    ahead = (exp + 5) * 1000 - frozen;
    expect(await exchangedGrantsOf(user.id)).to.deep.equal([]);
    const apps = await appsOf(page);
    expect(apps.map((app) => [app.client_id, app.via])).to.deep.equal([[cast.web.clientId, []]]);
    expect((await oidc.tokenIntrospection(web, tokens.access_token)).active, "the web app's access token").to.equal(true);
    expect(await userinfoStatus(tokens.access_token), "the web app's token at userinfo").to.equal(atUserinfo);
    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(web, refreshed.access_token)).active, "the web app's refreshed token").to.equal(true);
  });

  it('an exchanged grant is capped by its original grant too', async () => {
    const user = await newUser('capped');
    const frozen = freezeClock();
    const { tokens } = await signInToWebApp(user.username);
    // The web app's grant ends a minute from now (as if issued long ago): the exchange's does not outlast it.
    const original = await webGrantOf(user.id);
    const ends = new Date(frozen + 60_000);
    const grants = mongo.collection<{ _id: string; payload: string; expiresAt?: Date }>(collectionName('Grant'));
    const doc = (await grants.findOne({ _id: original.id }))!;
    await grants.updateOne({ _id: original.id }, { $set: { expiresAt: ends, payload: JSON.stringify({ ...JSON.parse(doc.payload), exp: Math.floor(ends.getTime() / 1000) }) } });
    await exchangeBoth(tokens.access_token);
    const exchanged = await exchangedGrantsOf(user.id);
    expect(exchanged).to.have.length(2);
    for (const grant of exchanged) expect(grant.expiresAt!.getTime(), grant.id).to.equal(ends.getTime());
  });

  const endings: Array<[string, (user: { id: string; username: string }, tokens: oidc.TokenEndpointResponse, agent: UserAgent) => Promise<void>]> = [
    ['the app revokes its refresh token (revocation endpoint)', async (_user, tokens) => oidc.tokenRevocation(web, tokens.refresh_token!)],
    [
      'a reused refresh token revokes the grant (reuse detection)',
      async (_user, tokens) => {
        await oidc.refreshTokenGrant(web, tokens.refresh_token!);
        expect((await oidc.refreshTokenGrant(web, tokens.refresh_token!).then(() => undefined, (error: unknown) => error as { error?: string }))?.error).to.equal('invalid_grant');
      },
    ],
    [
      'the user removes the app on the account page',
      async (user) => {
        expect((await account(await accountToken(user.username), 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(204);
      },
    ],
    ['an operator revokes the grant (admin API, CLI, console)', async (user) => sessionOperations(gatehouse.services).revokeGrant(ctx, (await webGrantOf(user.id)).id, user.id)],
    [
      'the sign-in session the grant was made in ends',
      async (user) => {
        const sessions = await gatehouse.services.revocation.listSessions(user.id);
        for (const session of sessions.filter((s) => s.clients.includes(cast.web.clientId))) await sessionOperations(gatehouse.services).revoke(ctx, user.id, session.id);
      },
    ],
    ['an operator disables the user', async (user) => void (await userOperations(gatehouse.services).disable(ctx, user.id))],
  ];
  for (const [how, end] of endings) {
    it(`revoking the original revokes the exchanged grants, JWT and opaque tokens alike: ${how}`, async () => {
      const user = await newUser('cascade');
      const { tokens, agent } = await signInToWebApp(user.username);
      const originalId = (await webGrantOf(user.id)).id;
      const { jwt, opaque } = await exchangeBoth(tokens.access_token);
      const derived = (await exchangedGrantsOf(user.id)).map((grant) => grant.id).sort();
      expect(derived).to.have.length(2);
      for (const token of [jwt, opaque]) expect(await active(token)).to.equal(true);
      const liveAtUserinfo = await Promise.all([jwt, opaque].map(userinfoStatus));

      await end(user, tokens, agent);

      expect((await grantsOf(user.id)).map((grant) => grant.id).filter((id) => id.startsWith(originalId)), 'the original and its exchanges').to.deep.equal([]);
      const stored = await mongo.collection(collectionName('Grant')).find({ _id: { $in: derived as never[] } }).toArray();
      expect(stored.map((doc) => doc._id), 'the exchanged grant documents').to.deep.equal([]);
      for (const token of [jwt, opaque]) expect(await active(token), 'introspection').to.equal(false);
      // Refused at userinfo as an inactive token (whatever it answered while active: the token has no openid scope).
      expect(await Promise.all([jwt, opaque].map(userinfoStatus)), `userinfo (while active: ${liveAtUserinfo.join(', ')})`).to.deep.equal([401, 401]);
      await gatehouse.audit.flush();
      const events = await gatehouse.audit.query({ types: ['grant.revoked'], limit: 50 });
      const audited = events.events.filter((event) => derived.includes(String(event.target?.id)));
      // Disabling revokes all of the user's grants in turn, the exchanged ones among them (audited as user.disabled).
      if (!how.includes('disables')) expect(audited.map((event) => String(event.target?.id)).sort(), 'each exchanged grant audited as grant.revoked').to.deep.equal(derived);
      // The user's own removal lists them, and revokes each as theirs; elsewhere they go with the original, which the event names.
      for (const event of audited) {
        if (how.includes('account page')) expect([event.actor.type, event.details]).to.deep.equal(['user', { user: user.id, exchangedFrom: originalId }]);
        else expect([event.actor.type, event.details]).to.deep.equal(['system', { user: user.id, exchangedFrom: originalId, revokedWith: originalId }]);
      }
    });
  }

  it('"Remove access" on the service removes its own sign-in, not the access it obtained through the app (listed under the app); and the other way round', async () => {
    const user = await newUser('precise');
    const { tokens } = await signInToWebApp(user.username);
    const own = await oidc.genericGrantRequest(caller, 'password', { username: user.username, password: PASSWORD, scope: 'openid offline_access read', resource: ORDERS });
    const { jwt, opaque } = await exchangeBoth(tokens.access_token);
    const page = await accountToken(user.username);
    const before = await appsOf(page);
    expect(before.map((app) => [app.client_id, app.via.map((via) => via.client_id)]).sort()).to.deep.equal([[cast.web.clientId, [callerId]], [callerId, []]].sort());

    // The service's own entry: its own sign-in goes; what it obtained through the web app stays, listed there.
    expect((await account(page, 'DELETE', `/apps/${encodeURIComponent(callerId)}`)).status).to.equal(204);
    expect((await oidc.tokenIntrospection(caller, own.refresh_token!)).active, "the service's own refresh token").to.equal(false);
    for (const token of [jwt, opaque]) expect(await active(token), 'the exchanged tokens').to.equal(true);
    expect(await exchangedGrantsOf(user.id)).to.have.length(2);
    expect((await appsOf(page)).map((app) => [app.client_id, app.via.map((via) => via.client_id)])).to.deep.equal([[cast.web.clientId, [callerId]]]);

    // The web app's entry: the web app and the access obtained through it.
    expect((await account(page, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(204);
    for (const token of [jwt, opaque]) expect(await active(token), 'the exchanged tokens').to.equal(false);
    expect(await appsOf(page)).to.deep.equal([]);

    // The other order: removing the web app leaves the service's own sign-in.
    const second = await newUser('precise-2');
    const again = await signInToWebApp(second.username);
    const ownAgain = await oidc.genericGrantRequest(caller, 'password', { username: second.username, password: PASSWORD, scope: 'openid offline_access read', resource: ORDERS });
    await exchangeBoth(again.tokens.access_token);
    const page2 = await accountToken(second.username);
    expect((await account(page2, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(204);
    expect((await oidc.tokenIntrospection(caller, ownAgain.refresh_token!)).active, "the service's own refresh token").to.equal(true);
    expect((await appsOf(page2)).map((app) => [app.client_id, app.via, app.exchanged_from])).to.deep.equal([[callerId, [], []]]);
  });

  it("the admin API tells the service's own grant from those it obtained through the app, and revokes the one named", async () => {
    const user = await newUser('admin-view');
    const { tokens } = await signInToWebApp(user.username);
    const own = await oidc.genericGrantRequest(caller, 'password', { username: user.username, password: PASSWORD, scope: 'openid offline_access read', resource: ORDERS });
    const { jwt } = await exchangeBoth(tokens.access_token);
    const operations = sessionOperations(gatehouse.services);
    const originalId = (await webGrantOf(user.id)).id;
    const shown = (await operations.grants(user.id)).map(showGrant).filter((grant) => grant.client_id === callerId);
    expect(shown.map((grant) => grant.exchanged_from).sort((a, b) => String(a).localeCompare(String(b)))).to.deep.equal([
      { grant_id: originalId, client_id: cast.web.clientId, root_grant_id: originalId },
      { grant_id: originalId, client_id: cast.web.clientId, root_grant_id: originalId },
      null,
    ]);
    await operations.revokeGrant(ctx, shown.find((grant) => grant.exchanged_from === null)!.id, user.id);
    expect((await oidc.tokenIntrospection(caller, own.refresh_token!)).active, "the service's own refresh token").to.equal(false);
    expect(await active(jwt), 'an exchanged token').to.equal(true);
    expect(await exchangedGrantsOf(user.id)).to.have.length(2);
  });

  /** A second service (C) trusted to exchange B's tokens: an exchange of an exchanged token. */
  async function reports(): Promise<oidc.Configuration & { clientId: string }> {
    const c = await gatehouse.services.clients.create({
      displayName: `Reports ${Math.random().toString(36).slice(2, 6)}`,
      firstParty: true,
      allowedApis: [ORDERS],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', token_exchange: { apis: [ORDERS], trusted_clients: [callerId] } },
    });
    return Object.assign(await relyingParty(deploy.issuer, c.client.clientId, c.secret), { clientId: c.client.clientId });
  }

  it('an exchange of an exchanged token names the grant it was exchanged from (the immediate one) and the first of the chain, in the admin API and on the account page; its id is no longer than the first exchange\'s', async () => {
    const user = await newUser('nested');
    const { tokens } = await signInToWebApp(user.username);
    const { jwt } = await exchangeBoth(tokens.access_token);
    const reporter = await reports();
    const nested = await oidc.genericGrantRequest(reporter, EXCHANGE, { subject_token: jwt, subject_token_type: ACCESS_TOKEN, resource: ORDERS, scope: 'read' });
    const originalId = (await webGrantOf(user.id)).id;
    const all = (await sessionOperations(gatehouse.services).grants(user.id)).map(showGrant);
    const middle = all.find((grant) => grant.client_id === callerId && grant.resources.includes(ORDERS))!;
    const deepest = all.find((grant) => grant.client_id === reporter.clientId)!;
    expect(deepest.exchanged_from).to.deep.equal({ grant_id: middle.id, client_id: callerId, root_grant_id: originalId });
    const unclient = (id: string) => id.slice(0, id.lastIndexOf('.'));
    expect(unclient(deepest.id).length, 'the same length (the recorded client aside)').to.equal(unclient(middle.id).length);
    // The account page: listed under the web app, as access through it.
    const page = await accountToken(user.username);
    expect((await appsOf(page)).find((app) => app.client_id === cast.web.clientId)!.via.map((via) => via.client_id).sort()).to.deep.equal([callerId, reporter.clientId].sort());

    // Revoking the middle one (an operator) takes the nested one, audited as exchanged from it.
    await sessionOperations(gatehouse.services).revokeGrant(ctx, middle.id, user.id);
    expect((await oidc.tokenIntrospection(reporter, nested.access_token)).active).to.equal(false);
    await gatehouse.audit.flush();
    const events = (await gatehouse.audit.query({ types: ['grant.revoked'], limit: 20 })).events.filter((event) => [middle.id, deepest.id].includes(String(event.target?.id)));
    expect(events.map((event) => [event.target?.id, event.actor.type, event.details]).sort()).to.deep.equal(
      [
        [middle.id, 'cli', { user: user.id, exchangedFrom: originalId }],
        [deepest.id, 'system', { user: user.id, exchangedFrom: middle.id, revokedWith: middle.id }],
      ].sort(),
    );
  });

  /** Which grants (plain and exchanged) a removal audits as grant.revoked, and its own event. */
  const trails: Array<[string, string, (user: { id: string; username: string }, grantId: string) => Promise<void>, boolean]> = [
    ['an operator revokes the grant', 'grant.revoked', (user, grantId) => sessionOperations(gatehouse.services).revokeGrant(ctx, grantId, user.id), true],
    [
      'an operator ends the session it was made in',
      'session.revoked',
      async (user) => {
        for (const session of await gatehouse.services.revocation.listSessions(user.id)) await sessionOperations(gatehouse.services).revoke(ctx, user.id, session.id);
      },
      false,
    ],
    ['an operator disables the user', 'user.disabled', async (user) => void (await userOperations(gatehouse.services).disable(ctx, user.id)), false],
    ["an operator revokes all of the user's grants", 'user.tokens_revoked', async (user) => void (await userOperations(gatehouse.services).revokeAll(ctx, user.id)), false],
  ];
  for (const [how, type, end, named] of trails) {
    it(`the audit trail names each grant removed once, plain and exchanged by one rule: ${how}`, async () => {
      const user = await newUser('trail');
      const { tokens } = await signInToWebApp(user.username);
      const original = (await webGrantOf(user.id)).id;
      await exchangeBoth(tokens.access_token);
      const exchanged = (await exchangedGrantsOf(user.id)).map((grant) => grant.id).sort();
      await end(user, original);

      await gatehouse.audit.flush();
      const events = (await gatehouse.audit.query({ types: ['grant.revoked', 'session.revoked', 'user.disabled', 'user.tokens_revoked'], limit: 100 })).events.filter(
        (event) => event.target?.id === user.id || (event.details as { user?: unknown } | undefined)?.user === user.id,
      );
      const revokedGrants = events.filter((event) => event.type === 'grant.revoked').map((event) => String(event.target?.id));
      const own = events.filter((event) => event.type === type && (type === 'grant.revoked' ? event.target?.id === original : event.target?.id === user.id));
      expect(own, `its own event (${type})`).to.have.length(1);
      if (named) {
        // One grant removed: it and, apart (another client's), each grant exchanged from it.
        expect(revokedGrants.sort()).to.deep.equal([original, ...exchanged].sort());
      } else if (type === 'session.revoked') {
        // The session's event covers the grants made in it; those exchanged from them (another client's) have their own.
        expect(revokedGrants.sort()).to.deep.equal(exchanged);
      } else {
        // All of the user's grants, plain and exchanged: the user's event says how many.
        expect(revokedGrants).to.deep.equal([]);
        expect((own[0]!.details as { revoked: { grants: number } }).revoked.grants).to.equal(1 + exchanged.length);
      }
    });
  }

  it('an exchanged grant left by an earlier version after its original went: removed from its own entry only, and an operator\'s consent revocation removes the same', async () => {
    const user = await newUser('legacy');
    const { tokens } = await signInToWebApp(user.username);
    await exchangeBoth(tokens.access_token);
    // As an earlier version left it: the web app's grant deleted, its exchanges kept.
    const original = await webGrantOf(user.id);
    await mongo.collection(collectionName('Grant')).deleteOne({ _id: original.id as never });
    const page = await accountToken(user.username);
    const listed = await appsOf(page);
    expect(listed.map((app) => [app.client_id, app.exchanged_from.map((from) => from.client_id)]).sort()).to.deep.equal([[cast.web.clientId, []], [callerId, [cast.web.clientId]]].sort());

    // The web app's entry (its consent) lists nothing of the service's: removing it leaves the service's entry.
    expect((await account(page, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(204);
    expect((await appsOf(page)).map((app) => app.client_id)).to.deep.equal([callerId]);
    expect(await exchangedGrantsOf(user.id)).to.have.length(2);
    // The operator's revocation of the service's consent (admin API, CLI, console) removes what its entry lists.
    expect(await consentOperations(gatehouse.services).revoke(ctx, user.id, callerId)).to.deep.equal({ consent: false, grants: 2 });
    expect(await appsOf(page)).to.deep.equal([]);
  });
});
