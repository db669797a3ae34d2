import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { DEFAULT_PASSWORD_POLICY } from '../../src/accounts/password-policy.ts';
import { LOCALES, type Locale } from '../../src/interactions/i18n.ts';
import { passwordRequirements } from '../../src/interactions/password-rules.ts';
import { createViews } from '../../src/interactions/views.ts';
import { backLink } from '../../src/interactions/back-link.ts';

const brand = { name: 'Acme', logoUrl: 'https://cdn.acme.example/logo.svg', primaryColor: '#0a7e3d', supportUrl: 'https://help.acme.example' };

describe('template overrides', () => {
  const views = createViews({
    directory: fileURLToPath(new URL('../../views', import.meta.url)),
    overrides: fileURLToPath(new URL('../fixtures/views-override', import.meta.url)),
    brand,
  });

  it('uses the operator file where one exists and merges operator strings over the built-in ones', async () => {
    const html = await views.render('signed-out', 'en', { title: 'x' });
    expect(html).to.contain('Bye from Acme').and.contain('Acme says: you left Acme.');
    expect(html).to.contain('src="https://cdn.acme.example/logo.svg"').and.contain('href="https://help.acme.example"');
  });

  it('falls back to the built-in template and strings for everything else', async () => {
    const html = await views.render('device-success', 'ru', { title: 'x', clientName: 'TV' });
    expect(html).to.contain('Устройство подключено');
    expect(views.theme).to.contain('--primary: #0a7e3d');
  });

  it("an operator's wording of a message replaces all its number forms, not only the plain one", () => {
    const t = views.translate('en');
    expect([1, 2].map((n) => t('password_policy.digits', { n: String(n) }, n))).to.deep.equal(['1 or more digits', '2 or more digits']);
    expect(t('password_policy.lowercase', { n: '1' }, 1), 'the messages it does not set keep theirs').to.equal('at least one lowercase letter');
  });

  it('refuses a template directory that does not exist', () => {
    expect(() => createViews({ directory: '.', overrides: '/nonexistent/views', brand })).to.throw(/GATEHOUSE_VIEWS_DIR/);
  });
});

describe('the password reset page', () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });
  /** "at least 12 characters" in each language, as the requirements hint says it. */
  const minimum: Record<Locale, RegExp> = { en: /at least 12 characters/gi, ru: /не менее 12 символов/gi, 'zh-CN': /至少 12 个字符/g, ko: /12자 이상/g };

  for (const locale of LOCALES) {
    it(`states the minimum length once, in the requirements under the field (${locale})`, async () => {
      const t = views.translate(locale);
      const policy = { ...DEFAULT_PASSWORD_POLICY, minLength: 12 };
      const html = await views.render('password-reset', locale, { title: t('password_reset.title'), action: '/password/reset/x', csrf: 'x', minLength: 12, requirements: passwordRequirements(t, policy) });
      const text = html.replace(/<[^>]+>/g, ' ');
      expect(text.match(minimum[locale])?.length, text).to.equal(1);
      expect(html).to.contain(`minlength="12"`).and.contain('aria-describedby="password-hint"').and.contain('id="password-hint"');
    });
  }
});

describe('the sign-in page', () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });

  it('keeps "Forgot password?" with the password form, the passkey with the other ways in, and "Create account" after them', async () => {
    const html = await views.render('login', 'en', {
      title: 'Sign in', clientName: 'Web App', uid: 'u1', csrf: 'x', login: '', remember: false,
      forgotHref: '/password/forgot?interaction=u1', registration: true, passkey: '{}',
      upstreamButtons: [{ href: '/upstream/github/start', alias: 'github', name: 'GitHub', icon: null }],
    });
    const at = (marker: string) => {
      const index = html.indexOf(marker);
      expect(index, marker).to.be.greaterThan(-1);
      return index;
    };
    // The order a reader meets them in (as Keycloak's and most sign-in pages lay them out).
    const order = ['/u1/login"', '>Forgot password?<', 'class="divider"', 'data-provider="github"', 'data-passkey="authenticate"', 'No account yet?', '/u1/abort"'];
    const positions = order.map(at);
    expect(positions, order.join(' < ')).to.deep.equal([...positions].sort((a, b) => a - b));
  });

  // Keycloak drop-in: apps' own end-to-end tests fill Keycloak's sign-in form by its element ids
  // (#username, #password, #kc-login — a first-hour walk found #login here); they work unchanged.
  it("carries Keycloak's element ids: form #kc-form-login, #username, #password, #kc-login (labels follow)", async () => {
    const html = await views.render('login', 'en', { title: 'Sign in', clientName: 'Web App', uid: 'u1', csrf: 'x', login: '', remember: false });
    expect(html).to.match(/<form id="kc-form-login" method="post" action="[^"]*\/u1\/login">/);
    expect(html).to.match(/<label for="username">[^<]+<\/label>\s*<input id="username" name="username"/);
    expect(html).to.match(/<label for="password">[^<]+<\/label>[\s\S]*<input id="password" name="password"/);
    expect(html).to.match(/<button type="submit" id="kc-login"[^>]*>Sign in<\/button>/);
    expect(html).to.not.contain('id="login"');
  });

  // Found by a first-hour walk at 390 px: the button is a flex box, and each text run and the
  // isolated name were flex items of their own: "Continue with" stood in a narrow column beside a
  // long provider name, and in Korean the particle was pushed off the name ("Corp SSO (으)로 계속").
  for (const locale of LOCALES) {
    it(`draws "Continue with <provider>" as one run of text beside its icon (${locale})`, async () => {
      const html = await views.render('login', locale, {
        title: 'Sign in', clientName: 'Web App', uid: 'u1', csrf: 'x', login: '', remember: false,
        upstreamButtons: [
          { href: '/upstream/corp/start', alias: 'corp', name: 'Contoso Europe corporate directory', icon: null },
          { href: '/upstream/github/start', alias: 'github', name: 'GitHub', icon: 'https://cdn.example/github.svg' },
        ],
      });
      for (const alias of ['corp', 'github']) {
        const inner = new RegExp(`data-provider="${alias}">(.*?)</a>`, 's').exec(html)![1]!.replace(/^<img [^>]*>\s*/u, '');
        expect(inner, alias).to.match(/^<span class="label">[^]*<\/span>$/u);
        expect(inner.slice('<span class="label">'.length, -'</span>'.length), alias).not.to.match(/<span class="label">/u);
      }
    });
  }
});

describe('long email addresses in a sentence', () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });
  const email = 'maximiliana.featherstonehaugh@procurement.northwind-traders.example.com';

  // `overflow-wrap: anywhere` alone cut such an address mid-word ("nort" / "hwind-traders") on a phone.
  it('offers a line break after its @ and each inner dot, not after a sentence\'s full stop, and still escapes the text', async () => {
    const html = await views.render('register-sent', 'en', { title: 'x', email, signInHref: '/sign-in' });
    expect(html).to.include('maximiliana.<wbr>featherstonehaugh@<wbr>procurement.<wbr>northwind-traders.<wbr>example.<wbr>com');
    const lead = /<p class="lead"[^>]*>(.*?)<\/p>/s.exec(html)![1]!;
    expect(lead.replaceAll('<wbr>', ''), 'the sentence unchanged but for the break points').to.include(email);
    expect(lead).not.to.match(/\.<wbr>(\s|$)/);
    const hostile = await views.render('register-sent', 'en', { title: 'x', email: '<script>"a"@b.example</script>', signInHref: '/sign-in' });
    expect(hostile).not.to.include('<script>');
    expect(hostile).to.include('&lt;script&gt;&#34;a&#34;@<wbr>b.<wbr>example&lt;/script&gt;');
  });

  for (const locale of LOCALES) {
    it(`does so on the email confirmation step and the consent page's "signed in as" (${locale})`, async () => {
      const verify = await views.render('verify-email', locale, { title: 'x', email, verified: false, notice: 'sent', uid: 'u', csrf: 'c' });
      expect(verify).to.include('featherstonehaugh@<wbr>procurement.<wbr>');
      const consent = await views.render('consent', locale, { title: 'x', uid: 'u', csrf: 'c', client: { name: 'App', links: [] }, account: { name: email, switchHref: '/switch' }, scopes: [], claims: [], apis: [] });
      expect(consent).to.include('featherstonehaugh@<wbr>procurement.<wbr>');
    });
  }
});

describe('names chosen by users and operators inside sentences', () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });
  const override = 'Evil\u202Eppa'; // U+202E RIGHT-TO-LEFT OVERRIDE: would reverse the rest of the sentence
  /** Each place the name appears in the page's text sits in its own `<bdi>`, so its direction marks stop at its end. */
  function expectIsolated(html: string, text: string): void {
    const body = html.slice(html.indexOf('<main'));
    expect(body, 'the name is on the page').to.include(text);
    expect(body.replace(/<bdi>[^<]*(?:<wbr>[^<]*)*<\/bdi>/g, ''), 'no U+202E outside a <bdi>').not.to.include('\u202E');
  }

  for (const locale of LOCALES) {
    it(`isolates the app's name on the consent page (${locale})`, async () => {
      const html = await views.render('consent', locale, { title: 'x', uid: 'u', csrf: 'c', client: { name: override, links: [] }, account: { name: `${override}@x`, switchHref: '/switch' }, scopes: [], claims: [], apis: [] });
      expectIsolated(html, override);
    });
  }

  it('isolates the app on the sign-out and device pages', async () => {
    expectIsolated(await views.render('logout', 'en', { title: 'x', action: '/a', fields: {}, clientName: override }), override);
    expectIsolated(await views.render('signed-out', 'ko', { title: 'x', back: { name: override, href: '/back' } }), override);
    expectIsolated(await views.render('device-success', 'ru', { title: 'x', clientName: override }), override);
  });

  it('isolates the user name in HTML mails', async () => {
    const mail = await views.renderMail('password_changed', 'zh-CN', { name: override });
    expect(mail.html).to.include(`<bdi>${override}</bdi>`);
    expect(mail.text).not.to.include('<bdi>');
  });
});

describe("an app's name in a page's lead", () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });
  const lead = (html: string) => /<p class="lead">(.*?)<\/p>/s.exec(html)![1]!;

  // "Living-room TV" at the end of the Russian sign-in lead broke after "Living-" on a phone.
  it('keeps a short hyphenated word of it whole on its line, on each page that names the app', async () => {
    const pages = {
      login: await views.render('login', 'ru', { title: 'x', uid: 'u', csrf: 'c', clientName: 'Living-room TV', login: '', remember: false }),
      register: await views.render('register', 'ru', { title: 'x', uid: 'u', csrf: 'c', clientName: 'Living-room TV', available: true, name: '', email: '', domains: '', minLength: 8, signInHref: '/s' }),
      consent: await views.render('consent', 'ru', { title: 'x', uid: 'u', csrf: 'c', client: { name: 'Living-room TV', links: [] }, account: { name: 'a', switchHref: '/s' }, scopes: [], claims: [], apis: [] }),
      logout: await views.render('logout', 'ru', { title: 'x', action: '/a', fields: {}, clientName: 'Living-room TV' }),
      deviceConfirm: await views.render('device-confirm', 'ru', { title: 'x', clientName: 'Living-room TV', userCode: 'BCDF-GHJK', action: '/a', fields: {} }),
      deviceSuccess: await views.render('device-success', 'ru', { title: 'x', clientName: 'Living-room TV' }),
    };
    for (const [name, html] of Object.entries(pages)) expect(lead(html), name).to.include('<bdi><span class="nobr">Living-room</span> TV</bdi>');
  });

  it('lets a long one break as any word does (never wider than a phone), and leaves a name without hyphens as it was', async () => {
    const long = lead(await views.render('login', 'ru', { title: 'x', uid: 'u', csrf: 'c', clientName: 'Procurement-and-supplier-relationship-portal', login: '', remember: false }));
    expect(long).to.include('<bdi>Procurement-and-supplier-relationship-portal</bdi>').and.not.to.include('nobr');
    const plain = lead(await views.render('login', 'ru', { title: 'x', uid: 'u', csrf: 'c', clientName: 'Payroll', login: '', remember: false }));
    expect(plain).to.include('<bdi>Payroll</bdi>');
  });

  // The consent page's trust sentence and the signed-out lead name the app in running text too: built with isolated(), "Living-room TV" could break after "Living-" there.
  it("keeps it whole in the consent page's trust sentence and the signed-out lead, in every language", async () => {
    for (const locale of ['en', 'ru', 'zh-CN', 'ko'] as const) {
      const consent = await views.render('consent', locale, { title: 'x', uid: 'u', csrf: 'c', client: { name: 'Living-room TV', links: [] }, scopes: [], claims: [], apis: [] });
      expect(/<p class="note">(.*?)<\/p>/s.exec(consent)![1], `consent ${locale}`).to.include('<bdi><span class="nobr">Living-room</span> TV</bdi>');
      const signedOut = lead(await views.render('signed-out', locale, { title: 'x', back: { name: 'Living-room TV', href: '/back' } }));
      expect(signedOut, `signed-out ${locale}`).to.include('<bdi><span class="nobr">Living-room</span> TV</bdi>').and.to.include(`<bdi>${brand.name}</bdi>`);
    }
  });
});

describe('Korean particles after a name', () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });
  const tied = '<span class="nobr">\u2060(으)로</span>';

  // The ko sweep at 390 px: "(으)로 계속" on a line of its own under a long provider's name, and "example.com(으)" / "로 보냈습니다".
  it('ties (으)로 to the name before it, in leads, buttons and notices', async () => {
    const login = await views.render('login', 'ko', {
      title: 'x', uid: 'u', csrf: 'c', clientName: 'Web App', login: '', remember: false,
      upstreamButtons: [{ href: '/upstream/corp/start', alias: 'corp', name: 'Contoso Europe corporate directory (staff and contractors)', icon: null }],
    });
    expect(/<p class="lead">(.*?)<\/p>/s.exec(login)![1]).to.equal(`<strong><bdi>Web App</bdi></strong>${tied} 계속하려면 로그인하세요`);
    expect(login).to.include(`<bdi>Contoso Europe corporate directory (staff and contractors)</bdi>${tied} 계속`);
    const verify = await views.render('verify-email', 'ko', { title: 'x', email: 'a@b.example', verified: false, notice: '새 링크를 a@b.example\u2060(으)로 보냈습니다.', uid: 'u', csrf: 'c' });
    expect(verify).to.include(`a@<wbr>b.<wbr>example${tied} 보냈습니다.`);
    expect(verify).to.include(`<bdi>a@<wbr>b.<wbr>example</bdi>${tied} 보낸`);
  });

  it("leaves other languages' brackets alone", async () => {
    const login = await views.render('login', 'en', { title: 'x', uid: 'u', csrf: 'c', clientName: 'Web App (beta)', login: '', remember: false });
    expect(login).not.to.include('\u2060');
  });
});

describe('the signed-out page', () => {
  const views = createViews({ directory: fileURLToPath(new URL('../../views', import.meta.url)), brand });

  it('cuts a very long app name on the button, with the whole name in its tooltip and in the lead', async () => {
    const name = `Northwind ${'procurement '.repeat(16)}portal`;
    const html = await views.render('signed-out', 'en', { title: 'x', back: backLink(name, '/back') });
    const button = /<a class="button primary"[^>]*>(.*?)<\/a>/s.exec(html)![0];
    expect(button.replace(/<[^>]+>/g, '').length, 'the button text').to.be.lessThan(60);
    expect(button).to.include(`title="Back to ${name}"`);
    expect(/<p class="lead">(.*?)<\/p>/s.exec(html)![1]!.replace(/<[^>]+>/g, '')).to.include(name);
    const short = await views.render('signed-out', 'en', { title: 'x', back: backLink('Payroll', '/back') });
    expect(short).to.include('>Back to <bdi>Payroll</bdi></a>').and.not.to.include('title="Back to');
  });

  it('cuts the name by whole characters: a flag or a family emoji across the cut goes whole, never half of it', async () => {
    const button = async (name: string) => {
      const html = await views.render('signed-out', 'en', { title: 'x', back: backLink(name, '/back') });
      return /<a class="button primary"[^>]*>[^<]*<bdi>(.*?)<\/bdi><\/a>/s.exec(html)![1]!;
    };
    // 🇫🇷 is two code points (regional indicators F and R): cut after 39 code points, the F alone was left.
    expect(await button(`${'a'.repeat(38)}🇫🇷 portal for everyone`)).to.equal(`${'a'.repeat(38)}…`);
    // 👩‍💻 (woman, joiner, laptop) across the cut: not a woman alone.
    expect(await button(`${'b'.repeat(35)}👩‍💻 portal for everyone`)).to.equal(`${'b'.repeat(35)}…`);
    // One that fits before the cut stays whole.
    expect(await button(`${'c'.repeat(30)}🇫🇷 portal for everyone`)).to.equal(`${'c'.repeat(30)}🇫🇷 port…`);
  });
});
