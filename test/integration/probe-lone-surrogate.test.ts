import { expect } from 'chai';
import { adminClient } from '../helpers/admin.ts';
import { instanceForSuite } from '../helpers/e2e.ts';

/** A JWT nobody signed whose payload is `json` as written (a lone surrogate escaped as \ud800 stays one once parsed). */
function unsignedJwt(json: string): string {
  const part = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  return `${part('{"alg":"HS256","typ":"JWT"}')}.${part(json)}.${part('sig')}`;
}

/**
 * Probe (probe26): a lone UTF-16 surrogate (`"\ud800"`: JSON may escape one, and JSON.parse gives
 * a string no text should hold) where a client names itself or an operator names a lockout.
 * encodeURIComponent throws URIError on one: every such place a client's or caller's mistake, a
 * 4xx, never a 500.
 */
describe('probe: a lone surrogate in a client assertion or a lockout subject is never a 500', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('probe_lone_surrogate');

  for (const route of ['/token', '/token/introspection', '/token/revocation', '/request', '/device/auth']) {
    it(`${route}: a client assertion whose subject is a lone surrogate is refused as a client error`, async () => {
      const response = await fetch(`${suite.gatehouse.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          token: 'x',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: unsignedJwt('{"sub":"\\ud800","iss":"\\ud800","aud":"x","exp":9999999999,"jti":"j"}'),
        }).toString(),
      });
      expect(response.status, await response.clone().text()).to.be.within(400, 499);
      const body = (await response.json()) as { error?: string };
      expect(body.error).to.be.a('string');
    });
  }

  it('POST /admin/api/v1/lockouts/clear with a lone surrogate as the subject is a 400 naming it (no store could hold it), without a 500', async () => {
    const token = await (await adminClient(suite.gatehouse)).token();
    const response = await fetch(`${suite.gatehouse.url}/admin/api/v1/lockouts/clear`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"subject":"login:\\ud800"}',
    });
    expect(response.status, await response.clone().text()).to.equal(400);
    const details = ((await response.json()) as { details: Array<{ path: string; code: string }> }).details;
    expect(details.map(({ path, code }) => `${path} ${code}`)).to.deep.equal(['subject lone_surrogate']);
  });
});
