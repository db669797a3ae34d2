import { expect } from 'chai';
import { PasswordPolicyError } from '../../src/accounts/errors.ts';
import { checkPassword, DEFAULT_PASSWORD_POLICY, unmetRules, type PasswordPolicy } from '../../src/accounts/password-policy.ts';
import { loadMessages, translator } from '../../src/interactions/i18n.ts';
import { passwordRequirements, unmetRequirements } from '../../src/interactions/password-rules.ts';
import { fileURLToPath } from 'node:url';

const STRICT: PasswordPolicy = { ...DEFAULT_PASSWORD_POLICY, minLength: 10, maxLength: 20, digits: 2, lowercase: 1, uppercase: 1, special: 1, notUsername: true, notEmail: true, history: 3 };
const rules = (password: string, policy: PasswordPolicy = STRICT, owner = { username: 'Ada.Lovelace', email: 'ada@example.com' }) => unmetRules(password, policy, owner).map((one) => one.rule);

describe('password policy rules (Keycloak: length, maxLength, digits, lowerCase, upperCase, specialChars, notUsername, notEmail)', () => {
  it('the default asks only for 8 characters', () => {
    expect(rules('abcdefgh', DEFAULT_PASSWORD_POLICY)).to.deep.equal([]);
    expect(rules('abcdefg', DEFAULT_PASSWORD_POLICY)).to.deep.equal(['too_short']);
  });

  it('names every rule a password breaks, in one fixed order, with the number each asks for', () => {
    expect(rules('short')).to.deep.equal(['too_short', 'digits', 'uppercase', 'special']);
    const unmet = unmetRules('short', STRICT);
    expect(unmet.find((one) => one.rule === 'digits')).to.deep.include({ limit: 2, message: 'must contain at least 2 digits' });
    expect(rules('Abcdefgh12!xxxxxxxxxxx')).to.deep.equal(['too_long']);
    expect(rules('Abcdefgh12!')).to.deep.equal([]);
  });

  it('counts Unicode classes as Keycloak does: letters of any script, digits, and anything else as special', () => {
    const classes: PasswordPolicy = { ...DEFAULT_PASSWORD_POLICY, minLength: 8, digits: 1, lowercase: 1, uppercase: 1, special: 1 };
    expect(rules('Жжжжжж٣ 😀', classes), 'Cyrillic cases, an Arabic-Indic digit, a space and an emoji').to.deep.equal([]);
    expect(rules('密码密码密码密码', classes), 'CJK letters have no case and are not special').to.deep.equal(['digits', 'lowercase', 'uppercase', 'special']);
  });

  it('refuses the user\'s own username and email, ignoring case', () => {
    const policy: PasswordPolicy = { ...DEFAULT_PASSWORD_POLICY, notUsername: true, notEmail: true };
    expect(rules('ADA.LOVELACE', policy)).to.deep.equal(['not_username']);
    expect(rules('Ada@Example.com', policy)).to.deep.equal(['not_email']);
    expect(rules('ada.lovelace', { ...policy, notUsername: false })).to.deep.equal([]);
    expect(rules('someone-else', policy)).to.deep.equal([]);
    expect(unmetRules('ada.lovelace', policy, {}), 'no owner known: nothing to compare').to.deep.equal([]);
  });

  it('throws one PasswordPolicyError whose details name the password field once per rule', () => {
    let error: unknown;
    try {
      checkPassword('short', STRICT);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(PasswordPolicyError);
    const policyError = error as PasswordPolicyError;
    expect(policyError.rule).to.equal('too_short');
    expect(policyError.status).to.equal(400);
    expect(policyError.details.map((detail) => detail.path)).to.deep.equal(['password', 'password', 'password', 'password']);
    expect(policyError.message).to.equal('password: must be at least 10 characters; must contain at least 2 digits; must contain at least 1 uppercase letter; must contain at least 1 special character (neither a letter nor a digit)');
  });

  it('says the requirements and the rules broken in every locale', () => {
    const catalogs = loadMessages(fileURLToPath(new URL('../../views/locales', import.meta.url)));
    const en = translator(catalogs, 'en');
    expect(passwordRequirements(en, DEFAULT_PASSWORD_POLICY)).to.equal('Requirements: at least 8 characters.');
    expect(passwordRequirements(en, STRICT)).to.equal(
      'Requirements: at least 10 characters; at most 20 characters; at least 2 digits; at least one lowercase letter; at least one uppercase letter; at least one special character (not a letter or digit); not your username; not your email address; not one of your last 3 passwords.',
    );
    expect(unmetRequirements(en, unmetRules('short', STRICT))).to.equal(
      'This password does not meet the password policy: at least 10 characters; at least 2 digits; at least one uppercase letter; at least one special character (not a letter or digit). Choose another one.',
    );
    for (const locale of ['ru', 'zh-CN', 'ko'] as const) {
      const text = unmetRequirements(translator(catalogs, locale), unmetRules('short', STRICT));
      expect(text, locale).to.not.match(/password_policy\.|\{n\}|[A-Za-z]{4}/);
      expect(text, locale).to.include('10');
    }
  });
});
