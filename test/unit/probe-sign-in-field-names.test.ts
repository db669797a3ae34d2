import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createViews } from '../../src/interactions/views.ts';

/**
 * Probe (probe24): the sign-in form carries Keycloak's element ids so an app's end-to-end tests
 * written against Keycloak's page sign in unchanged. Those tests as often pick the fields by name
 * (Cypress `input[name=username]`, Selenium `By.name("username")`, a scripted HTTP sign-in posting
 * `username=…&password=…` to the form's action): Keycloak's login.ftl names them `username`,
 * `password` and `rememberMe` (id rememberMe). Gatehouse's username field is named `login`.
 */
describe("probe: the sign-in form's field names are Keycloak's", () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand: { name: 'Acme', logoUrl: 'https://cdn.acme.example/logo.svg', primaryColor: '#0a7e3d', supportUrl: 'https://help.acme.example' } });

  it('username, password and rememberMe, as Keycloak names them', async () => {
    const html = await views.render('login', 'en', { title: 'Sign in', clientName: 'Web App', uid: 'u1', csrf: 'x', login: '', remember: false });
    expect(html).to.match(/<input id="username" name="username"/);
    expect(html).to.match(/<input id="password" name="password"/);
    expect(html).to.match(/<input id="rememberMe" type="checkbox" name="rememberMe"/);
  });
});
