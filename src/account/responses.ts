import type { OwnAccountOperations } from '../operations/own-account.ts';

/**
 * The account API's response bodies as types, taken from the operations that build them
 * (src/account/api.ts), so the account page cannot drift from them: its browser code imports
 * these with `import type`, erased when it is compiled (test/unit/browser-modules.test.ts).
 */

/** What an operation resolves to. */
type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

export type ProfileResponse = Result<OwnAccountOperations['profile']>;
export type SessionResponse = Result<OwnAccountOperations['sessions']>[number];
export type AppResponse = Result<OwnAccountOperations['apps']>[number];
export type FactorsResponse = Result<OwnAccountOperations['factors']>;
export type UpstreamLinksResponse = Result<OwnAccountOperations['upstreamLinks']>;
