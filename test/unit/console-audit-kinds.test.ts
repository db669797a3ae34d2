import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { AuditEventResponse } from '../../src/admin/responses.ts';
import { useStrings, type Locale } from '../../src/browser-app/web/i18n.ts';
import { actorOf, targetOf } from '../../src/console/web/audit.ts';

const catalog = (locale: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../src/console/web/locales/${locale}.json`, import.meta.url)), 'utf8')) as Record<string, string>;
const speak = (locale: Locale) => useStrings(locale, catalog(locale), catalog('en'));
const event = (target: AuditEventResponse['target'], actor: Partial<AuditEventResponse['actor']> = {}) => ({ target, actor: { type: 'user', id: null, username: null, ...actor } }) as unknown as AuditEventResponse;

/** The kinds of actor and target the server writes (src/operations, src/composition, src/admin). */
const KINDS = ['user', 'client', 'grant', 'api', 'claim_scope', 'role', 'group', 'keyset', 'realm', 'settings', 'initial_access_token', 'upstream_provider', 'system', 'anonymous', 'cli'];

// The audit log's Target column read "user 4a29…" and "client web" in Chinese, Russian and Korean.
describe("the console's audit log names an event's actor and target kind in the reader's language", () => {
  it('says the kind before the id in each language, and who acted when no one is named', () => {
    speak('zh-CN');
    expect(targetOf(event({ type: 'user', id: '4a29' }))).to.equal('用户 4a29');
    expect(targetOf(event({ type: 'client', id: 'web' }))).to.equal('客户端 web');
    expect(actorOf(event(null, { type: 'anonymous' }))).to.equal('匿名');
    expect(actorOf(event(null, { type: 'user', username: 'ada' })), 'a person by name').to.equal('ada');
    speak('ru');
    expect(targetOf(event({ type: 'keyset', id: null }))).to.equal('набор ключей');
    speak('en');
    expect(targetOf(event({ type: 'claim_scope', id: 'org' }))).to.equal('claim scope org');
    expect(targetOf(event(null))).to.equal('—');
    expect(targetOf(event({ type: 'future_kind', id: 'x' })), 'a kind the console has no word for: as the API names it').to.equal('future_kind x');
  });

  it('has a word for every kind the server writes, in every language', () => {
    for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
      const strings = catalog(locale);
      expect(KINDS.filter((kind) => !strings[`audit.kind.${kind}`]), locale).to.deep.equal([]);
    }
  });
});
