import { createPrivateKey } from 'node:crypto';
import { CliError } from './cli-error.ts';

/**
 * `--private-key-stdin`: the private key an upstream provider's `private_key_jwt` signs with, as
 * a private JWK (JSON) or a PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, PKCS#1 `BEGIN RSA
 * PRIVATE KEY`, SEC1 `BEGIN EC PRIVATE KEY` — what `openssl genpkey` and most providers' consoles
 * hand out). A PEM key is turned into a JWK here; the admin API takes JWKs only.
 */

const PEM_BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----/;
const PEM_END = /^-----END ([A-Z0-9 ]+)-----\s*$/m;

/**
 * Typed at a terminal, a key spans several lines: it is complete at the PEM's END line, or once
 * the JSON parses. Anything else ends at the first Enter (and is refused as it is).
 */
export function privateKeyComplete(text: string): boolean {
  const start = text.trimStart();
  if (start === '') return false;
  if (PEM_BEGIN.test(start)) return PEM_END.test(start);
  if (start.startsWith('{')) {
    try {
      JSON.parse(start);
      return true;
    } catch {
      return false;
    }
  }
  return true;
}

/** The JWK the admin API takes, from what was piped in or typed; refuses (exit code 2) anything else. */
export function privateKeyJwk(raw: string): unknown {
  const text = raw.trim();
  const pem = PEM_BEGIN.exec(text);
  if (pem !== null) {
    if (!/PRIVATE KEY$/.test(pem[1]!) || pem[1] === 'ENCRYPTED PRIVATE KEY') {
      throw new CliError(`--private-key-stdin: a ${pem[1]!.toLowerCase()} PEM is not an unencrypted private key (decrypt it first: openssl pkey -in key.pem)`, 2);
    }
    try {
      return createPrivateKey({ key: text, format: 'pem' }).export({ format: 'jwk' });
    } catch {
      throw new CliError('--private-key-stdin: the PEM private key could not be read (RSA, EC or Ed25519 keys in PKCS#8, PKCS#1 or SEC1 form are)', 2);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError('--private-key-stdin: standard input must be a private JWK (JSON) or a PEM private key', 2);
  }
}
