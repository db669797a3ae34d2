import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { z } from 'zod';
import { ApiConflictError } from '../../src/apis/registry.ts';
import { DuplicateUserError, PasswordPolicyError, UserNotFoundError } from '../../src/accounts/errors.ts';
import { unmetRules } from '../../src/accounts/password-policy.ts';
import { ClientConflictError } from '../../src/clients/repository.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { redirectUriProblem } from '../../src/clients/redirect-uris.ts';
import { ConflictError, GatehouseError, invalid, NotFoundError } from '../../src/errors/gatehouse-error.ts';
import { normalizeError } from '../../src/errors/normalize.ts';
import { PROBLEM_CODES, PROBLEMS, problemParams, problemText, says } from '../../src/errors/problems.ts';
import { errorBody } from '../../src/errors/respond.ts';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import { LabelConflictError } from '../../src/roles/directory.ts';
import { PresetError, presetValues } from '../../src/upstream/spec.ts';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const CONSOLE_LOCALES = join(SRC, 'console/web/locales');
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'];

/** Server modules: everything but the browser code and the configuration (whose errors name environment variables, src/config). */
function serverModules(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const rel = relative(SRC, path);
    if (statSync(path).isDirectory()) return ['config', 'console/web', 'account/web', 'browser-app/web'].includes(rel) ? [] : serverModules(path);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

/** Where a module writes a problem's English itself instead of naming its code. */
function ownWording(source: string): string[] {
  const quoted = String.raw`['"\x60]`;
  const patterns = [
    // zod: { message: '…' } / { error: '…' }, or a check's text as its last argument (.min(1, '…'), .regex(re, '…'), .refine(fn, '…')).
    ...(source.includes("from 'zod'") ? [new RegExp(String.raw`\b(?:message|error):\s*${quoted}`, 'g'), new RegExp(String.raw`\.(?:min|max|length|regex|refine|int|nonempty|gt|gte|lt|lte|positive|nonnegative)\((?:[^'"\x60()\n]|\([^()\n]*\))*,\s*${quoted}`, 'g')] : []),
    // An error detail spelled out: { path: …, message: '…' }.
    new RegExp(String.raw`\bpath(?::\s*[^,{}\n]+)?,\s*message:\s*${quoted}`, 'g'),
  ];
  // Comments may show the shape.
  const code = source.replace(/^\s*(?:\/\/|\*|\/\*\*).*$/gm, '');
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[0]));
}

describe('problem codes (src/errors/problems.ts)', () => {
  // "must contain at least 1 digit(s)": the English said every count the same way.
  it('says a count in English as the number asks, one or more, with the same code and values', () => {
    expect([1, 2].map((limit) => problemText('password_digits', { limit }))).to.deep.equal(['must contain at least 1 digit', 'must contain at least 2 digits']);
    expect([1, 3].map((limit) => problemText('password_lowercase', { limit }))).to.deep.equal(['must contain at least 1 lowercase letter', 'must contain at least 3 lowercase letters']);
    expect([1, 21].map((limit) => problemText('password_uppercase', { limit }))).to.deep.equal(['must contain at least 1 uppercase letter', 'must contain at least 21 uppercase letters']);
    expect([1, 2].map((limit) => problemText('password_special', { limit }))).to.deep.equal([
      'must contain at least 1 special character (neither a letter nor a digit)',
      'must contain at least 2 special characters (neither a letter nor a digit)',
    ]);
    expect([1, 5].map((min) => problemText('too_short', { min }))).to.deep.equal(['must be at least 1 character', 'must be at least 5 characters']);
    expect([1, 2].map((max) => problemText('too_many', { max }))).to.deep.equal(['must have at most 1 entry', 'must have at most 2 entries']);
    expect(says('password_digits', { limit: 1 })).to.deep.equal({ message: 'must contain at least 1 digit', params: { limit: 1, code: 'password_digits' } });
    for (const code of PROBLEM_CODES) expect(PROBLEMS[code], code).not.to.match(/(?<!http)\(s\)/);
  });

  it('the console says every code, in every language, with the values the server gives', () => {
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

  it('the console has no string for a code the server no longer has', () => {
    const en = JSON.parse(readFileSync(join(CONSOLE_LOCALES, 'en.json'), 'utf8')) as Record<string, string>;
    // A number variant (`problem.too_few[one]`) belongs to its code's string.
    const stale = Object.keys(en).filter((key) => key.startsWith('problem.') && !(PROBLEM_CODES as string[]).includes(key.slice('problem.'.length).replace(/\[[^\]]+\]$/, '')));
    expect(stale).to.deep.equal([]);
  });

  it('no server module writes a problem in its own words: it names a code, and the English comes from the catalogue', () => {
    const modules = serverModules();
    expect(modules.length).to.be.greaterThan(150);
    const found = modules.flatMap((file) => ownWording(readFileSync(join(SRC, file), 'utf8')).map((hit) => `${file}: ${hit}`));
    expect(found).to.deep.equal([]);
    // The scan finds what it looks for.
    const zod = "import { z } from 'zod';\n";
    for (const line of ["z.string().min(1, 'must not be empty');", "z.string().regex(/x/, { message: 'no' });", "z.string().refine(ok, 'no');"]) expect(ownWording(zod + line), line).to.not.deep.equal([]);
    expect(ownWording("throw new X([{ path: 'a', message: 'b' }]);")).to.not.deep.equal([]);
    expect(ownWording(`${zod}z.string().refine(ok, says('no_spaces'));\nthrow invalid('a', 'subject_or_ip');`)).to.deep.equal([]);
  });

  it('the English of every error comes from its code; rewording the catalogue rewords the answer', () => {
    const body = (error: unknown) => errorBody(normalizeError(error), undefined);
    expect(body(new NotFoundError('user_not_found', { id: 'u1' }))).to.deep.include({ error: 'not_found', error_description: 'user u1 does not exist', code: 'user_not_found', params: { id: 'u1' } });
    expect(body(new UserNotFoundError('u2'))).to.deep.include({ code: 'user_not_found', params: { id: 'u2' } });
    expect(body(new ConflictError('mail_not_configured'))).to.deep.include({ error: 'conflict', error_description: PROBLEMS.mail_not_configured, code: 'mail_not_configured' });
    expect(body(invalid('subject', 'subject_or_ip')).details).to.deep.equal([{ path: 'subject', message: PROBLEMS.subject_or_ip, code: 'subject_or_ip' }]);
    // Errors whose own message is not for the caller answer a generic code.
    expect(body(new Error('boom'))).to.deep.include({ error: 'server_error', error_description: 'internal error', code: 'internal_error' });
    expect(body(new StoreUnavailableError('mongodb'))).to.deep.include({ error: 'temporarily_unavailable', code: 'unavailable' });
    expect(body(new GatehouseError('secret detail', { status: 403, code: 'access_denied', expose: false }))).to.deep.include({ error_description: 'the request failed', code: 'request_failed' });
    const codes = (error: unknown) => body(error).details?.map((detail) => [detail.code, detail.params]);
    expect(codes(new LabelConflictError('role', 'ops'))).to.deep.equal([['role_exists', { name: 'ops' }]]);
    expect(codes(new LabelConflictError('group', 'ops'))).to.deep.equal([['group_exists', { name: 'ops' }]]);
    expect(codes(new ClientConflictError('crm'))).to.deep.equal([['client_exists', { client_id: 'crm' }]]);
    expect(codes(new ApiConflictError('https://api.example.com'))).to.deep.equal([['api_exists', { identifier: 'https://api.example.com' }]]);
    expect(codes(new DuplicateUserError('email'))).to.deep.equal([['already_in_use', undefined]]);
    const policy = { minLength: 20, maxLength: 64, digits: 0, lowercase: 0, uppercase: 0, special: 0, notUsername: false, notEmail: true, history: 0 };
    const broken = new PasswordPolicyError(unmetRules('a@example.com', policy, { email: 'a@example.com' }));
    expect(codes(broken)).to.deep.equal([
      ['password_too_short', { limit: 20 }],
      ['password_not_email', undefined],
    ]);
    expect(broken.message).to.equal('password: must be at least 20 characters; must not be the email address');
  });

  it('names redirect URI and preset problems by code', () => {
    for (const [uri, type, code] of [
      ['javascript:alert(1)', 'web', 'redirect_uri_web'],
      ['myapp:/cb', 'web', 'redirect_uri_web_scheme'],
      ['http://app.example.com/cb', 'native', 'redirect_uri_http_loopback'],
      ['https://127.0.0.1/cb', 'native', 'redirect_uri_https_loopback'],
      ['myapp:/cb', 'native', 'redirect_uri_private_scheme'],
      ['javascript:x', 'native', 'redirect_uri'],
    ] as const) {
      expect(redirectUriProblem(uri, type), uri).to.equal(code);
    }
    let preset: unknown;
    try {
      presetValues('keycloak', {});
    } catch (error) {
      preset = error;
    }
    expect(preset).to.be.instanceOf(PresetError);
    expect((preset as PresetError).problem).to.equal('keycloak_realm_url');
  });

  it('zod issues get their code from their shape and their message from the code: none of zod\'s own English reaches a caller', () => {
    const schema = z
      .object({
        name: z.string().trim().min(1).max(200),
        ttl: z.number().int().min(5),
        port: z.coerce.number().int(),
        on: z.boolean(),
        format: z.enum(['jwt', 'opaque']),
        tags: z.array(z.string()).max(2),
        at: z.iso.datetime(),
        id: z.string(),
        nested: z.object({ n: z.number().positive() }),
        spaced: z.string().refine((value) => !value.includes(' '), says('no_spaces')),
        odd: z.string().refine(() => false),
      })
      .strict();
    const parsed = schema.safeParse({ name: '', ttl: 1.5, port: 'abc', on: 'yes', format: 'xml', tags: ['a', 'b', 'c'], at: 'noon', nested: { n: 0 }, spaced: 'a b', odd: 'x', extra: 1 });
    const body = errorBody(normalizeError(parsed.error), 'r1');
    expect(body.details!.map(({ path, code, params }) => ({ path, code, params }))).to.deep.equal([
      { path: 'name', code: 'empty', params: undefined },
      { path: 'ttl', code: 'not_integer', params: undefined },
      { path: 'port', code: 'not_number', params: undefined },
      { path: 'on', code: 'not_boolean', params: undefined },
      { path: 'format', code: 'one_of', params: { values: 'jwt, opaque' } },
      { path: 'tags', code: 'too_many', params: { max: 2 } },
      { path: 'at', code: 'not_datetime', params: undefined },
      { path: 'id', code: 'required', params: undefined },
      { path: 'nested.n', code: 'too_small', params: { min: 1 } },
      { path: 'spaced', code: 'no_spaces', params: undefined },
      { path: 'odd', code: 'invalid', params: undefined },
      { path: 'extra', code: 'unknown_field', params: undefined },
    ]);
    for (const detail of body.details!) {
      expect(detail.message, detail.path).to.equal(problemText(detail.code!, detail.params));
      expect(detail.message, detail.path).to.not.match(/Invalid|expected|received|NaN|Too (big|small)|Unrecognized/);
    }
    expect(body.error_description).to.equal('name: must not be empty; ttl: must be a whole number; port: must be a number; on: must be true or false; format: must be one of jwt, opaque; tags: must have at most 2 entries; at: must be a date and time such as 2026-01-31T09:00:00Z; id: is required; nested.n: must be at least 1; spaced: no spaces; odd: is not valid; extra: unknown field');
    expect(Object.keys(PROBLEMS)).to.have.length(PROBLEM_CODES.length);
  });

  it("configuration errors (the server's and the CLI's first lines) say our text for zod's own checks, and keep a setting's own", () => {
    let refused: unknown;
    try {
      loadConfig({ env: { NODE_ENV: 'test', GATEHOUSE_BRAND_NAME: '   ', PORT: 'abc', GATEHOUSE_PROXY_HOPS: '1.5' }, readFile: () => { throw new Error('no files here'); } });
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(ConfigError);
    const problems = (refused as ConfigError).problems;
    expect(problems).to.include.members(['GATEHOUSE_BRAND_NAME: must not be empty', 'PORT: must be a port number', 'GATEHOUSE_PROXY_HOPS: must be a whole number']);
    for (const problem of problems) expect(problem).to.not.match(/Invalid|expected|received|Too (big|small)/);
  });
});
