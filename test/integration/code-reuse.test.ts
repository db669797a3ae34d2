import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { deployment, REDIRECT_URI, PASSWORD, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { faultyLink, type FaultyLink } from '../helpers/faulty-link.ts';
import { startInstance } from '../helpers/instance.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { freePort } from '../helpers/redis-server.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const ROUNDS = 3;

interface TokenReply {
  readonly status: number;
  readonly body: { access_token?: string; refresh_token?: string; error?: string };
}

/**
 * RFC 6749 §4.1.2: a code presented again must be refused, and the tokens issued from it SHOULD be
 * revoked. oidc-provider does that itself when it finds the code already consumed; when two
 * redemptions race past its check, the adapters' consume is the gate (single-use.ts) and the
 * loser must revoke the grant the same way, the winner's tokens included.
 */
for (const redis of [true, false]) {
  const mode = redis ? 'Redis' : 'MongoDB only';
  describe(`one authorization code redeemed twice at once (${mode})`, function () {
    this.timeout(120_000);
    let deploy: Deployment;
    let a: RunningGatehouse;
    /** A second instance whose link to the store that holds codes can hold back a reply. */
    let b: RunningGatehouse;
    let bUrl: string;
    let link: FaultyLink;
    let cast: Seeded;

    before(async () => {
      deploy = await deployment(`code_reuse_${redis ? 'redis' : 'mongo'}`, { redis });
      a = await deploy.start();
      cast = await seed(a);
      link = await faultyLink(redis ? deploy.redisUrl! : deploy.mongodbUri);
      const port = await freePort();
      bUrl = `http://127.0.0.1:${port}`;
      b = await startInstance({
        mongodbUri: redis ? deploy.mongodbUri : link.uri,
        redisUrl: redis ? link.uri : undefined,
        secret: deploy.secret,
        issuer: deploy.issuer,
        settings: { ...deploy.settings, PORT: String(port) },
      });
    });
    after(async () => {
      await b?.close();
      await link?.close();
      await a?.close();
      await deploy?.drop();
    });

    const basic = () => clientSecretBasic(cast.web.clientId, cast.web.secret);

    async function freshCode(): Promise<string> {
      const url = new URL(`${deploy.issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: cast.web.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid offline_access',
        prompt: 'consent',
      }).toString();
      const { callback } = await signIn(new UserAgent(), url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
      const code = callback.searchParams.get('code');
      expect(code, callback.toString()).to.be.a('string');
      return code!;
    }

    async function redeem(at: string, code: string): Promise<TokenReply> {
      const response = await fetch(`${at}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }),
      });
      return { status: response.status, body: (await response.json()) as TokenReply['body'] };
    }

    async function active(token: string): Promise<boolean> {
      const response = await fetch(`${deploy.issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
        body: new URLSearchParams({ token }),
      });
      expect(response.status).to.equal(200);
      return ((await response.json()) as { active: boolean }).active;
    }

    async function refreshes(refreshToken: string): Promise<number> {
      const response = await fetch(`${deploy.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      await response.body?.cancel();
      return response.status;
    }

    /** The winner's tokens, once the loser has its answer: none of them works any more. */
    async function expectRevoked(winner: TokenReply, label: string) {
      expect(winner.body.access_token, label).to.be.a('string');
      expect(winner.body.refresh_token, label).to.be.a('string');
      expect(await active(winner.body.access_token!), `${label}: the winner's access token`).to.equal(false);
      expect(await active(winner.body.refresh_token!), `${label}: the winner's refresh token`).to.equal(false);
      expect(await refreshes(winner.body.refresh_token!), `${label}: refreshing with the winner's refresh token`).to.equal(400);
      const userinfo = await fetch(`${deploy.issuer}/me`, { headers: { authorization: `Bearer ${winner.body.access_token}` } });
      await userinfo.body?.cancel();
      expect(userinfo.status, `${label}: userinfo with the winner's access token`).to.equal(401);
    }

    async function revokedGrantAudited(instance: RunningGatehouse): Promise<Array<{ client: unknown; details: unknown }>> {
      await instance.audit.flush();
      const { events } = await instance.audit.query({ types: ['grant.revoked'], clientId: cast.web.clientId, limit: 50 });
      return events.map((event) => ({ client: event.client, details: event.details }));
    }

    it('the redemption that loses the race (both found the code unconsumed) revokes the grant, the winner\'s tokens included, and audits it', async () => {
      const code = await freshCode();
      const before = (await revokedGrantAudited(b)).length;
      // B's read of the code reaches the store and is answered, but the answer is held back until
      // A has redeemed the code: both saw it unconsumed, and B's consume comes second.
      const held = link.stallNextReply(redis ? 'hmget' : 'oidc_authorization_code', code);
      const loser = redeem(bUrl, code);
      await held.stalled;
      const winner = await redeem(deploy.issuer, code);
      expect(winner.status, JSON.stringify(winner.body)).to.equal(200);
      held.resume();
      const lost = await loser;
      expect(lost.status, JSON.stringify(lost.body)).to.equal(400);
      expect(lost.body.error).to.equal('invalid_grant');
      await expectRevoked(winner, 'after a race');
      await within(NOTICE_MS, async () => (await revokedGrantAudited(b)).length > before);
      expect((await revokedGrantAudited(b)).at(0)).to.deep.equal({ client: cast.web.clientId, details: { route: 'token' } });
    });

    it(`serves one of two token requests sent at once with one code and revokes the grant (${ROUNDS} rounds)`, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        const code = await freshCode();
        const replies = await Promise.all([redeem(deploy.issuer, code), redeem(deploy.issuer, code)]);
        const served = replies.filter((reply) => reply.status === 200);
        const refused = replies.filter((reply) => reply.status === 400 && reply.body.error === 'invalid_grant');
        expect([served.length, refused.length], `round ${round}: ${JSON.stringify(replies.map((reply) => [reply.status, reply.body.error]))}`).to.deep.equal([1, 1]);
        await expectRevoked(served[0]!, `round ${round}`);
      }
    });
  });
}
