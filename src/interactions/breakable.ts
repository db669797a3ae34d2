/**
 * Text for a page's HTML, escaped, with a line-break opportunity (`<wbr>`) after each `@` and each
 * dot inside a word: a long email address or domain name in a sentence wraps at those points
 * ("maximiliana.featherstonehaugh@" / "procurement.example.com") rather than mid-word, where the
 * stylesheet's `overflow-wrap: anywhere` would otherwise cut it ("nort" / "hwind"). A dot that
 * ends a sentence (a space or the end after it) gets none. Templates: `<%- breakable(text) %>`.
 */
export function breakable(text: string): string {
  return gluedParticles(escapeHtml(text).replace(/@|\.(?=[^\s.])/g, '$&<wbr>'));
}

/**
 * A Korean particle in its either-form — (으)로, (이)나, 이(가), 을(를), (으)로는 — right after a
 * word: a browser may break before its "(" and after its ")", and the ko sweep showed "(으)로 계속"
 * on a line of its own under a long provider's name and "example.com(으)" / "로 보냈습니다". A
 * WORD JOINER ties it to the word before, and `.nobr` keeps it whole (the catalogs' own word joiner
 * before "(" did not stop the break after ")"). Korean letters only, so no other language's "(…)"
 * is touched.
 */
const PARTICLE = '\u2060?[가-힣]{0,2}\u2060?\\([가-힣]{1,2}\\)[가-힣]{0,4}';
/** The particle in `.nobr` after one WORD JOINER (the catalogs already put one before its "(": ko.json). */
const tied = (particle: string) => `<span class="nobr">\u2060${particle.replaceAll('\u2060', '')}</span>`;

/** Escaped HTML text with each either-form particle tied to the word before it (PARTICLE). */
function gluedParticles(html: string): string {
  return html.replace(new RegExp(`(?<=[^\\s>\u2060])${PARTICLE}`, 'g'), tied);
}

/**
 * A name someone chose (an app, a person, an email address, a sign-in provider, a device) for a
 * page's HTML: escaped, with breakable()'s break points, inside `<bdi>`, so right-to-left text or a
 * direction override in it (U+202E) stays inside the name instead of reversing the sentence around
 * it. Templates: `<%- isolated(name) %>`.
 */
export function isolated(text: string): string {
  return `<bdi>${breakable(text)}</bdi>`;
}

/** The longest hyphenated word of an app's name that appName() keeps whole: on a phone's card (about 20 em wide) it always fits a line. */
const WHOLE_HYPHENATED = 20;

/**
 * An app's name in a page's lead, as isolated() makes it, with each hyphenated word of at most
 * WHOLE_HYPHENATED characters kept whole (`<span class="nobr">`, white-space: nowrap): a browser
 * breaks a line after any hyphen, and "Living-room TV" at the end of the Russian sign-in lead
 * broke after "Living-" on a phone. A longer one breaks as any word does, never wider than the card.
 * Templates: `<%- appName(clientName) %>`.
 */
export function appName(text: string): string {
  const words = text.split(/(\s+)/).map((word) => (/[-\u2010]/.test(word) && [...word].length <= WHOLE_HYPHENATED ? `<span class="nobr">${breakable(word)}</span>` : breakable(word)));
  return `<bdi>${words.join('')}</bdi>`;
}

/** How a placeholder's value goes into a sentence's HTML: isolated(), or appName() for an app's name. */
export type HtmlFill = (text: string) => string;

/**
 * A translated sentence as HTML: the catalog's text escaped, each `{placeholder}` filled with
 * isolated(value), or with its own fill from `fills` (appName for an app's name, kept whole as
 * in the leads). `translate` is the page's `t`, asked with the placeholders left in place.
 * Templates: `<%- sentence('consent.trust', { client: client.name }, { client: appName }) %>`.
 */
export function htmlSentence(translate: (key: string) => string, key: string, values: Readonly<Record<string, string>>, fills: Readonly<Record<string, HtmlFill>> = {}): string {
  return translate(key)
    .split(/(\{\w+\})/)
    .map((part, i) => {
      // Text right after a placeholder: its particle tied to the value (PARTICLE), as breakable() ties one inside a text.
      if (i % 2 === 0) {
        const lead = i === 0 ? undefined : new RegExp(`^${PARTICLE}`).exec(part)?.[0];
        return lead === undefined ? gluedParticles(escapeHtml(part)) : tied(lead) + gluedParticles(escapeHtml(part.slice(lead.length)));
      }
      const name = part.slice(1, -1);
      const value = values[name];
      return value === undefined ? escapeHtml(part) : (fills[name] ?? isolated)(value);
    })
    .join('');
}

/**
 * Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko, ... and their presentation forms)
 * and the invisible direction marks, embeddings, overrides and isolates: text holding any of them
 * can change the order of the words around it (the account page's and console's own copy:
 * src/browser-app/web/i18n.ts).
 */
const BIDI = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFE\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/**
 * A name inside a sentence built in TypeScript — a page's title, heading, lead or notice, which
 * the view escapes, so isolated()'s `<bdi>` cannot be used: between FIRST STRONG ISOLATE and POP
 * DIRECTIONAL ISOLATE, Unicode's plain-text `<bdi>`, when it holds right-to-left text or direction
 * controls; as it is otherwise, where isolating changes nothing.
 */
export function isolate(text: string): string {
  return BIDI.test(text) ? `\u2068${text}\u2069` : text;
}

/** A translated sentence as plain text, each `{placeholder}` filled with isolate(value): `plainSentence(t, 'upstream.failed', { provider })`. */
export function plainSentence(translate: (key: string, values: Record<string, string>) => string, key: string, values: Readonly<Record<string, string>>): string {
  return translate(key, Object.fromEntries(Object.entries(values).map(([name, value]) => [name, isolate(value)])));
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
