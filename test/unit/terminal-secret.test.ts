import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { CliError } from '../../src/cli/context.ts';
import { privateKeyComplete } from '../../src/cli/private-key-input.ts';
import { EXIT_INTERRUPTED, readHiddenLine, readHiddenText, type SecretComplete } from '../../src/cli/terminal-secret.ts';

class FakeTerminal extends EventEmitter {
  readonly modes: boolean[] = [];
  setRawMode(raw: boolean): this {
    this.modes.push(raw);
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

async function typed(...chunks: Array<string | Buffer>): Promise<{ value: string | CliError; shown: string; modes: boolean[] }> {
  return typedUntil(undefined, ...chunks);
}

async function typedUntil(complete: SecretComplete | undefined, ...chunks: Array<string | Buffer>): Promise<{ value: string | CliError; shown: string; modes: boolean[] }> {
  const terminal = new FakeTerminal();
  let shown = '';
  const write = (text: string) => void (shown += text);
  const reading = complete === undefined ? readHiddenLine(terminal, write, 'Password: ') : readHiddenText(terminal, write, 'Key:\n', complete);
  for (const chunk of chunks) terminal.emit('data', Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  // A reader that has not finished yet is a failure of its own, not a hang.
  terminal.emit('data', Buffer.from('\u0003'));
  const value = await reading.catch((error: unknown) => error as CliError);
  return { value, shown, modes: terminal.modes };
}

describe('readHiddenLine (a secret typed at a terminal)', () => {
  it('returns the line up to Enter, applying backspace and Ctrl-U, and shows only the prompt', async () => {
    const result = await typed('wrong\u0015pa', 'ssX\u007fw0rd\u00e9\r', 'ignored');
    expect(result.value).to.equal('passw0rd\u00e9');
    expect(result.shown).to.equal('Password: \n');
    expect(result.modes).to.deep.equal([true, false]);
  });

  it('Ctrl-C rejects with exit code 130 and restores the terminal', async () => {
    const result = await typed('abc\u0003');
    expect(result.value).to.be.instanceOf(CliError);
    expect((result.value as CliError).exitCode).to.equal(EXIT_INTERRUPTED);
    expect(result.modes).to.deep.equal([true, false]);
  });

  it('Ctrl-D on an empty line ends it empty', async () => {
    expect((await typed('\u0004')).value).to.equal('');
  });

  it('drops arrow keys, Home/End/Delete, function keys and Alt-combinations whole', async () => {
    // ← (CSI), Delete (CSI with a parameter), ↑ in application mode (SS3), Ctrl-→ (CSI 1;5C), F5, Alt-x, 8-bit CSI ↓.
    const result = await typed('ab\u001b[D\u001b[3~c\u001bOA\u001b[1;5Cd\u001b[15~\u001bxe\u009bBf\r');
    expect(result.value).to.equal('abcdef');
  });

  it('recognises a sequence split between two reads, and keeps the key typed after a lone Escape', async () => {
    expect((await typed('ab\u001b[', '1;5', 'Dc\r')).value).to.equal('abc');
    expect((await typed('ab\u001b', 'x\r')).value).to.equal('abx');
  });

  it('keeps the text of a bracketed paste without its markers, and drops a terminal answer (OSC)', async () => {
    expect((await typed('\u001b[200~pasted secret\u001b[201~\u001b]11;rgb:0000/0000/0000\u0007!\r')).value).to.equal('pasted secret!');
  });

  it('Backspace deletes the character as seen (e + combining accent at once), Ctrl-W the last word; other controls are dropped', async () => {
    expect((await typed('ae\u0301\u007f\r')).value).to.equal('a');
    expect((await typed('one two  \u0017three\r')).value).to.equal('one three');
    expect((await typed('a\tb\u0007c\u0000\r')).value).to.equal('abc');
  });

  it('a character split between two reads (UTF-8) is one character', async () => {
    const bytes = Buffer.from('pé€\r');
    expect((await typed(bytes.subarray(0, 2), bytes.subarray(2, 4), bytes.subarray(4))).value).to.equal('pé€');
  });
});

describe('readHiddenText (a secret of several lines typed at a terminal)', () => {
  const PEM = ['-----BEGIN PRIVATE KEY-----', 'MC4CAQAwBQYDK2VwBCIEIJ2Hk0cX', '-----END PRIVATE KEY-----'];

  it('reads a PEM key line by line up to its END line, hidden, and ignores what follows', async () => {
    const result = await typedUntil(privateKeyComplete, `${PEM[0]}\r${PEM[1]}\u001b[A\r`, `${PEM[2]}\r`, 'more\r');
    expect(result.value).to.equal(PEM.join('\n'));
    expect(result.shown).to.equal('Key:\n\n');
    expect(result.modes).to.deep.equal([true, false]);
  });

  it('reads a pasted JSON key until it parses ("\\r\\n" line ends are one Enter)', async () => {
    const result = await typedUntil(privateKeyComplete, '{\r\n  "kty": "OKP",\r\n  "d": "x"\r\n}\r\nrest');
    expect(JSON.parse(result.value as string)).to.deep.equal({ kty: 'OKP', d: 'x' });
  });

  it('Ctrl-D ends it as it is; Ctrl-C aborts', async () => {
    expect((await typedUntil(() => false, 'line one\rline two\u0004')).value).to.equal('line one\nline two');
    expect(((await typedUntil(() => false, 'line one\r\u0003')).value as CliError).exitCode).to.equal(EXIT_INTERRUPTED);
  });
});
