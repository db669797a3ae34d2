import { expect } from 'chai';
import { InvalidUserError } from '../../src/accounts/errors.ts';
import { isServiceAccountName, personalUsername, validUsername } from '../../src/accounts/normalize.ts';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

/**
 * Keycloak-shaped client_credentials tokens name a client's service account
 * `service-account-<client id>` (preferred_username), which apps tell a service token by: no
 * person's username starts with it — in any case or width — whoever picks it.
 */
describe('usernames: the service-account- prefix is reserved', () => {
  it('validUsername refuses it (field username, code username_reserved), in any case or width', () => {
    for (const name of ['service-account-billing', 'Service-Account-x', 'SERVICE-ACCOUNT-x', 'ｓｅｒｖｉｃｅ-account-y', 'service－account－z', ' service-account-w ']) {
      let refused: unknown;
      try {
        validUsername(name);
      } catch (error) {
        refused = error;
      }
      expect(refused, name).to.be.instanceOf(InvalidUserError);
      const error = refused as InvalidUserError;
      expect(error.field).to.equal('username');
      expect(error.message).to.equal('username: must not start with "service-account-" (any case): that is the name a client\'s service account has in its tokens');
      expect(JSON.stringify(error.details)).to.contain('username_reserved');
    }
  });

  it('names that only resemble it stay valid', () => {
    for (const name of ['service-accounts', 'service-account', 'my-service-account-x', 'service_account_x', 'serviceaccount-x']) expect(validUsername(name), name).to.equal(name);
  });

  it('personalUsername puts user- in front of such a name only', () => {
    expect(personalUsername('service-account-x')).to.equal('user-service-account-x');
    expect(personalUsername('Service-Account-X')).to.equal('user-Service-Account-X');
    expect(personalUsername('alice')).to.equal('alice');
    expect(isServiceAccountName(personalUsername('ｓｅｒｖｉｃｅ-account-y'))).to.equal(false);
  });
});

describe('Keycloak import: users named like a service account', () => {
  const realm = {
    realm: 'demo',
    clients: [{ clientId: 'worker', enabled: true, publicClient: false, secret: 'worker-secret-0123456789', serviceAccountsEnabled: true }],
    users: [
      // Keycloak's own service-account user: not a user here (its roles go to the client), as before.
      { id: 'sa-1', username: 'service-account-worker', enabled: true, serviceAccountClientId: 'worker' },
      // A person whose Keycloak username is such a name (a realm that let one through): refused, reported.
      { id: 'u-1', username: 'service-account-payroll', enabled: true, email: 'pay@example.org' },
      { id: 'u-2', username: 'Service-Account-Ops', enabled: true },
      // A person named by an address with such a local part: the derived username gets user- in front.
      { id: 'u-3', username: 'service-account-hr@example.org', enabled: true },
      // Names with hidden characters: left out, reported; the user is imported.
      { id: 'u-4', username: 'bob', enabled: true, firstName: 'Bob\u202Egnp.exe', lastName: 'Builder' },
      { id: 'u-5', username: 'eve', enabled: true, firstName: 'Eve', lastName: 'Smith\u200B' },
    ],
  };
  const plan = planKeycloakImport(realm, new Date('2026-01-01T00:00:00Z'));
  const user = (id: string) => plan.users.find((planned) => planned.user._id === id)?.user;
  const notes = (name: string) => plan.unmapped.filter((item) => item.kind === 'user' && item.name === name).map((item) => item.reason);

  it("Keycloak's service-account users still map to their client, not to users", () => {
    expect(plan.serviceAccounts.map((account) => account.username)).to.deep.equal(['service-account-worker']);
    expect(user('sa-1')).to.equal(undefined);
  });

  it('a person named service-account-… is refused with the reason', () => {
    expect(user('u-1')).to.equal(undefined);
    expect(user('u-2')).to.equal(undefined);
    const reasons = Object.fromEntries(plan.refusedUsers.map((refused) => [refused.user, refused.reason]));
    expect(reasons['service-account-payroll']).to.match(/^username: must not start with "service-account-"/);
    expect(reasons['Service-Account-Ops']).to.match(/^username: must not start with "service-account-"/);
  });

  it('a username derived from service-account-…@ gets user- in front', () => {
    expect(user('u-3')?.username).to.equal('user-service-account-hr');
    expect(user('u-3')?.email).to.equal('service-account-hr@example.org');
  });

  it('a first or last name with a hidden character is left out and reported', () => {
    expect(user('u-4')).to.include({ givenName: null, familyName: 'Builder', name: 'Builder' });
    expect(notes('bob').join(' ')).to.match(/given_name: must not contain control characters or invisible formatting characters.*imported without it/);
    expect(user('u-5')).to.include({ givenName: 'Eve', familyName: null, name: 'Eve' });
    expect(notes('eve').join(' ')).to.match(/family_name: must not contain control characters/);
  });
});
