import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { catalogProblems, loadMessages } from '../../src/interactions/i18n.ts';

const WEB = fileURLToPath(new URL('../../src/account/web', import.meta.url));

describe('account page strings', () => {
  it('has every key, with the same placeholders, in en, ru, zh-CN and ko', () => {
    expect(catalogProblems(loadMessages(join(WEB, 'locales')))).to.deep.equal([]);
  });

  it('has a string for every literal key the page uses', () => {
    const en = loadMessages(join(WEB, 'locales')).get('en')!;
    const used = new Set<string>();
    for (const file of readdirSync(WEB).filter((name) => name.endsWith('.ts'))) {
      for (const match of readFileSync(join(WEB, file), 'utf8').matchAll(/\bt\('([a-zA-Z][\w.]*)'/g)) used.add(match[1]!);
    }
    expect(used.size).to.be.greaterThan(50);
    expect([...used].filter((key) => !(key in en))).to.deep.equal([]);
  });
});
