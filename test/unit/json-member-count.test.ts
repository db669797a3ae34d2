import { expect } from 'chai';
import { findDuplicateMember, lostMembers, memberCount, textBlocks, textMemberCount } from '../../src/json/members.ts';

describe('duplicate JSON members found cheaply: members named in the text against members JSON.parse kept', () => {
  const lost = (text: string) => lostMembers(text, JSON.parse(text));

  it('counts the names of a text outside its strings (colons, quotes and escaped quotes inside strings do not count)', () => {
    expect(textMemberCount('{}')).to.equal(0);
    expect(textMemberCount('{"a":1,"b":{"c":[{"d":null}]}}')).to.equal(4);
    expect(textMemberCount('{"url":"https://x.test:8443/a?b=c:d","note":"say \\"a:b\\" \\\\","k\\":ey":"\\\\"}')).to.equal(3);
    expect(textMemberCount('["a:b", 1, {"x" : "y:z"}]')).to.equal(1);
  });

  it('counts what a parsed value holds, however deep (no recursion)', () => {
    expect(memberCount(JSON.parse('{"a":1,"b":{"c":[{"d":null}]}}'))).to.equal(4);
    const deep = `${'['.repeat(20_000)}{"a":1}${']'.repeat(20_000)}`;
    expect(memberCount(JSON.parse(deep))).to.equal(1);
    expect(textMemberCount(deep)).to.equal(1);
  });

  it('finds a member given twice at any depth, and nothing in texts without one', () => {
    expect(lost('{"a":1,"a":2}')).to.equal(true);
    expect(lost('{"x":[{"email":"a@x","email":"b@x"}]}')).to.equal(true);
    // The same name written two ways is one name to JSON.parse.
    expect(lost('{"a":1,"\\u0061":2}')).to.equal(true);
    expect(lost('{"__proto__":{"admin":true},"admin":false}')).to.equal(false);
    expect(lost('{"a":{"a":{"a":1}},"b":["a","a"]}')).to.equal(false);
    expect(lost('{"k":"v:w","k2":"\\"k\\":1"}')).to.equal(false);
    expect(lost('[1,2,"3"]')).to.equal(false);
    expect(lost('"a:b"')).to.equal(false);
  });

  it('names the first member given twice and where its second name is (line, column)', async () => {
    const text = '{\n  "name": "x",\n  "redirect_uris": ["https://a.test/cb"],\n  "meta": { "tier": 1, "tier": 2 }\n}';
    expect(await findDuplicateMember(() => textBlocks(text, 7))).to.deep.equal({ path: 'meta.tier', line: 4, column: 24 });
    expect(await findDuplicateMember(() => textBlocks('{"a":[{"b":1},{"b":1,"c":2,"b":3}]}'))).to.deep.include({ path: 'a.1.b' });
    expect(await findDuplicateMember(() => textBlocks('{"a":1,"b":2}'))).to.equal(undefined);
  });
});
