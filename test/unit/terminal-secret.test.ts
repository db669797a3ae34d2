import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { CliError } from '../../src/cli/context.ts';
import { EXIT_INTERRUPTED, readHiddenLine } from '../../src/cli/terminal-secret.ts';

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

async function typed(...chunks: string[]): Promise<{ value: string | CliError; shown: string; modes: boolean[] }> {
  const terminal = new FakeTerminal();
  let shown = '';
  const reading = readHiddenLine(terminal, (text) => void (shown += text), 'Password: ');
  for (const chunk of chunks) terminal.emit('data', Buffer.from(chunk));
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
});
