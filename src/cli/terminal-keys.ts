/** What a key typed at a terminal in raw mode means to a hidden prompt (src/cli/terminal-secret.ts). */
export type Key =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'enter' | 'interrupt' | 'end' | 'backspace' | 'erase-word' | 'erase-line' };

const CONTROL_KEYS: Readonly<Record<string, Key['kind']>> = {
  '\r': 'enter',
  '\n': 'enter',
  '\u0003': 'interrupt', // Ctrl-C
  '\u0004': 'end', // Ctrl-D
  '\u007f': 'backspace',
  '\b': 'backspace', // Ctrl-H
  '\u0017': 'erase-word', // Ctrl-W
  '\u0015': 'erase-line', // Ctrl-U
};

type State = 'text' | 'escape' | 'csi' | 'ss3' | 'string' | 'string-escape';

/**
 * Splits what a terminal sends into keys, dropping escape sequences whole (ECMA-48): arrow keys
 * and Home/End/Delete/function keys (CSI `ESC [ … final`, SS3 `ESC O x`), Alt-combinations
 * (`ESC x`), the markers of a bracketed paste (its text is kept), and the terminal's answers to
 * queries (OSC/DCS strings up to BEL or `ESC \`); likewise their 8-bit forms. Other control
 * characters (Tab included) are dropped too. Stateful: a sequence split between two reads is
 * still recognised, and "\r\n" (a pasted Windows line end) is one Enter.
 *
 * An ESC that ends a read is the Escape key itself: a terminal writes a whole sequence at once,
 * so nothing after it belongs to a sequence (and the next key typed is kept).
 */
export function keyEvents(): (typed: string) => Generator<Key> {
  let state: State = 'text';
  let afterCarriageReturn = false;
  return function* keys(typed: string): Generator<Key> {
    for (const ch of typed) {
      const code = ch.codePointAt(0)!;
      const crLf = afterCarriageReturn && ch === '\n';
      afterCarriageReturn = false;
      switch (state) {
        case 'escape':
          state = ch === '[' ? 'csi' : ch === 'O' ? 'ss3' : ']P_^X'.includes(ch) ? 'string' : ch === '\u001b' ? 'escape' : 'text';
          continue;
        case 'csi':
          // Parameter and intermediate bytes go on; a final byte (or a stray control) ends it.
          if (code >= 0x20 && code <= 0x3f) continue;
          state = 'text';
          if (code >= 0x40 && code <= 0x7e) continue;
          break;
        case 'ss3':
          state = 'text';
          continue;
        case 'string':
          if (ch === '\u0007') state = 'text';
          else if (ch === '\u001b') state = 'string-escape';
          continue;
        case 'string-escape':
          state = ch === '\\' ? 'text' : 'string';
          continue;
        case 'text':
          break;
      }
      if (crLf) continue;
      if (ch === '\u001b') state = 'escape';
      else if (ch === '\u009b') state = 'csi';
      else if (ch === '\u008f') state = 'ss3';
      else if (ch === '\u0090' || ch === '\u009d' || ch === '\u009e' || ch === '\u009f' || ch === '\u0098') state = 'string';
      else if (CONTROL_KEYS[ch] !== undefined) {
        afterCarriageReturn = ch === '\r';
        yield { kind: CONTROL_KEYS[ch] } as Key;
      } else if (code >= 0x20 && !(code >= 0x7f && code <= 0x9f)) yield { kind: 'text', text: ch };
    }
    if (state === 'escape') state = 'text';
  };
}
