import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { catalogProblems, LOCALES, loadMessages, negotiateLocale, translator } from '../../src/interactions/i18n.ts';

const BUILT_IN = fileURLToPath(new URL('../../views/locales', import.meta.url));
const MISSING_KEY = fileURLToPath(new URL('../fixtures/locales-missing-key', import.meta.url));

describe('hosted page strings', () => {
  it('has every key, with the same placeholders, in en, ru, zh-CN and ko', () => {
    const catalogs = loadMessages(BUILT_IN);
    expect([...catalogs.keys()]).to.deep.equal([...LOCALES]);
    expect(catalogProblems(catalogs)).to.deep.equal([]);
  });

  it('says one thing one way to the people signing in: "account" is 账户 in zh-CN (never 帐户), "email" is эл. почта in ru', () => {
    const strings = (locale: string) => Object.entries(loadMessages(BUILT_IN).get(locale)!).filter(([key]) => !key.startsWith('mail.'));
    expect(strings('zh-CN').filter(([, text]) => /帐/.test(text)).map(([key]) => key)).to.deep.equal([]);
    expect(strings('ru').filter(([, text]) => /\bemail\b/i.test(text.replace(/\{email\}/g, ''))).map(([key]) => key)).to.deep.equal([]);
  });

  // "{client}(으)로 계속": a line may break before "(" (an opening bracket is a break opportunity
  // even under word-break: keep-all), which left "(으)로" alone at the start of the next line at
  // 390 px. U+2060 WORD JOINER between the word and its particle keeps them together.
  it('glues each Korean particle alternate, "(으)로", "이(가)", to the word before it (hosted pages, account page, console)', () => {
    const unglued = /(?<=[}\uAC00-\uD7A3])\((?:으|이|가|을|를|과|와|은|는)\)/u;
    for (const file of ['../../views/locales/ko.json', '../../src/account/web/locales/ko.json', '../../src/console/web/locales/ko.json']) {
      const catalog = JSON.parse(readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8')) as Record<string, string>;
      expect(Object.keys(catalog).filter((key) => unglued.test(catalog[key]!)), file).to.deep.equal([]);
      expect(Object.values(catalog).filter((text) => text.includes('\u2060(')), file).to.not.be.empty;
    }
  });

  it('fails on a locale missing a key (the check above can fail)', () => {
    expect(catalogProblems(loadMessages(MISSING_KEY))).to.deep.equal(['ko: missing "consent.allow"']);
  });

  it('fails on a translation whose placeholders differ', () => {
    const catalogs = new Map([
      ['en', { greeting: 'Hello {name}' }],
      ['ru', { greeting: 'Привет {имя}' }],
    ]);
    expect(catalogProblems(catalogs)).to.have.length(1);
  });

  it('chooses ui_locales first, then Accept-Language by quality, then English', () => {
    expect(negotiateLocale('ko', 'ru')).to.equal('ko');
    expect(negotiateLocale('fr zh-Hans', undefined)).to.equal('zh-CN');
    expect(negotiateLocale(undefined, 'de, ru-RU;q=0.9, en;q=0.8')).to.equal('ru');
    expect(negotiateLocale(undefined, 'en;q=0.2, ko-KR;q=0.9')).to.equal('ko');
    expect(negotiateLocale(undefined, 'fr, de')).to.equal('en');
    expect(negotiateLocale(undefined, undefined)).to.equal('en');
  });

  it('gives each Accept-Language header its own answer however often it comes, a long one included', () => {
    for (let round = 0; round < 3; round += 1) {
      expect(negotiateLocale(undefined, 'de, ru-RU;q=0.9, en;q=0.8')).to.equal('ru');
      expect(negotiateLocale(undefined, 'de, ko;q=0.9, en;q=0.8')).to.equal('ko');
      expect(negotiateLocale('zh', 'de, ru-RU;q=0.9, en;q=0.8'), 'ui_locales still first').to.equal('zh-CN');
      expect(negotiateLocale(undefined, `${'x-private-tag;q=0.9, '.repeat(40)}ko-KR;q=0.95`), 'a header longer than the ones kept').to.equal('ko');
      expect(negotiateLocale(undefined, 'fr')).to.equal('en');
    }
  });

  it('fills placeholders and falls back to English for a key a locale lacks', () => {
    const catalogs = loadMessages(MISSING_KEY);
    expect(translator(catalogs, 'ko')('consent.allow')).to.equal('Allow');
    expect(translator(catalogs, 'ru')('login.lead', { client: 'CRM' })).to.equal('для продолжения работы в CRM');
  });
});
