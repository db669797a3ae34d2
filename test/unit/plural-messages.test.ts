import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { problemCount, t, useStrings, type Locale } from '../../src/browser-app/web/i18n.ts';
import { countedKey } from '../../src/browser-app/web/plural.ts';
import { lockoutsHint } from '../../src/console/web/lockouts.ts';
import { catalogProblems, loadMessages, translator, type Messages } from '../../src/interactions/i18n.ts';
import { passwordRequirements } from '../../src/interactions/password-rules.ts';
import { createViews } from '../../src/interactions/views.ts';
import { DEFAULT_PASSWORD_POLICY } from '../../src/accounts/password-policy.ts';

const catalogsOf = (dir: string) => loadMessages(fileURLToPath(new URL(`../../${dir}`, import.meta.url)));
const SETS = { 'hosted pages': catalogsOf('views/locales'), console: catalogsOf('src/console/web/locales'), 'account page': catalogsOf('src/account/web/locales') };
const COUNTS = [1, 2, 5, 11, 21, 22, 25];

/** The browser apps' t() speaking one locale of a catalog set (loadStrings without fetch and document). */
function browserT(catalogs: ReadonlyMap<string, Messages>, locale: Locale) {
  useStrings(locale, { ...catalogs.get(locale) }, { ...catalogs.get('en') });
  return t;
}

describe('messages with a number in them (src/browser-app/web/plural.ts)', () => {
  it('picks the Russian form by the CLDR category of the count: one 1, 21; few 2, 22; many 5, 11, 25; an exact [=N] first', () => {
    const keys = new Set(['x', 'x[one]', 'x[few]', 'x[many]', 'x[=1]']);
    const has = (key: string) => keys.has(key);
    expect(COUNTS.map((n) => countedKey('x', n, 'ru', has))).to.deep.equal(['x[=1]', 'x[few]', 'x[many]', 'x[many]', 'x[one]', 'x[few]', 'x[many]']);
    expect(countedKey('x', 1.5, 'ru', has), 'a fraction is "other": the plain key').to.equal('x');
    expect(countedKey('x', undefined, 'ru', has), 'no count: the plain key').to.equal('x');
    expect(COUNTS.map((n) => countedKey('x', n, 'en', (key) => key === 'x[one]'))).to.deep.equal(['x[one]', 'x', 'x', 'x', 'x', 'x', 'x']);
    expect(COUNTS.map((n) => countedKey('x', n, 'zh-CN', (key) => key === 'x[one]')), 'zh-CN has no "one"').to.deep.equal(COUNTS.map(() => 'x'));
  });

  it('the hosted pages say a password policy count in Russian as the number asks', () => {
    const ru = translator(SETS['hosted pages'], 'ru');
    expect(COUNTS.map((n) => ru('password_policy.too_short', { n: String(n) }, n))).to.deep.equal([
      'не менее 1 символа', 'не менее 2 символов', 'не менее 5 символов', 'не менее 11 символов', 'не менее 21 символа', 'не менее 22 символов', 'не менее 25 символов',
    ]);
    expect(COUNTS.map((n) => ru('password_policy.digits', { n: String(n) }, n))).to.deep.equal([
      'хотя бы одна цифра', 'не менее 2 цифр', 'не менее 5 цифр', 'не менее 11 цифр', 'не менее 21 цифры', 'не менее 22 цифр', 'не менее 25 цифр',
    ]);
    expect(passwordRequirements(ru, { ...DEFAULT_PASSWORD_POLICY, minLength: 21, history: 21 })).to.equal('Требования: не менее 21 символа; не совпадает ни с одним из 21 последнего пароля.');
    expect(passwordRequirements(ru, { ...DEFAULT_PASSWORD_POLICY, minLength: 22, history: 1 })).to.equal('Требования: не менее 22 символов; не совпадает с текущим паролем.');
    const en = translator(SETS['hosted pages'], 'en');
    expect(passwordRequirements(en, { ...DEFAULT_PASSWORD_POLICY, minLength: 21, digits: 1, history: 1 })).to.equal('Requirements: at least 21 characters; at least one digit; not your current password.');
    const zh = translator(SETS['hosted pages'], 'zh-CN');
    expect(passwordRequirements(zh, { ...DEFAULT_PASSWORD_POLICY, minLength: 21, digits: 1, history: 1 })).to.equal('要求：至少 21 个字符；至少 1 个数字；不能与当前密码相同。');
  });

  it('the mails and pages say an hour and a minute in English (a link valid for 1 hour, not "1 hours")', async () => {
    const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand: { name: 'Acme', logoUrl: undefined, primaryColor: '#0a7e3d', supportUrl: undefined } });
    const invitation = (hours: string | null, minutes: string) => views.renderMail('invitation', 'en', { name: 'Ada', username: 'ada', link: 'https://id.example/x', hours, minutes });
    expect((await invitation('1', '60')).text).to.include('expires in 1 hour.');
    expect((await invitation('2', '120')).text).to.include('expires in 2 hours.');
    expect((await invitation(null, '1')).text).to.include('expires in 1 minute.');
    expect((await views.renderMail('email_verification', 'en', { name: 'Ada', link: 'https://id.example/x', hours: '1', byOperator: false })).text).to.include('expires in 1 hour.');
    expect((await views.renderMail('password_reset', 'en', { name: 'Ada', link: 'https://id.example/x', minutes: '1' })).text).to.include('expires in 1 minute.');
  });

  it('the account page says the API\'s limits in Russian as the number asks', () => {
    const ru = browserT(SETS['account page'], 'ru');
    const tooShort = (limit: number) => ru('problem.new_password.password_too_short', { limit }, problemCount({ limit }));
    expect(COUNTS.map(tooShort)).to.deep.equal(COUNTS.map((n) => `Новый пароль слишком короткий: нужно не менее ${n} ${[1, 21].includes(n) ? 'символа' : 'символов'}.`));
    expect(ru('problem.too_long', { field: 'Имя', max: 21 }, problemCount({ max: 21 }))).to.equal('Имя: не более 21 символа.');
    expect(COUNTS.map((n) => ru('codes.left', { count: n }, n))).to.deep.equal([
      'Остался 1 неиспользованный код восстановления.',
      'Осталось 2 неиспользованных кода восстановления.',
      'Осталось 5 неиспользованных кодов восстановления.',
      'Осталось 11 неиспользованных кодов восстановления.',
      'Остался 21 неиспользованный код восстановления.',
      'Осталось 22 неиспользованных кода восстановления.',
      'Осталось 25 неиспользованных кодов восстановления.',
    ]);
    expect(ru('problem.new_password.password_special', { limit: 1 }, 1)).to.equal('В новом пароле должен быть хотя бы один специальный символ (не буква и не цифра).');
    const en = browserT(SETS['account page'], 'en');
    expect([1, 2].map((n) => en('codes.left', { count: n }, n))).to.deep.equal(['1 unused recovery code left.', '2 unused recovery codes left.']);
    expect([1, 3].map((n) => en('sessions.endedOthers', { count: n }, n))).to.deep.equal(['1 other session was signed out.', '3 other sessions were signed out.']);
  });

  it('the console says a length limit in Russian as the number asks', () => {
    const ru = browserT(SETS.console, 'ru');
    expect(COUNTS.map((n) => ru('problem.too_long', { max: n }, problemCount({ max: n })))).to.deep.equal(
      COUNTS.map((n) => `не длиннее ${n} ${[1, 21].includes(n) ? 'символа' : 'символов'}`),
    );
    expect([21, 22].map((limit) => ru('problem.password_too_short', { limit }, problemCount({ limit })))).to.deep.equal(['не короче 21 символа', 'не короче 22 символов']);
    const en = browserT(SETS.console, 'en');
    expect([1, 2].map((limit) => en('problem.password_digits', { limit }, problemCount({ limit })))).to.deep.equal(['must contain at least one digit', 'must contain at least 2 digits']);
    expect([1, 2].map((count) => en('upstream.visibility.some', { count }, count))).to.deep.equal(['1 listed client', '2 listed clients']);
    // A locale without the key speaks English, in English's forms.
    useStrings('ru', {}, { ...SETS.console.get('en') });
    expect(t('upstream.visibility.some', { count: 1 }, 1)).to.equal('1 listed client');
  });

  // "Показаны 500 самых новых из 501 действующих блокировок": one message held two counts, and only one can pick its words.
  it('the console counts the lockouts in force and the newest it lists each by its own number', () => {
    browserT(SETS.console, 'ru');
    expect([501, 502, 505, 511, 521].map((total) => lockoutsHint(500, total)[0])).to.deep.equal([
      'Действует 501 блокировка.', 'Действуют 502 блокировки.', 'Действует 505 блокировок.', 'Действует 511 блокировок.', 'Действует 521 блокировка.',
    ]);
    expect([500, 21, 22].map((shown) => lockoutsHint(shown, 600)[1]!.split('. ')[0])).to.deep.equal(['Здесь показаны 500 самых новых', 'Здесь показана 21 самая новая', 'Здесь показаны 22 самые новые']);
    browserT(SETS.console, 'en');
    expect(lockoutsHint(500, 501)).to.deep.equal(['501 lockouts are in force.', 'The newest 500 are listed here. Lift them by address or user, or wait for them to end.']);
    browserT(SETS.console, 'zh-CN');
    expect(lockoutsHint(500, 501)).to.deep.equal(['共有 501 个生效的锁定。', '此处列出最新的 500 个。可按地址或用户解除，或等待其到期。']);
  });

  for (const [name, catalogs] of Object.entries(SETS)) {
    it(`the ${name} have every key in en, ru, zh-CN and ko, and every plural form each language has where it varies a message`, () => {
      expect([...catalogs.keys()]).to.deep.equal(['en', 'ru', 'zh-CN', 'ko']);
      expect(catalogProblems(catalogs)).to.deep.equal([]);
    });
  }

  it('the catalog check fails on a plural form missing or foreign to a language, a variant without its message, or a missing plain key', () => {
    const catalogs = (ru: Record<string, string>, zh: Record<string, string> = { n: '{n} 个' }) =>
      new Map<string, Messages>([
        ['en', { n: '{n} items', 'n[one]': 'one item' }],
        ['ru', ru],
        ['zh-CN', zh],
      ]);
    const ru = { n: '{n} штук', 'n[one]': '{n} штука', 'n[few]': '{n} штуки', 'n[many]': '{n} штук' };
    expect(catalogProblems(catalogs(ru))).to.deep.equal([]);
    expect(catalogProblems(catalogs({ n: '{n} штук', 'n[one]': '{n} штука', 'n[many]': '{n} штук' }))).to.deep.equal(['ru: "n" varies by number but has no "n[few]"']);
    expect(catalogProblems(catalogs(ru, { n: '{n} 个', 'n[one]': '1 个' }))).to.deep.equal(['zh-CN: "n[one]": zh-CN has no plural form "one" (its forms: none but the plain key; the plain key is "other")']);
    expect(catalogProblems(catalogs(ru, { n: '{n} 个', 'n[=1]': '一个' })), 'an exact number suits every language').to.deep.equal([]);
    expect(catalogProblems(catalogs({ ...ru, 'n[other]': '{n} штуки' }))[0]).to.match(/^ru: "n\[other\]": ru has no plural form "other"/);
    expect(catalogProblems(catalogs({ ...ru, 'm[one]': 'штука' }))).to.deep.equal(['ru: unknown "m[one]" (no "m")']);
    expect(catalogProblems(catalogs({ ...ru, 'n[few]': '{n} {what}' }))).to.deep.equal(['ru: "n[few]" has placeholders {what} that "n" does not have']);
    expect(catalogProblems(catalogs(Object.fromEntries(Object.entries(ru).filter(([key]) => key !== 'n'))))).to.deep.equal(['ru: missing "n"']);
  });
});
