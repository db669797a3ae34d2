import { expect } from 'chai';
import { ferretDbV1 } from '../../src/storage/server-kind.ts';

describe('which MongoDB-wire server answers (buildInfo)', () => {
  it('FerretDB v1 names its own version; MongoDB and later FerretDB do not count as v1', () => {
    expect(ferretDbV1({ version: '7.0.42', ferretdbVersion: 'v1.24.2' })).to.equal(true);
    expect(ferretDbV1({ version: '7.0.77', ferretdbVersion: 'v2.1.0' })).to.equal(false);
    expect(ferretDbV1({ version: '8.0.4', gitVersion: 'abc' })).to.equal(false);
  });
});
