import { expect } from 'chai';
import { applyAttributeChanges, attributesProblem, CUSTOM_ATTRIBUTE_LIMITS, customAttributesInput, customAttributesPatchInput, storedCustomAttributes } from '../../src/accounts/custom-attributes.ts';
import { isReservedClaim } from '../../src/accounts/reserved-claims.ts';
import { attributesBody } from '../../src/cli/commands/users.ts';
import { attributeDetails, attributeLines, attributePatch } from '../../src/console/web/user-attributes.ts';

/** Each issue as `path: code`, as the admin API names them. */
function problems(schema: typeof customAttributesInput | typeof customAttributesPatchInput, input: unknown): string[] {
  const result = schema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${(issue as { params?: { code?: string } }).params?.code ?? issue.code}`);
}

describe('custom user attributes: names, values and limits', () => {
  it('takes a text or a list of texts under a plain name', () => {
    expect(problems(customAttributesInput, { department: 'eng', langs: ['en', 'fr'], 'cost-center': '4711', employee_id: 'E-1' })).to.deep.equal([]);
  });

  it('refuses names with path syntax, names not starting with a letter, and standard or protocol claims', () => {
    expect(problems(customAttributesInput, { 'a.b': 'x' })).to.deep.equal(['a.b: attribute_name']);
    expect(problems(customAttributesInput, { $where: 'x' })).to.deep.equal(['$where: attribute_name']);
    expect(problems(customAttributesInput, { __proto__x: 'x', '1st': 'x' })).to.deep.equal(['__proto__x: attribute_name', '1st: attribute_name']);
    expect(problems(customAttributesInput, { ['x'.repeat(65)]: 'x' })).to.deep.equal([`${'x'.repeat(65)}: attribute_name`]);
    for (const reserved of ['sub', 'email', 'roles', 'groups', 'acr', 'Email', 'realm_access', 'azp']) {
      expect(problems(customAttributesInput, { [reserved]: 'x' }), reserved).to.deep.equal([`${reserved}: reserved_claim_name`]);
    }
    expect(isReservedClaim('department')).to.equal(false);
  });

  it('refuses empty values, over-long values, empty and over-long lists, naming the entry', () => {
    const long = 'x'.repeat(CUSTOM_ATTRIBUTE_LIMITS.valueLength + 1);
    expect(problems(customAttributesInput, { dept: '' })).to.deep.equal(['dept: attribute_value']);
    expect(problems(customAttributesInput, { dept: 7 })).to.have.length.greaterThan(0);
    expect(problems(customAttributesInput, { dept: long })).to.deep.equal(['dept: too_long']);
    expect(problems(customAttributesInput, { langs: ['en', long] })).to.deep.equal(['langs.1: too_long']);
    expect(problems(customAttributesInput, { langs: [] })).to.deep.equal(['langs: too_few']);
    expect(problems(customAttributesInput, { langs: Array.from({ length: CUSTOM_ATTRIBUTE_LIMITS.values + 1 }, (_, i) => `v${i}`) })).to.deep.equal(['langs: too_many']);
    expect(problems(customAttributesInput, { dept: 'a\u0000b' })).to.deep.equal(['dept: nul_character']);
    expect(problems(customAttributesInput, { dept: null })).to.have.length.greaterThan(0);
    expect(problems(customAttributesPatchInput, { dept: null })).to.deep.equal([]);
  });

  it('refuses control and invisible format characters in values (a U+202E reverses the text around it), naming the entry', () => {
    for (const hidden of ['\u202e', '\u202d', '\u2066', '\u200b', '\ufeff', '\u00ad', '\n', '\t', '\u001b', '\u007f']) {
      const code = JSON.stringify(hidden);
      expect(problems(customAttributesInput, { dept: `eng${hidden}x` }), code).to.deep.equal(['dept: hidden_character']);
      expect(problems(customAttributesPatchInput, { langs: ['en', `f${hidden}r`] }), code).to.deep.equal(['langs.1: hidden_character']);
    }
    // The joiners stay allowed (emoji sequences, Persian and Indic text), as in every name someone picks.
    expect(problems(customAttributesInput, { dept: '👩\u200d💻', fa: 'می\u200cخواهم', he: 'שלום', zh: '工程部' })).to.deep.equal([]);
    // An export file written before the rule restores what it holds.
    expect(storedCustomAttributes.safeParse({ dept: 'eng\u202ex' }).success).to.equal(true);
  });

  it('refuses a __proto__ member by name instead of dropping it (JSON.parse keeps it as an own member)', () => {
    for (const value of ['"x"', '["a"]', '{"isAdmin":true}', 'null']) {
      const body = JSON.parse(`{"__proto__":${value},"department":"eng"}`) as unknown;
      expect(problems(customAttributesInput, body), value).to.deep.include('__proto__: attribute_name');
      expect(problems(customAttributesPatchInput, body), value).to.deep.include('__proto__: attribute_name');
    }
  });

  it('limits how many attributes a user has and their total size', () => {
    const many = Object.fromEntries(Array.from({ length: CUSTOM_ATTRIBUTE_LIMITS.attributes + 1 }, (_, i) => [`a${i}`, 'x']));
    expect(problems(customAttributesInput, many)).to.deep.equal([': too_many']);
    const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, 'x'.repeat(1000)]));
    expect(problems(customAttributesInput, big)).to.deep.equal([': attributes_too_large']);
    expect(attributesProblem({ a: 'x' })).to.equal(undefined);
    // A patch is judged by what it leaves: its removals do not count.
    expect(attributesProblem(applyAttributeChanges(big, Object.fromEntries(Object.keys(big).slice(5).map((name) => [name, null]))))).to.equal(undefined);
  });

  it('applies a change: a value sets, null removes, the rest stays', () => {
    const before = { dept: 'eng', langs: ['en'] };
    expect(applyAttributeChanges(before, { dept: null, tenant: 'acme', langs: ['en', 'fr'] })).to.deep.equal({ langs: ['en', 'fr'], tenant: 'acme' });
    expect(before).to.deep.equal({ dept: 'eng', langs: ['en'] });
  });

  it('the CLI: --attribute NAME=VALUE, a repeated name is a list, NAME[]= a list of one, NAME= removes on update', () => {
    expect(attributesBody(['dept=eng', 'langs=en', 'langs=fr', 'one[]=x', 'eq=a=b'], false)).to.deep.equal({ dept: 'eng', langs: ['en', 'fr'], one: ['x'], eq: 'a=b' });
    expect(attributesBody(['dept='], true)).to.deep.equal({ dept: null });
    expect(attributesBody(undefined, true)).to.equal(undefined);
    expect(() => attributesBody(['dept'], true)).to.throw(/NAME=VALUE/);
    expect(() => attributesBody(['dept='], false)).to.throw(/needs a value/);
    // __proto__ stays a member the API refuses by name, never the body's prototype.
    for (const item of ['__proto__=x', '__proto__[]=x']) expect(problems(customAttributesInput, attributesBody([item], false)), item).to.deep.equal(['__proto__: attribute_name']);
    expect(problems(customAttributesPatchInput, attributesBody(['__proto__='], true))).to.deep.equal(['__proto__: attribute_name']);
  });

  it('the console: lines NAME=VALUE round-trip, and saving sends only what changed', () => {
    const before = { dept: 'eng', langs: ['en', 'fr'], one: ['x'] };
    const lines = attributeLines(before);
    expect(lines).to.equal('dept=eng\nlangs=en\nlangs=fr\none[]=x');
    expect(attributePatch(before, lines)).to.deep.equal({});
    expect(attributePatch(before, 'dept=ops\nlangs=en\n\ntenant=acme')).to.deep.equal({ dept: 'ops', langs: 'en', one: null, tenant: 'acme' });
    expect(attributePatch({}, 'novalue')).to.deep.equal({ novalue: '' });
    // A problem the API names by attribute is said of that attribute in the one box.
    const said = attributeDetails(
      [{ path: 'attributes.dept', message: 'm', code: 'hidden_character' }, { path: 'attributes.langs.1', message: 'm', code: 'too_long' }, { path: 'attributes', message: 'too big' }],
      (detail) => `<${detail.code ?? detail.message}>`,
      (entry, message) => `${entry} | ${message}`,
    );
    expect(said).to.deep.equal([{ path: 'attributes', message: 'dept | <hidden_character>' }, { path: 'attributes', message: 'langs.1 | <too_long>' }, { path: 'attributes', message: 'too big' }]);
    for (const line of ['__proto__=x', '__proto__[]=x', '__proto__=a\n__proto__=b']) expect(problems(customAttributesPatchInput, attributePatch({}, line)), line).to.deep.equal(['__proto__: attribute_name']);
  });
});
