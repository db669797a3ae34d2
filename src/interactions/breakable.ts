/**
 * Text for a page's HTML, escaped, with a line-break opportunity (`<wbr>`) after each `@` and each
 * dot inside a word: a long email address or domain name in a sentence wraps at those points
 * ("maximiliana.featherstonehaugh@" / "procurement.example.com") rather than mid-word, where the
 * stylesheet's `overflow-wrap: anywhere` would otherwise cut it ("nort" / "hwind"). A dot that
 * ends a sentence (a space or the end after it) gets none. Templates: `<%- breakable(text) %>`.
 */
export function breakable(text: string): string {
  return escapeHtml(text).replace(/@|\.(?=[^\s.])/g, '$&<wbr>');
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
