import { expect } from 'chai';
import { hasHiddenCharacter } from '../../src/accounts/normalize.ts';
import { attributeValueProblem } from '../../src/accounts/custom-attributes.ts';

/**
 * Probe (probe24): hasHiddenCharacter refuses every format character (\p{Cf}) but the zero-width
 * joiners, so emoji sequences stay allowed. The RGI subdivision flags (Scotland, England, Wales)
 * are such sequences too: U+1F3F4 then TAG letters (U+E0020–U+E007E, format characters) and
 * CANCEL TAG U+E007F. A team name or custom attribute "🏴 Glasgow office" is refused as
 * hidden_character (and a Keycloak import drops it); tag characters anywhere else stay hidden text.
 */
describe('probe: emoji subdivision flags are not hidden characters', () => {
  const SCOTLAND = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
  const WALES = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F}';

  it('a flag alone, or in text, is visible text', () => {
    for (const text of [SCOTLAND, `${WALES} Cardiff office`, `Glasgow ${SCOTLAND}`]) {
      expect(hasHiddenCharacter(text), JSON.stringify(text)).to.equal(false);
      expect(attributeValueProblem(text), JSON.stringify(text)).to.equal(undefined);
    }
  });

  it('tag characters outside a flag stay refused (the control)', () => {
    for (const text of ['admin\u{E0061}', '\u{E0067}\u{E0062}\u{E007F}', 'x\u{E007F}']) {
      expect(hasHiddenCharacter(text), JSON.stringify(text)).to.equal(true);
      expect(attributeValueProblem(text)?.code, JSON.stringify(text)).to.equal('hidden_character');
    }
  });
});
