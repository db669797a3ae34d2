// GET /admin/api/v1/stats/sessions (the console dashboard's "Active sessions") counts people signed
// in: once per session (not also its `uid:` copy), and never the anonymous session records the
// library keeps for visitors who are not signed in (e.g. the sign-out page's form secret).
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { FAST_HASHING } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

const REDIRECT = 'https://intranet.example.com/cb';
const PASSWORD = 'a long enough password';

describe('active sessions as the admin API counts them', function () {
  this.timeout(60_000);
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    mongodbUri = emptyDatabaseUri('session_count');
    const port = await freePort();
    gatehouse = await startInstance({ mongodbUri, redisUrl: serviceUrls().redisUrl, secret: randomSecret(), issuer: `http://127.0.0.1:${port}`, settings: { PORT: String(port), ...FAST_HASHING } });
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
    await recycleDatabase(mongodbUri);
  });

  const active = async () => ((await callAdmin(gatehouse.url, token, 'GET', '/stats/sessions')).body as { active: number }).active;

  it('one per person signed in; visitors of the sign-out page add none', async () => {
    expect(await active()).to.equal(0);
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Intranet',
      firstParty: true,
      metadata: { redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    });
    for (const username of ['hana', 'ivan']) {
      await gatehouse.services.accounts.createUser({ username, password: PASSWORD });
      const auth = new URL(`${gatehouse.url}/auth`);
      auth.search = new URLSearchParams({ client_id: client.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
      const { callback } = await signIn(new UserAgent(), auth.toString(), REDIRECT, { username, password: PASSWORD });
      expect(callback.searchParams.get('code')).to.be.a('string');
    }
    // Three visitors who are not signed in open the sign-out page (nothing is stored for them: anonymous-sign-out.test.ts).
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${gatehouse.url}/session/end`);
      expect(response.status).to.equal(200);
    }
    expect(await active()).to.equal(2);
  });
});
