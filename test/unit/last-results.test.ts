import { expect } from 'chai';
import { lastResults } from '../../src/cache/last-results.ts';

describe('results remembered for the last arguments (src/cache/last-results.ts)', () => {
  const counting = () => {
    const calls: string[] = [];
    return { calls, compute: (argument: string) => (calls.push(argument), `<${argument}>`) };
  };

  it('computes an argument once and answers it again from memory, undefined and null answers too', () => {
    const { calls, compute } = counting();
    const remembered = lastResults(compute, { entries: 4, maxLength: 16 });
    expect([remembered('a'), remembered('b'), remembered('a'), remembered('b')]).to.deep.equal(['<a>', '<b>', '<a>', '<b>']);
    expect(calls).to.deep.equal(['a', 'b']);
    const nothing: string[] = [];
    const empty = lastResults((argument) => (nothing.push(argument), argument === 'n' ? null : undefined), { entries: 4, maxLength: 16 });
    expect([empty('n'), empty('u'), empty('n'), empty('u')]).to.deep.equal([null, undefined, null, undefined]);
    expect(nothing).to.deep.equal(['n', 'u']);
  });

  it('holds at most `entries` arguments, forgetting the oldest first', () => {
    const { calls, compute } = counting();
    const remembered = lastResults(compute, { entries: 2, maxLength: 16 });
    for (const argument of ['a', 'b', 'c', 'c', 'b', 'a']) remembered(argument);
    expect(calls, 'a forgotten when c came; b and c held').to.deep.equal(['a', 'b', 'c', 'a']);
  });

  it('computes an argument longer than maxLength every time and holds none of it', () => {
    const { calls, compute } = counting();
    const remembered = lastResults(compute, { entries: 2, maxLength: 3 });
    remembered('abcd');
    remembered('abcd');
    remembered('abc');
    remembered('abc');
    expect(calls).to.deep.equal(['abcd', 'abcd', 'abc']);
  });
});
