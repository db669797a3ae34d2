import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createViews } from '../../src/interactions/views.ts';

// Creating an account has no old password to replace: its fields say "Password", not "New password"
// (the reset page's words), in every language.
describe('the registration page\'s password fields', () => {
  const views = createViews({
    directory: fileURLToPath(new URL('../../views', import.meta.url)),
    brand: { name: 'Gatehouse', logoUrl: undefined, primaryColor: '#1f5fbf', supportUrl: undefined },
  });
  const labels = async (locale: string) => {
    const html = await views.render('register', locale as never, {
      title: 'x', available: true, clientName: 'Expense Tracker', csrf: 'c', name: '', email: '', domains: '', minLength: 8,
      paths: { interaction: '/interaction' }, uid: 'u', signInHref: '/interaction/u',
    });
    return [...html.matchAll(/<label for="(password|confirm)">([^<]*)<\/label>/g)].map((m) => m[2]);
  };
  const expected: Record<string, [string, string]> = {
    en: ['Password', 'Repeat the password'],
    ru: ['Пароль', 'Повторите пароль'],
    'zh-CN': ['密码', '再次输入密码'],
    ko: ['비밀번호', '비밀번호 확인'],
  };
  for (const [locale, words] of Object.entries(expected)) {
    it(`${locale}: ${words.join(' / ')}`, async () => {
      expect(await labels(locale)).to.deep.equal(words);
    });
  }
});
