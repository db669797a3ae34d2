import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { CliError } from '../../src/cli/cli-error.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { readPassphrase } from '../../src/cli/export-passphrase.ts';

/** A command's context with standard input piped (`stdin`) or a terminal answering prompts in turn (`typed`). */
function context({ stdin, typed }: { stdin?: string; typed?: string[] }): { ctx: CliContext; prompts: string[]; warnings: string[] } {
  const prompts: string[] = [];
  const warnings: string[] = [];
  const answers = [...(typed ?? [])];
  const ctx = {
    json: false,
    out: () => undefined,
    warn: (text: string) => void warnings.push(text),
    stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
    ...(typed === undefined
      ? {}
      : {
          readHidden: async (prompt: string) => {
            prompts.push(prompt);
            return answers.shift() ?? '';
          },
        }),
  } as unknown as CliContext;
  return { ctx, prompts, warnings };
}

async function refused(run: Promise<unknown>): Promise<CliError> {
  try {
    await run;
  } catch (error) {
    expect(error).to.be.instanceOf(CliError);
    return error as CliError;
  }
  return expect.fail('accepted');
}

describe('the passphrase of an encrypted export (--passphrase-file, --passphrase-stdin)', () => {
  const path = join(tmpdir(), `gatehouse-passphrase-${randomBytes(4).toString('hex')}`);
  afterEach(() => rmSync(path, { force: true }));

  it('a file: its text without one final line break (LF or CRLF), spaces kept; a regular file others can read is warned about', async () => {
    writeFileSync(path, '  twelve chars and more \r\n', { mode: 0o600 });
    const quiet = context({});
    expect(await readPassphrase(quiet.ctx, { 'passphrase-file': path }, 'export')).to.equal('  twelve chars and more ');
    expect(quiet.warnings).to.deep.equal([]);
    writeFileSync(path, 'twelve chars and more\n\n');
    chmodSync(path, 0o644);
    const loud = context({});
    expect(await readPassphrase(loud.ctx, { 'passphrase-file': path }, 'import')).to.equal('twelve chars and more\n');
    expect(loud.warnings.join()).to.include('can be read by other users (mode 644)').and.not.include('twelve');
  });

  it('an empty or missing file, both options at once: refused (exit 2)', async () => {
    writeFileSync(path, '\n', { mode: 0o600 });
    expect((await refused(readPassphrase(context({}).ctx, { 'passphrase-file': path }, 'import'))).message).to.include('the file is empty');
    expect((await refused(readPassphrase(context({}).ctx, { 'passphrase-file': `${path}.missing` }, 'import'))).message).to.include('cannot read it (no such file or directory)');
    const both = await refused(readPassphrase(context({ stdin: 'x' }).ctx, { 'passphrase-file': path, 'passphrase-stdin': true }, 'import'));
    expect(both.exitCode).to.equal(2);
  });

  it('piped in: read to its end without the final line break; an export needs at least 12 characters, an import takes what the file was sealed with', async () => {
    expect(await readPassphrase(context({ stdin: 'a long enough passphrase\n' }).ctx, { 'passphrase-stdin': true }, 'export')).to.equal('a long enough passphrase');
    const short = await refused(readPassphrase(context({ stdin: 'elevenchars\n' }).ctx, { 'passphrase-stdin': true }, 'export'));
    expect(short.exitCode).to.equal(2);
    expect(short.message).to.include('shorter than 12 characters').and.not.include('elevenchars');
    expect(await readPassphrase(context({ stdin: 'short' }).ctx, { 'passphrase-stdin': true }, 'import')).to.equal('short');
  });

  it('typed at a terminal: asked twice for an export (two that differ export nothing), once for an import', async () => {
    const same = context({ typed: ['a long enough passphrase', 'a long enough passphrase'] });
    expect(await readPassphrase(same.ctx, { 'passphrase-stdin': true }, 'export')).to.equal('a long enough passphrase');
    expect(same.prompts).to.deep.equal(['Passphrase for the export: ', 'The same passphrase again: ']);
    const differ = context({ typed: ['a long enough passphrase', 'a long enough passphrasf'] });
    expect((await refused(readPassphrase(differ.ctx, { 'passphrase-stdin': true }, 'export'))).message).to.equal('the two passphrases differ: nothing was exported');
    const opening = context({ typed: ['a long enough passphrase'] });
    expect(await readPassphrase(opening.ctx, { 'passphrase-stdin': true }, 'import')).to.equal('a long enough passphrase');
    expect(opening.prompts).to.deep.equal(['Passphrase of the export: ']);
  });

  it('neither option: no passphrase', async () => {
    expect(await readPassphrase(context({}).ctx, {}, 'export')).to.equal(undefined);
  });
});
