import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { PROBLEM_CODES, problemParams, type ProblemCode } from '../../src/errors/problems.ts';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'];
const strings = (locale: string) => JSON.parse(readFileSync(join(SRC, 'account/web/locales', `${locale}.json`), 'utf8')) as Record<string, string>;

/**
 * What the account API answers, by code, and where the account page finds its words: a field's
 * own sentence (`problem.<field>.<code>`) or the code's (`problem.<code>`, which may name
 * `{field}`). The page picks the string by the code the server names, never by its English.
 */
const FIELD_SENTENCES: Readonly<Record<string, readonly ProblemCode[]>> = {
  current_password: ['not_current_password', 'password_exists'],
  new_password: ['password_too_short', 'password_too_long', 'password_digits', 'password_lowercase', 'password_uppercase', 'password_special', 'password_not_username', 'password_not_email', 'password_history'],
  email: ['already_in_use'],
  code: ['totp_code_rejected'],
  ticket: ['passkey_ticket_expired'],
  response: ['passkey_rejected'],
  factor: ['factor_required'],
  passkey: ['last_sign_in_method'],
  upstream_link: ['last_sign_in_method'],
  totp: ['totp_exists'],
  recovery_codes: ['recovery_codes_need_factor'],
};

/** Field problems of the profile and the forms, and errors as a whole (404, 403, 413, 500). */
const CODE_SENTENCES: readonly ProblemCode[] = [
  'required', 'empty', 'too_long', 'too_short', 'not_text', 'invalid', 'unknown_field', 'not_email', 'language_tag', 'time_zone', 'already_in_use', 'nul_character', 'lone_surrogate', 'hidden_character',
  'not_json', 'not_json_content_type', 'body_too_large',
  'session_not_found', 'passkey_not_found', 'app_not_found', 'grant_not_found', 'totp_not_found', 'upstream_not_found', 'upstream_link_not_found', 'user_not_found', 'account_route_not_found',
  'cross_origin', 'internal_error', 'request_failed', 'email_changes_limited', 'email_resends_limited',
];

/** Answered by their status, whatever the code: 401 signs in again, 503 says the service is away. */
const BY_STATUS: readonly ProblemCode[] = ['account_token_missing', 'account_token_invalid', 'account_token_other_client', 'token_sender_constrained', 'token_no_user', 'token_session_ended', 'token_user_gone', 'sign_in_again', 'unavailable'];

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);

describe("the account page's words for the account API's problems (src/account/web/locales)", () => {
  it('every problem the account API answers has its sentence in every language, naming only the values the server gives', () => {
    for (const locale of LOCALES) {
      const all = strings(locale);
      const check = (key: string, code: ProblemCode) => {
        expect(all[key], `${locale}: ${key}`).to.be.a('string').and.not.equal('');
        expect([...problemParams(code), 'field'], `${locale}: ${key}`).to.include.members(placeholders(all[key]!));
      };
      for (const [field, codes] of Object.entries(FIELD_SENTENCES)) for (const code of codes) check(`problem.${field}.${code}`, code);
      for (const code of CODE_SENTENCES) check(`problem.${code}`, code);
    }
  });

  it('every problem string is keyed by a code the server has (no key spelled in English, none stale)', () => {
    for (const locale of LOCALES) {
      for (const key of Object.keys(strings(locale)).filter((key) => key.startsWith('problem.') && key !== 'problem.field')) {
        const parts = key.slice('problem.'.length).replace(/\[[^\]]+\]$/, '').split('.');
        const code = parts.at(-1)!;
        expect(PROBLEM_CODES as string[], `${locale}: ${key}`).to.include(code);
        if (parts.length === 2) expect(FIELD_SENTENCES[parts[0]!] ?? [], `${locale}: ${key}`).to.include(code);
      }
    }
  });

  it('every code the account API names itself is covered (own-account operations and the modules split from them, the account API and its authentication)', () => {
    const covered = new Set<string>([...Object.values(FIELD_SENTENCES).flat(), ...CODE_SENTENCES, ...BY_STATUS]);
    // The quoted words of the calls that name a problem, and of `problem: { code: … }`.
    const calls = /\b(?:invalid|notFound|ConflictError|NotFoundError|problemText|fieldProblem|AccountAuthError)\(([^)]*)\)|\bcode: ('[a-z_]+')/g;
    // Every module of a signed-in user's own operations (own-account.ts and the pieces split out of it).
    const ownOperations = readdirSync(join(SRC, 'operations'))
      .filter((file) => /^(own-.*|self)\.ts$/.test(file))
      .map((file) => `operations/${file}`);
    const named = [...ownOperations, 'account/api.ts', 'account/auth.ts'].flatMap((file) =>
      [...readFileSync(join(SRC, file), 'utf8').matchAll(calls)]
        .flatMap((call) => [...(call[1] ?? call[2]!).matchAll(/'([a-z_]+)'/g)].map((word) => word[1]!))
        .filter((word) => (PROBLEM_CODES as string[]).includes(word)),
    );
    expect(named).to.include.members(['not_current_password', 'factor_required', 'last_sign_in_method', 'cross_origin', 'sign_in_again']);
    expect(named.filter((code) => !covered.has(code))).to.deep.equal([]);
  });
});
