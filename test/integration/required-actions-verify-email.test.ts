import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { asPage, followTo, formsOf, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { authorizationRequest, deployment, oauthError, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: AgentPage, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
const kind = (value: AgentPage | URL): string => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? 'other'));

/**
 * The required action `verify_email` on an unconfirmed address stops a user at the password
 * grant exactly when it stops them at the hosted sign-in — as in Keycloak, where both ask the
 * same question (is a required action due?). With SMTP both stop them (the sign-in asks them to
 * confirm; the grant refuses with "Account is not fully set up"); without SMTP nobody could
 * confirm, so neither does, and the action stays listed for when mail can go out.
 */
for (const mail of [false, true]) {
  describe(`verify_email ${mail ? 'with' : 'without'} SMTP: the password grant and the hosted sign-in agree (real stores, openid-client)`, function () {
    this.timeout(120_000);
    let inbox: Inbox | undefined;
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let cast: Seeded;
    let web: oidc.Configuration;
    let gateway: oidc.Configuration;
    let admin: string;
    let user: { id: string; username: string };

    before(async () => {
      inbox = mail ? await startInbox() : undefined;
      deploy = await deployment(`reqact_verify_${mail ? 'smtp' : 'nosmtp'}`, inbox === undefined ? {} : { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
      gatehouse = await deploy.start();
      cast = await seed(gatehouse);
      web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
      const created = await gatehouse.services.clients.create({
        displayName: 'API gateway',
        firstParty: true,
        metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
      });
      gateway = await relyingParty(deploy.issuer, created.client.clientId, created.secret!);
      admin = await (await adminClient(gatehouse)).token();
      const username = `vera${Math.random().toString(36).slice(2, 6)}`;
      const response = await callAdmin(gatehouse.url, admin, 'POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: false, required_actions: ['verify_email'] });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      user = { id: response.body.id as string, username };
    });
    after(async () => {
      await gatehouse?.close();
      await deploy?.drop();
      await inbox?.close();
    });

    const listed = async () => (await callAdmin(gatehouse.url, admin, 'GET', `/users/${user.id}`)).body.required_actions as string[];

    it(`the password grant ${mail ? 'refuses the user (Account is not fully set up)' : 'lets the user through'}`, async () => {
      const request = oidc.genericGrantRequest(gateway, 'password', { username: user.username, password: PASSWORD, scope: 'openid' });
      if (mail) {
        const refused = await oauthError(request);
        expect(refused.error).to.equal('invalid_grant');
        expect(refused.description).to.match(/^Account is not fully set up/);
      } else {
        expect((await request).access_token).to.be.a('string');
      }
      expect(await listed()).to.deep.equal(['verify_email']);
    });

    it(`the hosted sign-in ${mail ? 'asks the user to confirm the address first' : 'passes over it: the app gets its code'}`, async () => {
      const agent = new UserAgent();
      const request = await authorizationRequest(web, REDIRECT_URI);
      const login = asPage(await follow(agent, request.url.toString()));
      let next = await submit(agent, login, 'login', { login: user.username, password: PASSWORD });
      if (mail) {
        expect(kind(next), 'the confirmation page').to.be.oneOf(['resend', 'continue']);
        expect(asPage(next).html).to.contain('Confirm your email');
      } else {
        if (kind(next) === 'confirm') next = await submit(agent, asPage(next), 'confirm');
        expect(kind(next)).to.equal('callback');
        expect((await oidc.authorizationCodeGrant(web, next as URL, request.checks)).claims()!.sub).to.equal(user.id);
      }
      expect(await listed(), 'still to do').to.deep.equal(['verify_email']);
    });
  });
}
