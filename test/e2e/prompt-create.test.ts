import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const NEW_PASSWORD = 'my own passphrase 2026';
const verifyLinkIn = (text: string | undefined) => /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];
const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!.replace(/&amp;/g, '&'));

async function promptValues(issuer: string): Promise<string[]> {
  return ((await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { prompt_values_supported: string[] }).prompt_values_supported;
}

async function firstPartyApp(gatehouse: RunningGatehouse, issuer: string): Promise<oidc.Configuration> {
  const { client, secret } = await gatehouse.services.clients.create({
    displayName: 'Notes',
    firstParty: true,
    metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid email profile' },
  });
  return relyingParty(issuer, client.clientId, secret!);
}

/** OpenID Connect "Initiating User Registration via OpenID Connect 1.0": prompt=create. */
describe('prompt=create opens registration inside the authorization (self-registration on, real SMTP)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('prompt_create', {
      settings: { GATEHOUSE_SELF_REGISTRATION: 'true', GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'no-reply@example.com' },
    });
    gatehouse = await deploy.start();
    app = await firstPartyApp(gatehouse, deploy.issuer);
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('advertises create in prompt_values_supported', async () => {
    expect(await promptValues(deploy.issuer)).to.include('create');
  });

  it('shows the registration form first; after the address is confirmed the same authorization signs the new user in to the app', async () => {
    const agent = new UserAgent();
    const request = await authorizationRequest(app, REDIRECT_URI, { prompt: 'create' });
    const started = await agent.request(request.url.toString());
    expect(started.status).to.equal(303);
    const interaction = new URL(started.headers.get('location')!, request.url).toString();
    const page = await agent.request(interaction);
    expect(page.status).to.equal(200);
    const html = await page.text();
    const form = formsOf(html).find((f) => f.action.endsWith('/register'));
    expect(form, 'the registration form, not the sign-in form').to.not.equal(undefined);
    expect(formsOf(html).some((f) => f.action.endsWith('/login'))).to.equal(false);

    const sent = await agent.postForm(new URL(form!.action, interaction).toString(), { ...form!.fields, name: 'Rita Registrant', email: 'rita@example.com', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(sent.status).to.equal(200);
    expect(await sent.text()).to.include('Check your email');

    const link = verifyLinkIn((await inbox.next()).text)!;
    const confirmPage = await agent.request(link);
    const confirm = formsOf(await confirmPage.text())[0]!;
    const done = await agent.postForm(new URL(confirm.action, link).toString(), confirm.fields);
    const doneHtml = await done.text();
    const onward = hrefs(doneHtml).find((href) => href.includes('/interaction/'));
    expect(onward, 'the confirmation page leads back into the authorization').to.be.a('string');

    const outcome = await signIn(agent, new URL(onward!, link).toString(), REDIRECT_URI, { username: 'rita@example.com', password: NEW_PASSWORD });
    expect(outcome.sawLogin).to.equal(true);
    const tokens = await oidc.authorizationCodeGrant(app, outcome.callback, request.checks);
    expect(tokens.claims()).to.include({ email: 'rita@example.com', email_verified: true, name: 'Rita Registrant' });
  });

  it('"Already have an account? Sign in" on that form goes on to the sign-in page of the same authorization', async () => {
    const agent = new UserAgent();
    const request = await authorizationRequest(app, REDIRECT_URI, { prompt: 'create' });
    const interaction = new URL((await agent.request(request.url.toString())).headers.get('location')!, request.url).toString();
    const html = await (await agent.request(interaction)).text();
    const signInLink = hrefs(html).find((href) => href.includes('/interaction/'));
    expect(signInLink).to.be.a('string');
    let response = await agent.request(new URL(signInLink!, interaction).toString());
    let url = new URL(signInLink!, interaction).toString();
    for (let hop = 0; hop < 5 && response.status >= 300 && response.status < 400; hop += 1) {
      url = new URL(response.headers.get('location')!, url).toString();
      response = await agent.request(url);
    }
    expect(response.status).to.equal(200);
    expect(formsOf(await response.text()).some((f) => f.action.endsWith('/login')), 'the sign-in form').to.equal(true);
  });
});

describe('prompt=create with self-registration off', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('prompt_create_off');
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('is not advertised, and a request for it gets the standard error at the redirect URI', async () => {
    expect(await promptValues(deploy.issuer)).to.not.include('create');
    const app = await firstPartyApp(gatehouse, deploy.issuer);
    const request = await authorizationRequest(app, REDIRECT_URI, { prompt: 'create' });
    const answer = await new UserAgent().request(request.url.toString());
    expect(answer.status).to.be.within(302, 303);
    const location = new URL(answer.headers.get('location')!);
    expect(location.origin + location.pathname).to.equal(REDIRECT_URI);
    expect(location.searchParams.get('error')).to.equal('invalid_request');
    expect(location.searchParams.get('error_description')).to.equal('unsupported prompt value requested');
  });
});

describe('prompt=create follows the self_registration runtime setting (SMTP configured, not pinned)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('prompt_create_runtime', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'no-reply@example.com' } });
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('off: not listed and refused as unsupported at the redirect URI; turned on: listed and the registration form opens', async () => {
    const app = await firstPartyApp(gatehouse, deploy.issuer);
    expect(await promptValues(deploy.issuer)).to.not.include('create');
    const refusedRequest = await authorizationRequest(app, REDIRECT_URI, { prompt: 'create' });
    const agent = new UserAgent();
    let response = await agent.request(refusedRequest.url.toString());
    let url = refusedRequest.url.toString();
    for (let hop = 0; hop < 6 && response.status >= 300 && response.status < 400; hop += 1) {
      url = new URL(response.headers.get('location')!, url).toString();
      if (url.startsWith(REDIRECT_URI)) break;
      response = await agent.request(url);
    }
    const location = new URL(url);
    expect(location.origin + location.pathname).to.equal(REDIRECT_URI);
    expect(location.searchParams.get('error')).to.equal('invalid_request');
    expect(location.searchParams.get('error_description')).to.equal('unsupported prompt value requested');

    await gatehouse.services.signInSettings.update({ self_registration: true });
    expect(await promptValues(deploy.issuer)).to.include('create');
    const request = await authorizationRequest(app, REDIRECT_URI, { prompt: 'create' });
    const fresh = new UserAgent();
    const interaction = new URL((await fresh.request(request.url.toString())).headers.get('location')!, request.url).toString();
    expect(formsOf(await (await fresh.request(interaction)).text()).some((f) => f.action.endsWith('/register'))).to.equal(true);
  });
});

/**
 * keycloak-js's `register()` / `createRegisterUrl()` opens Keycloak's registrations endpoint with
 * the parameters of an authorization request. In the Keycloak layout that address leads to the
 * authorization endpoint with `prompt=create`, so an app's "Sign up" button keeps working.
 */
describe("Keycloak's registrations endpoint (keycloak-js register()) in the Keycloak layout", () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let issuer: string;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('prompt_create_kc', {
      settings: { GATEHOUSE_KEYCLOAK_REALM: 'acme', GATEHOUSE_SELF_REGISTRATION: 'true', GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'no-reply@example.com' },
    });
    gatehouse = await deploy.start();
    issuer = `${deploy.issuer}/realms/acme`;
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  it('leads to the authorization endpoint with prompt=create (the request kept, any other prompt replaced), which opens the registration form', async () => {
    const app = await firstPartyApp(gatehouse, issuer);
    const request = await authorizationRequest(app, REDIRECT_URI, { prompt: 'login' });
    const registrations = new URL(`${issuer}/protocol/openid-connect/registrations`);
    registrations.search = request.url.search;
    const agent = new UserAgent();
    const answer = await agent.request(registrations.href, { headers: { accept: 'text/html' } });
    expect(answer.status).to.equal(303);
    const target = new URL(answer.headers.get('location')!);
    expect(target.origin + target.pathname).to.equal(`${issuer}/protocol/openid-connect/auth`);
    const expected = new URLSearchParams(request.url.search);
    expected.set('prompt', 'create');
    expect(Object.fromEntries(target.searchParams)).to.deep.equal(Object.fromEntries(expected));

    const interaction = new URL((await agent.request(target.href)).headers.get('location')!, target).toString();
    const html = await (await agent.request(interaction)).text();
    expect(formsOf(html).some((f) => f.action.endsWith('/register')), 'the registration form').to.equal(true);
  });
});
