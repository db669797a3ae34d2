import { createRequire } from 'node:module';
import type * as OidcProvider from 'oidc-provider';

const load = createRequire(import.meta.url);

/**
 * oidc-provider, loaded by the first call instead of by importing the caller. For modules the
 * CLI's commands load too — the storage adapters, client metadata, the registration audit — that
 * need the library only while it serves OAuth: a command that only works on the database
 * (`gatehouse users list`) then never loads its ~180 modules (test/integration/cli-start-loads.test.ts).
 * In the server the library is loaded already, and require() of an ES module returns the module
 * `import` gave (Node >= 22.12, no warning from 22.13): the errors made here are the classes the
 * library's own `instanceof` checks and error answers know.
 */
export function oidcLibrary(): typeof OidcProvider {
  return load('oidc-provider') as typeof OidcProvider;
}
