import { expect } from 'chai';
import { isRequiredAction, orderedActions, REQUIRED_ACTIONS, undoneActions } from '../../src/accounts/required-actions.ts';
import { toUser } from '../../src/accounts/user.ts';
import type { StoredUser } from '../../src/accounts/user-model.ts';
import { actionsDue } from '../../src/interactions/steps/required-actions.ts';
import { profileOf } from '../../src/oidc/accounts.ts';
import { passwordSchema, showUser, userCreateSchema, userUpdateSchema } from '../../src/operations/users.ts';

const at = new Date('2026-01-01T00:00:00Z');
const stored = (extra: Partial<StoredUser> = {}): StoredUser => ({
  _id: 'u1',
  username: 'alice',
  usernameKey: 'alice',
  email: 'alice@example.com',
  emailKey: 'alice@example.com',
  emailVerified: false,
  givenName: null,
  familyName: null,
  name: null,
  roles: [],
  groups: [],
  disabled: false,
  passwordHash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA',
  passwordChangedAt: at,
  lastLoginAt: null,
  createdAt: at,
  updatedAt: at,
  ...extra,
});

describe('required actions: names, order, validation, profile flags', () => {
  it('keeps known actions once each in the order the sign-in asks for them; unknown stored names are dropped', () => {
    expect(orderedActions(['update_profile', 'TERMS', 'update_password', 'update_profile'])).to.deep.equal(['update_password', 'update_profile']);
    expect(orderedActions(undefined)).to.deep.equal([]);
    expect(REQUIRED_ACTIONS).to.deep.equal(['update_password', 'verify_email', 'configure_totp', 'update_profile']);
    expect(isRequiredAction('configure_totp')).to.equal(true);
    expect(isRequiredAction('CONFIGURE_TOTP')).to.equal(false);
  });

  it('a user document without the field has none; one with them shows them in order (API: required_actions)', () => {
    expect(toUser(stored()).requiredActions).to.deep.equal([]);
    const user = toUser(stored({ requiredActions: ['update_profile', 'verify_email'] }));
    expect(user.requiredActions).to.deep.equal(['verify_email', 'update_profile']);
    expect(showUser(user).required_actions).to.deep.equal(['verify_email', 'update_profile']);
  });

  it('the admin API schemas take the names and refuse others by field and value; temporary must be a boolean', () => {
    expect(userCreateSchema.parse({ username: 'bob', required_actions: ['update_password'] }).required_actions).to.deep.equal(['update_password']);
    const refused = userUpdateSchema.safeParse({ required_actions: ['verify_email', 'UPDATE_PASSWORD'] });
    expect(refused.success).to.equal(false);
    const issue = refused.error!.issues[0]!;
    expect(issue.path).to.deep.equal(['required_actions', 1]);
    expect(issue.message).to.equal('"UPDATE_PASSWORD" is not a required action (one of update_password, verify_email, configure_totp, update_profile)');
    expect(userUpdateSchema.parse({ required_actions: [] }).required_actions).to.deep.equal([]);
    expect(passwordSchema.parse({ password: 'x', temporary: true }).temporary).to.equal(true);
    expect(passwordSchema.safeParse({ password: 'x', temporary: 'yes' }).success).to.equal(false);
  });

  it('an unknown action named in the refusal is cut to 64 units by whole characters: an emoji across the cut goes whole, never half of it', () => {
    const refused = userUpdateSchema.safeParse({ required_actions: [`${'x'.repeat(63)}😀 and more`] });
    expect(refused.error!.issues[0]!.message).to.equal(`"${'x'.repeat(63)}" is not a required action (one of update_password, verify_email, configure_totp, update_profile)`);
  });

  it('the profile leaves out what means nothing for the user: update_password without a password, verify_email without an address', () => {
    const all = ['update_password', 'verify_email', 'configure_totp'];
    expect(profileOf(toUser(stored({ requiredActions: all }))).requiredActions).to.deep.equal(['update_password', 'verify_email', 'configure_totp']);
    expect(profileOf(toUser(stored({ requiredActions: all, passwordHash: null, email: null, emailKey: 'none:u1' }))).requiredActions).to.deep.equal(['configure_totp']);
    expect(profileOf(toUser(stored())).requiredActions).to.equal(undefined);
  });

  it('verify_email is undone while the address is unconfirmed; the sign-in asks for it only when mail can go out, and takes a confirmed one off', () => {
    const unconfirmed = { requiredActions: ['verify_email'] as const, unverifiedEmail: 'other' };
    const confirmed = { requiredActions: ['verify_email'] as const };
    expect(undoneActions(unconfirmed, true)).to.deep.equal(['verify_email']);
    expect(undoneActions(unconfirmed, false), 'without mail, as the sign-in passes over it').to.deep.equal([]);
    expect(undoneActions(confirmed, true)).to.deep.equal([]);
    expect(undoneActions(undefined, true)).to.deep.equal([]);
    expect(undoneActions({ requiredActions: ['update_password', 'verify_email'], unverifiedEmail: 'other' }, false)).to.deep.equal(['update_password']);
    const due = (flags: object, mail: boolean) => actionsDue(flags as never, mail);
    expect(due(unconfirmed, true)).to.equal(true);
    expect(due(unconfirmed, false)).to.equal(false);
    expect(due(confirmed, false), 'to remove it').to.equal(true);
    expect(due({ requiredActions: ['update_profile'] }, false)).to.equal(true);
    expect(due({}, true)).to.equal(false);
  });
});
