/** Text is handed on in pieces of about this many characters: few writes, little held. */
const PIECE_CHARACTERS = 1 << 16;

const isStreamed = (value: unknown): value is AsyncIterable<unknown> => typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * Writes a JSON object whose lists are read while they are written (an AsyncIterable value is
 * written as an array, an item at a time): the text is exactly what `JSON.stringify(object, null,
 * indent)` gives for the same values, without the object or its text ever held whole. Resolves
 * to how many items each streamed list held, by key.
 */
export async function writeJsonObject(entries: ReadonlyArray<readonly [key: string, value: unknown]>, indent: 0 | 2, write: (piece: string) => void): Promise<Record<string, number>> {
  let pending = '';
  const out = (text: string) => {
    pending += text;
    if (pending.length >= PIECE_CHARACTERS) {
      write(pending);
      pending = '';
    }
  };
  // A value nested `depth` levels down is JSON.stringify's text of it alone, each line moved right by `depth` indents.
  const newline = (depth: number) => (indent === 0 ? '' : `\n${' '.repeat(indent * depth)}`);
  const json = (value: unknown, depth: number) => {
    const text = JSON.stringify(value, null, indent === 0 ? undefined : indent);
    return indent === 0 ? text : text.replaceAll('\n', newline(depth));
  };
  const counts: Record<string, number> = {};
  out('{');
  let first = true;
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    out(`${first ? '' : ','}${newline(1)}${JSON.stringify(key)}:${indent === 0 ? '' : ' '}`);
    first = false;
    if (!isStreamed(value)) {
      out(json(value, 1));
      continue;
    }
    let count = 0;
    out('[');
    for await (const item of value) out(`${count++ === 0 ? '' : ','}${newline(2)}${json(item, 2)}`);
    out(count === 0 ? ']' : `${newline(1)}]`);
    counts[key] = count;
  }
  out(first ? '}' : `${newline(0)}}`);
  write(pending);
  return counts;
}
