import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { z } from 'zod';
import { ApiConflictError } from '../../src/apis/registry.ts';
import { DuplicateUserError, PasswordPolicyError } from '../../src/accounts/errors.ts';
import { ClientConflictError } from '../../src/clients/repository.ts';
import { redirectUriProblem } from '../../src/clients/redirect-uris.ts';
import { InvalidRequestError } from '../../src/errors/gatehouse-error.ts';
import { normalizeError } from '../../src/errors/normalize.ts';
import { PROBLEM_CODES, PROBLEMS, problemOf, problemParams, problemText } from '../../src/errors/problems.ts';
import { errorBody } from '../../src/errors/respond.ts';
import { LabelConflictError } from '../../src/roles/directory.ts';
import { PresetError, presetValues } from '../../src/upstream/spec.ts';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const CONSOLE_LOCALES = join(SRC, 'console/web/locales');
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'];

/** The modules whose messages reach the admin API (and so the console). */
const ADMIN_MODULES = [
  'admin/json-body.ts',
  'accounts/accounts.ts',
  'accounts/password-policy.ts',
  'accounts/profile-attributes.ts',
  'apis/registry.ts',
  'clients/spec.ts',
  'upstream/spec.ts',
  ...readdirSync(join(SRC, 'operations'))
    .filter((name) => name.endsWith('.ts') && !['keycloak-import.ts', 'registration.ts', 'own-account.ts', 'status.ts', 'keys.ts', 'users.ts'].includes(name))
    .map((name) => `operations/${name}`),
  ...readdirSync(join(SRC, 'settings')).filter((name) => name.endsWith('.ts')).map((name) => `settings/${name}`),
];

/**
 * Messages whose code comes from the zod issue's shape, not from their text (a value in the text
 * is the issue's own: `must be 6 or 8 digits` is one_of {values}, `must list at most 100 roles` too_many).
 */
const FROM_ISSUE_SHAPE = [
  /^must be a whole number of \$\{unit\}$/,
  /^must be a whole number of steps$/,
  /^must be \$\{values\.join\(' or '\)\} \$\{unit\}$/,
  /^must be \$\{TOTP_ALGORITHMS\.join\(', '\)\}$/,
  /^must be \$\{kind\} names$/,
  /^must be a list of \$\{kind\} names$/,
  /^must list at most 100 \$\{kind\}s$/,
  /^must list at most 100 domains$/,
  /^must be off, self-registered or all$/,
];

/** Each literal message a module writes (zod `message:`, `invalid(path, '…')`, `.regex(re, '…')`, `new XError(field, '…')`), `${…}` kept. */
function literalMessages(source: string): string[] {
  const quoted = String.raw`(['"\x60])((?:\\.|(?!\1).)*)\1`;
  const patterns = [
    new RegExp(String.raw`message:\s*${quoted}`, 'g'),
    new RegExp(String.raw`\binvalid\(\s*[^,()]+,\s*${quoted}\s*\)`, 'g'),
    new RegExp(String.raw`\.(?:regex|refine)\((?:\/(?:\\.|[^/\n])+\/[gimsuy]*|[\w.]+),\s*${quoted}\s*\)`, 'g'),
    new RegExp(String.raw`new \w+Error\(\s*[\w.'\x60]+,\s*${quoted}\s*\)`, 'g'),
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[2]!));
}

/** A template's `${…}` as a sample value: a number where the text counts, else a word. */
function sample(message: string): string {
  return message
    .replace(/\\(.)/g, '$1')
    .replace(/\$\{([^}]*)\}/g, (_match, expression: string) => {
      if (/kind/.test(expression)) return 'role';
      return /policy\.|min|max|limit|classes|seconds/i.test(expression) ? '7' : 'sample-value';
    });
}

describe('admin API problem codes', () => {
  it('the console says every code the server can emit, in every language, with the values the server gives', () => {
    for (const locale of LOCALES) {
      const strings = JSON.parse(readFileSync(join(CONSOLE_LOCALES, `${locale}.json`), 'utf8')) as Record<string, string>;
      for (const code of PROBLEM_CODES) {
        const text = strings[`problem.${code}`];
        expect(text, `${locale}: problem.${code}`).to.be.a('string').and.not.equal('');
        const placeholders = [...text!.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
        expect(problemParams(code), `${locale}: problem.${code} names ${placeholders.join(', ')}`).to.include.members(placeholders);
      }
    }
  });

  it('the console has no string for a code the server no longer emits', () => {
    const en = JSON.parse(readFileSync(join(CONSOLE_LOCALES, 'en.json'), 'utf8')) as Record<string, string>;
    const stale = Object.keys(en).filter((key) => key.startsWith('problem.') && !(PROBLEM_CODES as string[]).includes(key.slice('problem.'.length)));
    expect(stale).to.deep.equal([]);
  });

  it('every literal message of the admin API modules has a code (or takes it from the zod issue)', () => {
    const uncovered: string[] = [];
    let seen = 0;
    for (const file of ADMIN_MODULES) {
      for (const message of literalMessages(readFileSync(join(SRC, file), 'utf8'))) {
        seen += 1;
        if (FROM_ISSUE_SHAPE.some((pattern) => pattern.test(message))) continue;
        if (problemOf(sample(message)) === undefined) uncovered.push(`${file}: ${message}`);
      }
    }
    expect(seen).to.be.greaterThan(60);
    expect(uncovered).to.deep.equal([]);
  });

  it('reads the code and values back from each text, and the text from them', () => {
    for (const code of PROBLEM_CODES) {
      const params = Object.fromEntries(problemParams(code).map((name) => [name, ['min', 'max', 'limit'].includes(name) ? 12 : 'x y']));
      const found = problemOf(problemText(code, params));
      // The password rules say what too_short/too_long say; they are named explicitly (PasswordPolicyError).
      const same = code === 'password_too_short' ? 'too_short' : code === 'password_too_long' ? 'too_long' : code;
      expect(found?.code, code).to.equal(same);
    }
    expect(problemOf('must list at most 100 roles')).to.equal(undefined);
    expect(problemOf('something new')).to.equal(undefined);
  });

  it('names redirect URI, preset, conflict and password problems', () => {
    for (const [uri, type] of [['javascript:alert(1)', 'web'], ['myapp:/cb', 'web'], ['http://app.example.com/cb', 'native'], ['https://127.0.0.1/cb', 'native'], ['myapp:/cb', 'native'], ['javascript:x', 'native']] as const) {
      expect(problemOf(redirectUriProblem(uri, type)!), uri).to.not.equal(undefined);
    }
    let preset: unknown;
    try {
      presetValues('keycloak', {});
    } catch (error) {
      preset = error;
    }
    expect(preset).to.be.instanceOf(PresetError);
    expect(problemOf((preset as PresetError).message)?.code).to.equal('keycloak_realm_url');
    const codes = (error: unknown) => errorBody(normalizeError(error), undefined).details?.map((detail) => [detail.code, detail.params]);
    expect(codes(new LabelConflictError('role', 'ops'))).to.deep.equal([['role_exists', { name: 'ops' }]]);
    expect(codes(new LabelConflictError('group', 'ops'))).to.deep.equal([['group_exists', { name: 'ops' }]]);
    expect(codes(new ClientConflictError('crm'))).to.deep.equal([['client_exists', { client_id: 'crm' }]]);
    expect(codes(new ApiConflictError('https://api.example.com'))).to.deep.equal([['api_exists', { identifier: 'https://api.example.com' }]]);
    expect(codes(new DuplicateUserError('email'))).to.deep.equal([['already_in_use', undefined]]);
    expect(codes(new PasswordPolicyError([{ rule: 'too_short', limit: 12, message: 'must be at least 12 characters' }, { rule: 'not_email', message: 'must not be the email address' }]))).to.deep.equal([
      ['password_too_short', { limit: 12 }],
      ['password_not_email', undefined],
    ]);
  });

  it('zod issues get their code from their shape; the English message stays', () => {
    const schema = z
      .object({ name: z.string().trim().min(1).max(200), ttl: z.number().int().min(5), on: z.boolean(), format: z.enum(['jwt', 'opaque']), tags: z.array(z.string()).max(2), at: z.iso.datetime(), id: z.string() })
      .strict();
    const parsed = schema.safeParse({ name: '', ttl: 1.5, on: 'yes', format: 'xml', tags: ['a', 'b', 'c'], at: 'noon', extra: 1 });
    const body = errorBody(normalizeError(parsed.error), 'r1');
    expect(body.details!.map(({ path, code, params }) => ({ path, code, params }))).to.deep.equal([
      { path: 'name', code: 'empty', params: undefined },
      { path: 'ttl', code: 'not_integer', params: undefined },
      { path: 'on', code: 'not_boolean', params: undefined },
      { path: 'format', code: 'one_of', params: { values: 'jwt, opaque' } },
      { path: 'tags', code: 'too_many', params: { max: 2 } },
      { path: 'at', code: 'not_datetime', params: undefined },
      { path: 'id', code: 'required', params: undefined },
      { path: 'extra', code: 'unknown_field', params: undefined },
    ]);
    expect(body.details![0]!.message).to.equal('Too small: expected string to have >=1 characters');
    // A text the catalogue does not know keeps its message and gets no code: clients show the message.
    const odd = errorBody(new InvalidRequestError('x: odd', [{ path: 'x', message: 'odd' }]), undefined);
    expect(odd.details).to.deep.equal([{ path: 'x', message: 'odd' }]);
    expect(Object.keys(PROBLEMS)).to.have.length(PROBLEM_CODES.length);
  });
});
