import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { RunningGatehouse } from '../../src/server.ts';
import { clientSigningKey, deployment, keyHoldingService, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const ROUNDS = 5;
const AT_ONCE = 4;

/**
 * oidc-provider checks a DPoP proof's or a client assertion's `jti` with ReplayDetection.unique:
 * a find, then a save. Through Gatehouse's adapter the find claims the jti atomically
 * (src/storage/oidc/replay-claims.ts), so of several requests presenting the same proof or
 * assertion at once exactly one is served, and the others get the library's own replay error.
 */
for (const redis of [true, false]) {
  describe(`replayed DPoP proofs and client assertions sent at once (${redis ? 'Redis' : 'MongoDB only'})`, function () {
    this.timeout(120_000);
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let cast: Seeded;
    let tokenEndpoint: string;

    before(async () => {
      deploy = await deployment(`replay_${redis ? 'redis' : 'mongo'}`, { redis });
      gatehouse = await deploy.start();
      cast = await seed(gatehouse);
      tokenEndpoint = `${deploy.issuer}/token`;
    });
    after(async () => {
      await gatehouse?.close();
      await deploy?.drop();
    });

    const post = async (body: Record<string, string>, headers: Record<string, string>) => {
      const response = await fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });
      return { status: response.status, body: (await response.json()) as { error?: string; error_description?: string; token_type?: string } };
    };

    it(`serves one of ${AT_ONCE} token requests carrying the same DPoP proof; the rest get the library's replay error (${ROUNDS} rounds)`, async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const basic = clientSecretBasic(cast.service.clientId, cast.service.secret);
      const wrong: string[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const proof = await new SignJWT({ htm: 'POST', htu: tokenEndpoint, jti: randomUUID() })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
          .setIssuedAt()
          .sign(privateKey);
        const replies = await Promise.all(Array.from({ length: AT_ONCE }, () => post({ grant_type: 'client_credentials', scope: 'read' }, { authorization: basic, dpop: proof })));
        const served = replies.filter((reply) => reply.status === 200);
        // At the token endpoint oidc-provider answers a replayed proof with invalid_grant (lib/helpers/validate_dpop.js,
        // "DPoP proof JWT Replay detected", which it does not expose).
        const refused = replies.filter((reply) => reply.status === 400 && reply.body.error === 'invalid_grant');
        if (served.length !== 1 || refused.length !== AT_ONCE - 1) wrong.push(`round ${round}: ${JSON.stringify(replies.map((reply) => [reply.status, reply.body.error, reply.body.error_description]))}`);
        expect(served[0]?.body.token_type?.toLowerCase(), `round ${round}`).to.equal('dpop');
      }
      expect(wrong, 'rounds where a replayed proof was served').to.deep.equal([]);
    });

    it(`serves one of ${AT_ONCE} token requests carrying the same private_key_jwt assertion; the rest get invalid_client (${ROUNDS} rounds)`, async () => {
      const { privateKey, jwk } = await clientSigningKey('replayed-key');
      const wrong: string[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        // A client per round: refused assertions count toward the client's authentication failures.
        const { client } = await keyHoldingService(gatehouse, `Replayed assertions ${round}`, jwk);
        const assertion = await new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: 'ES256', kid: 'replayed-key' })
          .setIssuer(client.clientId)
          .setSubject(client.clientId)
          .setAudience(deploy.issuer)
          .setIssuedAt()
          .setExpirationTime('60s')
          .sign(privateKey);
        const form = {
          grant_type: 'client_credentials',
          scope: 'read',
          client_id: client.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        };
        const replies = await Promise.all(Array.from({ length: AT_ONCE }, () => post(form, {})));
        const served = replies.filter((reply) => reply.status === 200);
        const refused = replies.filter((reply) => reply.status === 401 && reply.body.error === 'invalid_client');
        if (served.length !== 1 || refused.length !== AT_ONCE - 1) wrong.push(`round ${round}: ${JSON.stringify(replies.map((reply) => [reply.status, reply.body.error]))}`);
      }
      expect(wrong, 'rounds where a replayed assertion was served').to.deep.equal([]);
    });
  });
}
