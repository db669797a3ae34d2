import { expect } from 'chai';
import { hasHiddenCharacter } from '../../src/accounts/normalize.ts';
import { zodDetails } from '../../src/errors/normalize.ts';
import { passkeyAddSchema, passkeyNameSchema } from '../../src/operations/own-sign-in-methods.ts';

describe("a passkey's name", () => {
  const refused = ['Work\u202Ekey', 'a\u2066b\u2069', 'zero\u200Bwidth', 'bell\u0007', 'tab\tkey', 'mark\u200F'];

  for (const name of refused) {
    it(`refuses ${JSON.stringify(name)}, naming the field and the problem`, () => {
      for (const [schema, body] of [[passkeyNameSchema, { name }], [passkeyAddSchema, { ticket: 't', response: 'r', name }]] as const) {
        const result = schema.safeParse(body);
        expect(result.success, JSON.stringify(body)).to.equal(false);
        expect(zodDetails(result.error!).map((detail) => [detail.path, detail.code])).to.deep.equal([['name', 'hidden_character']]);
      }
    });
  }

  it('keeps names in any script, emoji sequences with their joiners, and the empty default when adding', () => {
    for (const name of ['Рабочий ключ', '工作密钥', '회사 키', 'מפתח עבודה', 'مفتاح', 'کلید\u200Cها', '👩\u200D💻 laptop']) {
      expect(hasHiddenCharacter(name), name).to.equal(false);
      expect(passkeyNameSchema.parse({ name }).name).to.equal(name);
    }
    expect(passkeyAddSchema.parse({ ticket: 't', response: 'r' }).name).to.equal('');
  });
});
