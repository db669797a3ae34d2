import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf } from '../helpers/browserless.ts';
import { testClock } from '../helpers/clock.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { forSuite } from '../helpers/suite.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

/** The realm export with its Corp SSO provider shown on the login page (the export hides it). */
function realmWithShownProvider(): unknown {
  const realm = JSON.parse(readFileSync(new URL('../fixtures/keycloak/realm-export-idps.json', import.meta.url), 'utf8')) as { identityProviders: Array<Record<string, unknown>> };
  for (const provider of realm.identityProviders) if (provider.alias === 'corp-keycloak') provider.hideOnLogin = false;
  return realm;
}

/** The aliases of the "Continue with …" buttons on a sign-in page. */
const buttons = (html: string) => [...html.matchAll(/data-provider="([^"]+)"/g)].map((match) => match[1]!);

/** Posts an email login on a fresh sign-in page of `instance`; the page that answers. */
async function emailLogin(c: TwoInstances, instance: RunningGatehouse, login: string): Promise<string> {
  const { agent, url, html } = await c.signInPage(instance);
  const form = formsOf(html).find((candidate) => candidate.action.endsWith('/login'));
  expect(form, 'sign-in form').to.not.equal(undefined);
  const answer = await agent.postForm(new URL(form!.action, url).toString(), { ...form!.fields, login, password: PASSWORD });
  return answer.text();
}

const ACME = { alias: 'acme', kind: 'oidc', display_name: 'Acme SSO', issuer: 'https://idp.acme.test', client_id: 'gatehouse', client_secret: 'acme-secret' };

/**
 * The sign-in page lists the upstream providers from a per-instance copy (src/upstream/provider-list.ts);
 * an operator's change must reach every instance's page promptly all the same.
 */
describe('upstream providers on the sign-in page follow changes made on another instance', function () {
  this.timeout(120_000);

  describe('two instances sharing MongoDB and Redis', () => {
    // Frozen: no copy can expire during the test, so only the Redis notice can explain a change on B.
    const clock = testClock({ frozen: true });
    const c = forSuite(() => twoInstances('upstream_list_redis', { redis: true, clock }), (c) => c.stop());

    it('created, disabled and home-domained through the admin API, re-enabled through the CLI, deleted: B\'s page follows each change', async () => {
      expect(buttons((await c.signInPage(c.b)).html), 'B has read (and keeps) the empty list').to.deep.equal([]);

      expect((await c.api('POST', '/upstream-providers', ACME)).status).to.equal(201);
      await within(NOTICE_MS, async () => buttons((await c.signInPage(c.b)).html).includes('acme'));

      expect((await c.api('PATCH', '/upstream-providers/acme', { enabled: false })).status).to.equal(200);
      await within(NOTICE_MS, async () => buttons((await c.signInPage(c.b)).html).length === 0);

      const enabled = await runCli(['idps', 'update', 'acme', '--enabled'], c.cliEnv());
      expect(enabled.code, enabled.stderr).to.equal(0);
      await within(NOTICE_MS, async () => buttons((await c.signInPage(c.b)).html).includes('acme'));

      // Home-domain routing on B (a password POST whose login is an email) uses the same copy.
      expect(await emailLogin(c, c.b, 'rae@acme.test'), 'no home domain yet: an ordinary failed sign-in').to.not.include('/upstream/acme?login_hint=');
      expect((await c.api('PATCH', '/upstream-providers/acme', { home_domains: ['acme.test'] })).status).to.equal(200);
      await within(NOTICE_MS, async () => (await emailLogin(c, c.b, 'rae@acme.test')).includes('/upstream/acme?login_hint=rae%40acme.test'));

      expect((await c.api('DELETE', '/upstream-providers/acme')).status).to.equal(204);
      await within(NOTICE_MS, async () => buttons((await c.signInPage(c.b)).html).length === 0);
    });

    it('a Keycloak import on A shows its enabled providers on B', async () => {
      expect(buttons((await c.signInPage(c.b)).html)).to.deep.equal([]);
      const imported = await c.api('POST', '/import/keycloak', realmWithShownProvider());
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      await within(NOTICE_MS, async () => buttons((await c.signInPage(c.b)).html).includes('corp-keycloak'));
      // Disabled on import (no secret in the export): not shown.
      expect(buttons((await c.signInPage(c.b)).html)).to.not.include('google');
    });
  });

  describe('two instances without Redis', () => {
    const clock = testClock({ frozen: true });
    const c = forSuite(() => twoInstances('upstream_list_noredis', { redis: false, clock }), (c) => c.stop());

    it('the instance that wrote shows a change at once; the other within a second (on its clock)', async () => {
      expect(buttons((await c.signInPage(c.b)).html)).to.deep.equal([]);
      expect((await c.api('POST', '/upstream-providers', ACME)).status).to.equal(201);
      expect(buttons((await c.signInPage(c.a)).html), 'A dropped its copy when it wrote').to.deep.equal(['acme']);
      expect(buttons((await c.signInPage(c.b)).html), 'B still has its copy').to.deep.equal([]);
      await clock.advance(1000);
      expect(buttons((await c.signInPage(c.b)).html)).to.deep.equal(['acme']);
    });
  });
});
