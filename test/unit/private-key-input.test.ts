import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { CliError } from '../../src/cli/cli-error.ts';
import { privateKeyComplete, privateKeyJwk } from '../../src/cli/private-key-input.ts';

describe('--private-key-stdin input (a JWK or a PEM private key)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const refused = (raw: string): string => {
    try {
      privateKeyJwk(raw);
    } catch (error) {
      expect(error).to.be.instanceOf(CliError);
      expect((error as CliError).exitCode).to.equal(2);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('turns PKCS#8 and PKCS#1 PEM keys into the private JWK the admin API takes; a JWK passes as it is', () => {
    const expected = rsa.privateKey.export({ format: 'jwk' });
    expect(privateKeyJwk(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).to.deep.equal(expected);
    expect(privateKeyJwk(`\n${rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()}\n`)).to.deep.equal(expected);
    expect(privateKeyJwk(JSON.stringify(expected))).to.deep.equal(expected);
  });

  it('refuses a public key, an encrypted key and anything else, saying what it takes', () => {
    expect(refused(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString())).to.match(/public key PEM is not an unencrypted private key/);
    const encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString();
    expect(refused(encrypted)).to.match(/encrypted private key PEM .*openssl pkey/);
    expect(refused('-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----')).to.match(/could not be read/);
    expect(refused('hunter2')).to.match(/a private JWK \(JSON\) or a PEM private key/);
  });

  it('typed at a terminal, a key is complete at its PEM END line or once its JSON parses', () => {
    expect(privateKeyComplete('')).to.equal(false);
    expect(privateKeyComplete('-----BEGIN PRIVATE KEY-----\nabc')).to.equal(false);
    expect(privateKeyComplete('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----')).to.equal(true);
    expect(privateKeyComplete('{"kty": "EC",')).to.equal(false);
    expect(privateKeyComplete('{"kty": "EC", "d": "x"}')).to.equal(true);
    expect(privateKeyComplete('not a key')).to.equal(true);
  });
});
