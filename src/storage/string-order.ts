/**
 * How MongoDB and FerretDB order strings in a sort: by their UTF-8 bytes (MongoDB's simple binary
 * comparison; Gatehouse's collections have no collation). JavaScript's `<` compares UTF-16 code
 * units instead, and the two disagree where a character beyond U+FFFF (a surrogate pair, from
 * U+D800) meets one of U+E000–U+FFFF: code that walks cursors in the store's order side by side
 * compares with this, not with `<`.
 */
export function compareAsStored(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
