import { expect } from 'chai';
import { parseRuleLine, parseRules, ruleLine, type RuleProblem, type RuleText } from '../../src/console/web/upstream-rules.ts';

/**
 * The console's mapping rules, one a line, `claim = value -> role`: role and group names may hold
 * spaces (`Order Manager`, `/Sales Team`), so the last word can no longer be the name.
 */
describe('console upstream mapping rules as text', () => {
  it('reads claim = value -> name, each part trimmed, spaces kept inside a value and a name', () => {
    expect(parseRuleLine('groups = Order Admins -> Order Manager')).to.deep.equal({ claim: 'groups', value: 'Order Admins', name: 'Order Manager' });
    expect(parseRuleLine('department=Sales Team->/Sales Team')).to.deep.equal({ claim: 'department', value: 'Sales Team', name: '/Sales Team' });
    expect(parseRuleLine('  realm_access.roles   =   kc-admin   ->   admin  ')).to.deep.equal({ claim: 'realm_access.roles', value: 'kc-admin', name: 'admin' });
  });

  it('takes the claim up to the first =, the name after the last ->: a value may hold = and ->', () => {
    expect(parseRuleLine('memberOf = CN=Admins,DC=corp -> admin')).to.deep.equal({ claim: 'memberOf', value: 'CN=Admins,DC=corp', name: 'admin' });
    expect(parseRuleLine('path = a -> b -> Order Manager')).to.deep.equal({ claim: 'path', value: 'a -> b', name: 'Order Manager' });
    expect(parseRuleLine('groups = x=y -> a=b')).to.deep.equal({ claim: 'groups', value: 'x=y', name: 'a=b' });
  });

  it('still reads the older claim value role, the last word the name, when the line has no ->', () => {
    expect(parseRuleLine('groups admins admin')).to.deep.equal({ claim: 'groups', value: 'admins', name: 'admin' });
    expect(parseRuleLine('department Sales Team sales')).to.deep.equal({ claim: 'department', value: 'Sales Team', name: 'sales' });
    expect(parseRuleLine('groups = admins admin')).to.deep.equal({ claim: 'groups', value: '= admins', name: 'admin' });
  });

  it('says which part is missing', () => {
    const cases: Array<[string, RuleProblem]> = [
      ['broken-line', 'invalid'],
      ['groups admins', 'invalid'],
      ['groups admins -> admin', 'invalid'],
      [' = admins -> admin', 'noClaim'],
      ['groups =   -> admin', 'noValue'],
      ['groups = admins ->   ', 'noName'],
      ['= ->', 'noClaim'],
      ['my claim = admins -> admin', 'invalid'],
    ];
    for (const [line, problem] of cases) expect(parseRuleLine(line), line).to.equal(problem);
  });

  it('writes the new form, which reads back as the same rule', () => {
    const rules: RuleText[] = [
      { claim: 'groups', value: 'Order Admins', name: 'Order Manager' },
      { claim: 'department', value: 'Sales Team', name: '/Sales Team' },
      { claim: 'memberOf', value: 'CN=Admins,DC=corp', name: 'admin' },
      { claim: 'path', value: 'a -> b', name: 'shop:Gift Card' },
    ];
    for (const rule of rules) {
      expect(ruleLine(rule)).to.match(/^\S+ = .+ -> .+$/);
      expect(parseRuleLine(ruleLine(rule))).to.deep.equal(rule);
    }
    expect(ruleLine(rules[0]!)).to.equal('groups = Order Admins -> Order Manager');
  });

  it('keeps a line left as shown exactly as stored, even one the text cannot say (a name with ->)', () => {
    const stored: RuleText = { claim: 'groups', value: 'ops', name: 'a -> b' };
    const shown = new Map([[ruleLine(stored), stored]]);
    const heard: Array<[number, string, RuleProblem]> = [];
    const rules = parseRules([ruleLine(stored), 'groups = x -> Order Manager', 'oops', 'groups = y ->'], shown, (index, line, why) => heard.push([index, line, why]));
    expect(rules).to.deep.equal([stored, { claim: 'groups', value: 'x', name: 'Order Manager' }]);
    expect(heard).to.deep.equal([
      [2, 'oops', 'invalid'],
      [3, 'groups = y ->', 'noName'],
    ]);
    // The same text typed without the stored rule to keep: read by the rule of the text.
    expect(parseRules([ruleLine(stored)], new Map(), () => expect.fail('a rule'))).to.deep.equal([{ claim: 'groups', value: 'ops -> a', name: 'b' }]);
  });
});
