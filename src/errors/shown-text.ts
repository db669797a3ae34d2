/**
 * Input as a message may show it: the CLI's one-line errors (src/cli/help.ts) and the
 * configuration's problems (src/config/sources.ts), which the CLI and the server print as they are.
 */

/** What a message may show of a typed word: at most this many characters. */
export const SHOWN_LENGTH = 60;

/**
 * A typed word as a message may show it: control characters (escape sequences, line breaks) and
 * invisible formatting characters (bidirectional overrides) escaped, so what someone passes as
 * an argument can neither drive the terminal nor forge a line in a log; and at most SHOWN_LENGTH
 * characters.
 */
export function shown(word: string, max = SHOWN_LENGTH): string {
  const characters = [...word];
  const cut = characters.length > max;
  const escaped = characters.slice(0, max).map((character) => {
    if (character === '\n') return '\\n';
    if (character === '\r') return '\\r';
    if (character === '\t') return '\\t';
    if (/[\p{Cc}]/u.test(character)) return `\\x${character.codePointAt(0)!.toString(16).padStart(2, '0')}`;
    if (/[\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u.test(character)) return `\\u${character.codePointAt(0)!.toString(16).padStart(4, '0')}`;
    return character;
  });
  return `${escaped.join('')}${cut ? '…' : ''}`;
}

/**
 * Input a message quotes (an id that matches nothing, an unknown setting, a file name): shown()
 * in quotes, and when it was cut, how long it was — `'xxxx…' (100000 characters)`. Unquoted
 * (`{ quote: false }`) where the message's own words frame it: `client xxxx… (100000 characters) does not exist`.
 */
export function typed(word: string, { quote = true }: { quote?: boolean } = {}): string {
  const length = [...word].length;
  const text = quote ? `'${shown(word)}'` : shown(word);
  return length > SHOWN_LENGTH ? `${text} (${length} characters)` : text;
}
