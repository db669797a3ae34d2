// Development mode only (scripts/dev runs it before the server): a demo user and a demo
// public client, created once and kept in the development database.
import { createHash } from 'node:crypto';
import { openContext, processIo } from '../src/cli/context.ts';
import { withCore } from '../src/cli/services.ts';
import { discoveryPath, endpointPath } from '../src/routes/table.ts';

const DEMO_USER = { username: 'demo', password: 'demo-password-123' };
const DEMO_CLIENT_ID = 'demo-spa';
const DEMO_REDIRECT = 'http://localhost:8080/callback';
const VERIFIER = 'gatehouse-dev-demo-code-verifier-0123456789abcdef';

const ctx = openContext(processIo(), false);
/** The administrators there are (the first few), for the console's line: how to make one only while there is none. */
let admins: { names: string[]; total: number } = { names: [], total: 0 };
await withCore(ctx, async ({ services: { accounts, clients, users } }) => {
  if ((await accounts.findByLogin(DEMO_USER.username)) === undefined) {
    await accounts.createUser({ ...DEMO_USER, email: 'demo@example.com', emailVerified: true, name: 'Demo User', roles: ['demo'] });
  }
  if ((await clients.get(DEMO_CLIENT_ID)) === undefined) {
    await clients.create({
      clientId: DEMO_CLIENT_ID,
      displayName: 'Demo app',
      // A single-page app served from http://localhost:8080 may call the token endpoint (CORS).
      webOrigins: [new URL(DEMO_REDIRECT).origin],
      metadata: {
        redirect_uris: [DEMO_REDIRECT],
        post_logout_redirect_uris: ['http://localhost:8080/'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile email offline_access roles groups',
      },
    });
  }
  const found = await users.search({ role: 'admin', limit: 3, offset: 0 });
  admins = { names: found.users.map((user) => user.username), total: found.total };
});

const { issuer, publicUrl, routes } = ctx.config;
// Every URL printed here comes from the routes table, so GATEHOUSE_KEYCLOAK_REALM shows Keycloak's.
const origin = new URL(issuer).origin;
const url = (path: string) => `${origin}${path}`;
const challenge = createHash('sha256').update(VERIFIER).digest('base64url');
const authorize = new URL(url(endpointPath(routes, 'authorization')));
authorize.search = new URLSearchParams({
  client_id: DEMO_CLIENT_ID,
  response_type: 'code',
  scope: 'openid profile email',
  redirect_uri: DEMO_REDIRECT,
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state: 'demo',
}).toString();
function consoleNote(): string {
  if (admins.total === 0) {
    return `(needs a user with the admin role; make one from a second terminal:
                  npm run cli -- users create --username admin --role admin --password-stdin)`;
  }
  const more = admins.total > admins.names.length ? `, … ${admins.total} in all` : '';
  return `(sign in as an administrator: ${admins.names.join(', ')}${more}; more with npm run cli -- roles assign admin --user NAME)`;
}
process.stderr.write(`
  Demo (development data only):
    user          ${DEMO_USER.username} / ${DEMO_USER.password}
    client        ${DEMO_CLIENT_ID} (public, PKCE), redirect_uri ${DEMO_REDIRECT}
    1. open       ${authorize}
    2. sign in, then Allow (a third-party app: its consent page, the first time only); the browser lands on ${DEMO_REDIRECT}?code=CODE (nothing listens there: copy CODE)
    3. exchange   curl -s ${url(endpointPath(routes, 'token'))} -d grant_type=authorization_code -d client_id=${DEMO_CLIENT_ID} \\
                    -d redirect_uri=${DEMO_REDIRECT} -d code_verifier=${VERIFIER} -d code=CODE

  Gatehouse (development) — ${publicUrl}${routes.layout === 'keycloak' ? ` (Keycloak layout, issuer ${issuer})` : ''}
    discovery   ${url(discoveryPath(routes))}
    JWKS        ${url(endpointPath(routes, 'jwks'))}
    health      ${url(routes.healthz)}   readiness  ${url(routes.readyz)}   metrics  ${url(routes.metrics)}
    console     ${url(routes.console)}/   ${consoleNote()}
    account     ${url(routes.account)}/   (each user's own page: sign in as ${DEMO_USER.username})
    doctor      npm run cli -- doctor ${issuer}   (checks this server end to end)
`);
