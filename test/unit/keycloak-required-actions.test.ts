import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

const salt = randomBytes(16);
const password = (extra: Record<string, unknown> = {}) => ({
  type: 'password',
  createdDate: 1_700_000_000_000,
  secretData: JSON.stringify({ value: pbkdf2Sync('pw', salt, 1000, 64, 'sha256').toString('base64'), salt: salt.toString('base64'), additionalParameters: {} }),
  credentialData: JSON.stringify({ hashIterations: 1000, algorithm: 'pbkdf2-sha256', additionalParameters: {} }),
  ...extra,
});

describe('Keycloak import: required actions and temporary passwords', () => {
  const plan = planKeycloakImport(
    {
      realm: 'ra',
      users: [
        { id: 'k-1', username: 'all', enabled: true, credentials: [password()], requiredActions: ['UPDATE_PROFILE', 'TERMS_AND_CONDITIONS', 'CONFIGURE_TOTP', 'VERIFY_EMAIL', 'UPDATE_PASSWORD', 'webauthn-register'] },
        { id: 'k-2', username: 'temp', enabled: true, credentials: [password({ temporary: true })], requiredActions: [] },
        { id: 'k-3', username: 'plain', enabled: true, credentials: [password({ temporary: false })] },
        // A temporary credential Gatehouse cannot verify: no password to change (the user resets it).
        { id: 'k-4', username: 'bcrypt', enabled: true, credentials: [{ type: 'password', temporary: true, secretData: '{"value":"x","salt":"eA=="}', credentialData: '{"algorithm":"bcrypt","hashIterations":10}' }] },
      ],
    },
    new Date('2026-01-01T00:00:00Z'),
  );
  const user = (username: string) => plan.users.find((planned) => planned.user.username === username)!.user;
  const notes = (username: string) => plan.unmapped.filter((item) => item.kind === 'user' && item.name === username).map((item) => item.reason);

  it("carries Keycloak's four required actions over in Gatehouse's order and reports the others as not carried over", () => {
    expect(user('all').requiredActions).to.deep.equal(['update_password', 'verify_email', 'configure_totp', 'update_profile']);
    const said = notes('all').filter((reason) => reason.startsWith('required action'));
    expect(said).to.have.length(2);
    expect(said.join(' ')).to.contain('TERMS_AND_CONDITIONS: not carried over').and.contain('webauthn-register: not carried over');
  });

  it('a temporary password credential becomes update_password; an ordinary one, or one without a usable hash, does not', () => {
    expect(user('temp').requiredActions).to.deep.equal(['update_password']);
    expect(user('plain')).not.to.have.property('requiredActions');
    expect(user('bcrypt')).not.to.have.property('requiredActions');
  });
});
