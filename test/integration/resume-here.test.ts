import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, UserAgent, type PageForm } from '../helpers/browserless.ts';
import { authorizationRequest, instanceForSuite, PASSWORD, REDIRECT_URI, relyingParty, seed, SPA_REDIRECT_URI, type Seeded } from '../helpers/e2e.ts';

/**
 * A finished sign-in step answers with what the resume (`/auth/:uid`) would answer, in the same
 * request (src/interactions/resume-here.ts): the form POST redirects to the client, or to the
 * next step, and the browser makes one request less. The resume's own checks still run.
 */
describe('a finished sign-in step resumes the authorization in the same request', function () {
  this.timeout(60_000);
  const instance = instanceForSuite('resume_here');
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;
  let firstParty: oidc.Configuration;
  let thirdParty: oidc.Configuration;

  before(async () => {
    ({ gatehouse, deploy: { issuer } } = instance);
    cast = await seed(gatehouse);
    // seed's SPA is first-party (no consent page) and public; the web app asks for consent.
    firstParty = await relyingParty(issuer, cast.spa.clientId, undefined, oidc.None());
    thirdParty = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
  });

  /** /auth → the first page; its form and URL. */
  async function open(agent: UserAgent, config: oidc.Configuration): Promise<{ form: PageForm; url: string; checks: Awaited<ReturnType<typeof authorizationRequest>>['checks'] }> {
    const request = await authorizationRequest(config, config === firstParty ? SPA_REDIRECT_URI : REDIRECT_URI);
    let url = request.url.toString();
    let response = await agent.request(url);
    while (response.status === 303 || response.status === 302) {
      url = new URL(response.headers.get('location')!, url).toString();
      response = await agent.request(url);
    }
    const form = formsOf(await response.text())[0]!;
    return { form, url, checks: request.checks };
  }

  const submit = (agent: UserAgent, at: string, form: PageForm, fields: Record<string, string> = {}) => agent.postForm(new URL(form.action, at).toString(), { ...form.fields, ...fields });
  const credentials = () => ({ login: cast.user.username, password: PASSWORD, remember: 'yes' });

  it('the sign-in form POST redirects to the client with a code, clears the resume cookie, and the code gives tokens', async () => {
    const agent = new UserAgent();
    const { form, url, checks } = await open(agent, firstParty);
    expect(form.action).to.match(/\/login$/);
    expect([...agent.cookies.keys()]).to.include('_interaction_resume');
    const posted = await submit(agent, url, form, credentials());
    expect(posted.status).to.equal(303);
    const location = posted.headers.get('location')!;
    expect(location.startsWith(`${SPA_REDIRECT_URI}?`), location).to.equal(true);
    expect(posted.headers.get('cache-control')).to.contain('no-store');
    // The provider's answer clears the resume cookie the browser holds (its path is /auth/:uid).
    expect(posted.headers.getSetCookie().some((line) => line.startsWith('_interaction_resume=;') && /path=\/auth\//.test(line))).to.equal(true);
    expect([...agent.cookies.keys()]).to.not.include('_interaction_resume');
    // The session cookie is set: the next authorization needs no sign-in.
    expect([...agent.cookies.keys()]).to.include('_session');
    const tokens = await oidc.authorizationCodeGrant(firstParty, new URL(location), checks);
    expect(tokens.claims()!.sub).to.equal(cast.user.id);
  });

  it('a step followed by another (consent) redirects to that step’s page; the consent POST then redirects to the client', async () => {
    const agent = new UserAgent();
    const { form, url, checks } = await open(agent, thirdParty);
    const posted = await submit(agent, url, form, credentials());
    expect(posted.status).to.equal(303);
    const next = new URL(posted.headers.get('location')!, url);
    expect(next.pathname).to.match(/^\/interaction\/[^/]+$/);
    expect(next.pathname).to.not.equal(new URL(url).pathname);
    const page = await agent.request(next.toString());
    expect(page.status).to.equal(200);
    const confirm = formsOf(await page.text()).find((candidate) => candidate.action.endsWith('/confirm'))!;
    const confirmed = await submit(agent, next.toString(), confirm);
    expect(confirmed.status).to.equal(303);
    const callback = new URL(confirmed.headers.get('location')!);
    expect(callback.toString().startsWith(REDIRECT_URI)).to.equal(true);
    const tokens = await oidc.authorizationCodeGrant(thirdParty, callback, checks);
    expect(tokens.claims()!.sub).to.equal(cast.user.id);
  });

  it('cancelling redirects to the client with access_denied', async () => {
    const agent = new UserAgent();
    const { form, url } = await open(agent, firstParty);
    const abort = new URL(form.action.replace(/\/login$/, '/abort'), url).toString();
    const cancelled = await agent.postForm(abort, { csrf: form.fields.csrf! });
    expect(cancelled.status).to.equal(303);
    const callback = new URL(cancelled.headers.get('location')!);
    expect(callback.toString().startsWith(SPA_REDIRECT_URI)).to.equal(true);
    expect(callback.searchParams.get('error')).to.equal('access_denied');
  });

  it('the same form posted again after it resumed gives no second code (the interaction is gone)', async () => {
    const agent = new UserAgent();
    const { form, url } = await open(agent, firstParty);
    const cookies = new Map(agent.cookies);
    const first = await submit(agent, url, form, credentials());
    expect(first.headers.get('location')!.startsWith(SPA_REDIRECT_URI)).to.equal(true);
    // A replay with the cookies the browser had when it posted (its resume cookie included).
    const replay = new UserAgent();
    for (const [name, value] of cookies) replay.cookies.set(name, value);
    const again = await submit(replay, url, form, credentials());
    expect(again.headers.get('location') ?? '').to.not.contain('code=');
    expect(again.status).to.be.at.least(400);
  });

  it('a browser without the interaction cookie is not resumed (the binding the resume cookie gave holds)', async () => {
    const agent = new UserAgent();
    const { form, url } = await open(agent, firstParty);
    const stranger = new UserAgent();
    // Everything but the interaction cookie (path /interaction/:uid): the resume cookie included.
    for (const [name, value] of agent.cookies) if (!name.startsWith('_interaction') || name.startsWith('_interaction_resume')) stranger.cookies.set(name, value);
    const posted = await submit(stranger, url, form, credentials());
    expect(posted.headers.get('location') ?? '').to.not.contain('code=');
    expect(posted.status).to.be.at.least(400);
  });

  it('the request log and metrics keep the POST as what it was (not the resume)', async () => {
    const agent = new UserAgent();
    const { form, url } = await open(agent, firstParty);
    const requests = async (route: string, method: string) => {
      const histogram = gatehouse.metrics.registry.getSingleMetric('gatehouse_http_request_duration_seconds')!;
      const { values } = await histogram.get();
      return values.filter((entry) => (entry as { metricName?: string }).metricName?.endsWith('_count') === true && entry.labels.route === route && entry.labels.method === method).reduce((sum, entry) => sum + entry.value, 0);
    };
    const posts = await requests('/interaction/:uid/login', 'POST');
    const resumes = await requests('resume', 'GET');
    const posted = await submit(agent, url, form, credentials());
    await posted.arrayBuffer();
    expect(posted.headers.get('location')!.startsWith(SPA_REDIRECT_URI)).to.equal(true);
    // The line is written when the server's response closes, a few event-loop turns after the client has it.
    for (let turn = 0; turn < 100 && (await requests('/interaction/:uid/login', 'POST')) === posts; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(await requests('/interaction/:uid/login', 'POST')).to.equal(posts + 1);
    expect(await requests('resume', 'GET')).to.equal(resumes);
  });
});
