import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { fileProblem } from '../../src/cli/file-problem.ts';

describe('why the CLI could not read a file (src/cli/file-problem.ts)', () => {
  const thrown = (read: () => unknown): unknown => {
    try {
      read();
    } catch (error) {
      return error;
    }
    throw new Error('it read');
  };

  it("says it in words for Node's errors, never the path again", () => {
    expect(fileProblem(thrown(() => readFileSync('/nowhere/at/all')))).to.equal('no such file or directory');
    expect(fileProblem(thrown(() => readFileSync('/')))).to.equal('a directory, not a file');
    expect(fileProblem(thrown(() => readFileSync('/etc/hostname/x')))).to.equal('a part of the path is not a directory');
    expect(fileProblem(Object.assign(new Error('EACCES: permission denied, open /x'), { code: 'EACCES' }))).to.equal('permission denied');
  });

  it('shows an unknown code alone, and nothing of an error without one', () => {
    expect(fileProblem(Object.assign(new Error('x'), { code: 'EXDEV' }))).to.equal('EXDEV');
    expect(fileProblem(new Error('/secret/path went wrong'))).to.equal('error');
    expect(fileProblem('text')).to.equal('error');
  });
});
