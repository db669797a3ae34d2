import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';

const SECRET = JSON.stringify({ value: 'aGFzaA==', salt: 'c2FsdA==' });

/** The import report's line for the user's password, as an operator reads it. */
function passwordNote(credential: Record<string, unknown>): string {
  const plan = planKeycloakImport({ realm: 'demo', users: [{ id: 'u-1', username: 'ann', enabled: true, credentials: [{ type: 'password', ...credential }] }] });
  const notes = plan.unmapped.filter((item) => item.kind === 'user' && item.name === 'ann').map((item) => item.reason);
  expect(notes, JSON.stringify(notes)).to.have.length(1);
  return notes[0]!;
}

/**
 * A Keycloak password credential Gatehouse cannot keep: the report says what is wrong with it. A
 * broken credentialData read "password hashed with undefined".
 */
describe('Keycloak import report: a password that is not imported says why', () => {
  it('a credentialData that is not JSON, not an object, or missing', () => {
    for (const [credentialData, words] of [
      ['{"algorithm":"pbkdf2-sha256",', 'its credentialData is not valid JSON'],
      ['"pbkdf2"', 'its credentialData is not a JSON object'],
      [undefined, 'its credentialData is missing'],
    ] as const) {
      const note = passwordNote({ secretData: SECRET, ...(credentialData === undefined ? {} : { credentialData }) });
      expect(note, String(credentialData)).to.equal(`password not imported: ${words}; the user must reset the password`);
      expect(note).not.to.match(/undefined/);
    }
  });

  it('iterations, argon2 parameters, the hash and salt', () => {
    expect(passwordNote({ secretData: SECRET, credentialData: '{"algorithm":"pbkdf2-sha512","hashIterations":"many"}' })).to.equal('password not imported: its credentialData has no valid hashIterations; the user must reset the password');
    expect(passwordNote({ secretData: SECRET, credentialData: '{"algorithm":"argon2","hashIterations":3,"additionalParameters":{"type":["x"]}}' })).to.equal('password not imported: its credentialData has argon2 parameters Gatehouse cannot use; the user must reset the password');
    expect(passwordNote({ secretData: '{"value":"aGFzaA=="}', credentialData: '{"algorithm":"pbkdf2-sha256","hashIterations":27500}' })).to.equal('password not imported: its secretData has no hash value or no salt; the user must reset the password');
    expect(passwordNote({ secretData: 'nope', credentialData: 'nope' })).to.equal('password not imported: its credentialData is not valid JSON; its secretData is not valid JSON; the user must reset the password');
  });

  it('an algorithm without a verifier is named', () => {
    expect(passwordNote({ secretData: SECRET, credentialData: '{"algorithm":"bcrypt","hashIterations":10}' })).to.equal('password not imported: it is hashed with bcrypt, which Gatehouse has no verifier for; the user must reset the password');
  });
});
