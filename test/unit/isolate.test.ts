import { expect } from 'chai';
import { isolate, plainSentence } from '../../src/interactions/breakable.ts';

/**
 * Sentences built in TypeScript (a page's title, heading, lead or notice, which the view escapes):
 * a name in them that holds right-to-left text or a direction control goes between FIRST STRONG
 * ISOLATE and POP DIRECTIONAL ISOLATE, so it cannot turn the words around it.
 */
describe('isolating names in sentences built in TypeScript', () => {
  it('wraps a name holding right-to-left letters or direction controls; leaves others as they are', () => {
    expect(isolate('שלום@example.org')).to.equal('\u2068שלום@example.org\u2069');
    expect(isolate('Corp \u202Eevil')).to.equal('\u2068Corp \u202Eevil\u2069');
    expect(isolate('Google')).to.equal('Google');
    expect(isolate('谷歌 ID')).to.equal('谷歌 ID');
  });

  it('fills each placeholder of a translated sentence with its isolated value', () => {
    const t = (key: string, values: Record<string, string> = {}) => `${key}: signing you out of {provider}.`.replace('{provider}', values.provider ?? '{provider}');
    expect(plainSentence(t, 'upstream.signing_out', { provider: 'גוגל' })).to.equal('upstream.signing_out: signing you out of \u2068גוגל\u2069.');
    expect(plainSentence(t, 'upstream.signing_out', { provider: 'Corp' })).to.equal('upstream.signing_out: signing you out of Corp.');
  });
});
