import { expect } from 'chai';
import { writeJsonObject } from '../../src/transfer/json-stream.ts';

async function* listOf<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const users = Array.from({ length: 3_000 }, (_, index) => ({ _id: `u${index}`, name: index % 7 === 0 ? null : `Ü ${index} 😀 "quoted"\n`, roles: index % 2 === 0 ? [] : ['a', 'b'], attributes: { address: { country: 'FI' } }, nothing: undefined }));
const header = { format: 'gatehouse-export', version: 1, nested: { empty: {}, list: [] as unknown[], deep: [{ x: [1, { y: null }] }] }, missing: undefined };

/** The entries as `exportAll` gives them: the lists as async iterables, read while written. */
const entries = () => [...Object.entries(header), ['users', listOf(users)], ['none', listOf([])], ['after', 'last']] as Array<[string, unknown]>;
const whole = { ...header, users, none: [], after: 'last' };

async function written(indent: 0 | 2): Promise<{ text: string; pieces: number; counts: Record<string, number> }> {
  let text = '';
  let pieces = 0;
  const counts = await writeJsonObject(entries(), indent, (piece) => {
    text += piece;
    pieces += 1;
  });
  return { text, pieces, counts };
}

describe('writeJsonObject (the export written as it is read)', () => {
  it('indented: the very text JSON.stringify(object, null, 2) gives, in several pieces', async () => {
    const { text, pieces, counts } = await written(2);
    expect(text).to.equal(JSON.stringify(whole, null, 2));
    expect(pieces).to.be.greaterThan(1);
    expect(counts).to.deep.equal({ users: 3_000, none: 0 });
  });

  it('compact: the very text JSON.stringify(object) gives', async () => {
    expect((await written(0)).text).to.equal(JSON.stringify(whole));
  });
});
