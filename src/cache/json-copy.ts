/**
 * A deep copy of plain JSON data (objects, arrays, strings, numbers, booleans, null): what
 * `JSON.parse(JSON.stringify(value))` gives for such data, without the text in between. Copying
 * a parsed record this way is ≈ 4× cheaper than parsing its JSON again (docs/PERFORMANCE.md,
 * sixth round). Only for data that already came out of JSON.parse: a Date, a Map or a class
 * instance would not survive it.
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index += 1) copy[index] = copyJson(value[index]);
    return copy as T;
  }
  // for-in, not Object.keys: the same own keys in the same order for data from JSON.parse (plain
  // objects, nothing enumerable inherited), without an array of them per object (≈ 1.5× faster).
  // An own "__proto__" key (JSON.parse keeps it as one; records hold what clients sent) is defined,
  // not assigned: an assignment would set the copy's prototype instead.
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const item = copyJson((value as Record<string, unknown>)[key]);
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}
