import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { asPage, followTo, submitForm, UserAgent } from '../helpers/browserless.ts';
import { PASSWORD, REDIRECT_URI, seededInstanceForSuite, throwawayAuthorizationUrl } from '../helpers/e2e.ts';
import { softAuthenticator } from '../helpers/soft-authenticator.ts';

/** A hosted pages' string (views/locales/en.json), as the page shows it (HTML-escaped). */
function pageString(key: string): string {
  const strings = JSON.parse(readFileSync(new URL('../../views/locales/en.json', import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], key).to.be.a('string');
  return strings[key]!.replaceAll('&', '&amp;').replaceAll("'", '&#39;').replaceAll('"', '&#34;');
}

/**
 * The passkey a user enrols as their second factor right after the password names itself with
 * the form's `name`: like the account page's (src/operations/own-sign-in-methods.ts), a name with
 * a control or invisible format character (a U+202E reverses the text around it in every list
 * that shows it) is refused with a friendly message, and nothing is stored.
 */
describe("the sign-in's passkey enrolment refuses a name with a hidden character (real stores)", function () {
  this.timeout(60_000);
  const suite = seededInstanceForSuite('passkey_enrol_name', { host: 'localhost' });

  it('answers 400 with the localized message and stores nothing; a plain name then enrols', async () => {
    const { gatehouse, cast, deploy } = suite;
    const web = (await gatehouse.services.clients.get(cast.web.clientId))!;
    await gatehouse.services.clients.update(cast.web.clientId, { metadata: { ...web.metadata, require_mfa: true } });
    const agent = new UserAgent();
    const login = asPage(await followTo(agent, throwawayAuthorizationUrl(deploy.issuer, cast.web.clientId, REDIRECT_URI), REDIRECT_URI));
    const enrol = asPage(await submitForm(agent, login, 'login', { login: cast.user.username, password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    const options = /<script type="application\/json" id="passkey-options">([^<]*)<\/script>/.exec(enrol.html);
    expect(options, 'the passkey enrolment form').to.not.equal(null);
    const { challenge } = JSON.parse(options![1]!) as { challenge: string };
    const authenticator = softAuthenticator(deploy.issuer);

    for (const name of ['Lap\u202Etop', 'zero\u200Bwidth', 'tab\there']) {
      const id = Buffer.from(`hidden ${name}`).toString('base64url');
      const refused = asPage(await submitForm(agent, enrol, 'passkey-register', { response: authenticator.register(id, challenge), name }, REDIRECT_URI));
      expect(refused.status, name).to.equal(400);
      expect(refused.html, name).to.contain('role="alert"').and.contain(pageString('passkey.invalid_name'));
      expect(await gatehouse.services.passkeys.list(cast.user.id), name).to.deep.equal([]);
    }

    const id = Buffer.from('plain').toString('base64url');
    const codes = asPage(await submitForm(agent, enrol, 'passkey-register', { response: authenticator.register(id, challenge), name: 'Laptop' }, REDIRECT_URI));
    expect(codes.status).to.equal(200);
    expect(codes.html).to.contain('recovery-codes');
    expect((await gatehouse.services.passkeys.list(cast.user.id)).map((passkey) => passkey.name)).to.deep.equal(['Laptop']);
  });
});
