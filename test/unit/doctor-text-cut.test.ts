import { expect } from 'chai';
import { runDoctor } from '../../src/doctor/checks.ts';

/**
 * What `gatehouse doctor` quotes of an answer (at most 200 UTF-16 units) is cut by whole
 * characters: an emoji across the cut goes whole, never half of it (a terminal shows U+FFFD).
 */
describe('gatehouse doctor: the quoted part of an answer, cut by whole characters', () => {
  it("a readiness answer with an emoji across unit 200 is quoted without half of it", async () => {
    const issuer = 'http://localhost:3999';
    const answer = `${'x'.repeat(199)}😀 and the rest`;
    const fakeFetch: typeof fetch = async (input) => {
      const url = String(input);
      if (url.endsWith('/.well-known/openid-configuration')) return Response.json({ issuer });
      if (url.endsWith('/readyz')) return new Response(answer, { status: 503 });
      return new Response('not here', { status: 404 });
    };
    const checks = await runDoctor({ issuer, fetch: fakeFetch, temporaryClient: { unavailable: 'not in this test' } });
    const readiness = checks.find((check) => check.name === 'readiness');
    expect(readiness?.status).to.equal('fail');
    expect(readiness?.detail).to.equal(`${issuer}/readyz answered 503: ${'x'.repeat(199)} (a store is down: check MONGODB_URI / REDIS_URL from the server)`);
  });
});
