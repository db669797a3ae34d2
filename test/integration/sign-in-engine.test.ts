import { expect } from 'chai';
import * as oidc from 'openid-client';
import { ACR } from '../../src/oidc/acr.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { termsStep } from '../fixtures/steps/terms.ts';

interface Walk {
  readonly callback: URL;
  /** The last path segment of each page's first form action: login, accept (terms), confirm (consent). */
  readonly pages: string[];
  readonly html: string[];
}

/** Follows an authorization through whatever steps come, answering each page's first form. */
async function walk(agent: UserAgent, start: string, fill: Record<string, Record<string, string>> = {}): Promise<Walk> {
  const pages: string[] = [];
  const html: string[] = [];
  let url = start;
  for (let hop = 0; hop < 20; hop += 1) {
    if (url.startsWith(REDIRECT_URI)) return { callback: new URL(url), pages, html };
    const response = await agent.request(url);
    if (response.status === 302 || response.status === 303) {
      url = new URL(response.headers.get('location')!, url).toString();
      continue;
    }
    const body = await response.text();
    expect(response.status, body.slice(0, 300)).to.equal(200);
    const form = formsOf(body)[0]!;
    const action = form.action.split('/').at(-1)!;
    pages.push(action);
    html.push(body);
    const submitted = await agent.postForm(new URL(form.action, url).toString(), { ...form.fields, ...fill[action] });
    expect(submitted.status, `${action} did not advance`).to.equal(303);
    url = new URL(submitted.headers.get('location')!, url).toString();
  }
  throw new Error('too many hops');
}

describe('sign-in engine: steps dispatched by prompt, results merged across steps', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let config: oidc.Configuration;

  before(async () => {
    // The test-only step is registered here and nowhere else: one file plus this line.
    deploy = await deployment('sign_in_engine', { redis: false, extraSteps: [termsStep] });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('runs password → test step → consent, and the test step sees what the password step submitted', async () => {
    const agent = new UserAgent();
    const request = await authorizationRequest(config, REDIRECT_URI);
    const outcome = await walk(agent, request.url.toString(), { login: { login: cast.user.username, password: PASSWORD, remember: 'yes' } });
    expect(outcome.pages).to.deep.equal(['login', 'accept', 'confirm']);
    expect(outcome.html[1]).to.contain('<span id="methods">pwd</span>');
    const tokens = await oidc.authorizationCodeGrant(config, outcome.callback, request.checks);
    const claims = tokens.claims()!;
    expect(claims.sub).to.equal(cast.user.id);
    expect(claims.amr).to.deep.equal(['pwd']);
    expect(claims.acr).to.equal(ACR.singleFactor);
  });

  it('asks only the steps still due on a remembered session; the session keeps amr and acr', async () => {
    const agent = new UserAgent();
    const first = await authorizationRequest(config, REDIRECT_URI);
    await walk(agent, first.url.toString(), { login: { login: cast.user.username, password: PASSWORD, remember: 'yes' } });
    const again = await authorizationRequest(config, REDIRECT_URI);
    const outcome = await walk(agent, again.url.toString());
    // The test step's check is per authorization; password and consent are remembered.
    expect(outcome.pages).to.deep.equal(['accept']);
    const claims = (await oidc.authorizationCodeGrant(config, outcome.callback, again.checks)).claims()!;
    expect(claims.amr).to.deep.equal(['pwd']);
    expect(claims.acr).to.equal(ACR.singleFactor);
  });

  it("refuses another step's action with a 400 page, and prompt=none reports the pending custom prompt", async () => {
    const agent = new UserAgent();
    const request = await authorizationRequest(config, REDIRECT_URI);
    let url = request.url.toString();
    let response = await agent.request(url);
    while (response.status === 303 || response.status === 302) {
      url = new URL(response.headers.get('location')!, url).toString();
      response = await agent.request(url);
    }
    const login = formsOf(await response.text())[0]!;
    const posted = await agent.postForm(new URL(login.action, url).toString(), { ...login.fields, login: cast.user.username, password: PASSWORD });
    url = new URL(posted.headers.get('location')!, url).toString();
    response = await agent.request(url);
    while (response.status === 303 || response.status === 302) {
      url = new URL(response.headers.get('location')!, url).toString();
      response = await agent.request(url);
    }
    const terms = formsOf(await response.text())[0]!;
    expect(terms.action).to.match(/\/accept$/);
    const replayed = await agent.postForm(new URL(terms.action.replace(/accept$/, 'login'), url).toString(), { ...terms.fields, login: 'x', password: 'y' });
    expect(replayed.status).to.equal(400);
    expect(await replayed.text()).to.contain('<html');

    const silent = await authorizationRequest(config, REDIRECT_URI, { prompt: 'none' });
    const answer = await agent.request(silent.url.toString());
    const location = new URL(answer.headers.get('location')!);
    expect(location.searchParams.get('error')).to.equal('interaction_required');
  });

  it('lists the acr values in discovery', () => {
    expect(config.serverMetadata().acr_values_supported).to.deep.equal([ACR.singleFactor, ACR.multiFactor]);
  });
});
