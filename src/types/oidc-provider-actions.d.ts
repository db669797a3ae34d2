// Types for the library's introspection and revocation actions and their structured-token check (src/oidc/opaque-token-check.ts says why Gatehouse reaches them).
declare module 'oidc-provider/lib/actions/introspection.js' {
  /** The introspection endpoint's middleware, in order (a Provider spreads it into its router when built). */
  const steps: unknown[];
  export default steps;
}
declare module 'oidc-provider/lib/actions/revocation.js' {
  /** The revocation endpoint's middleware, in order (a Provider spreads it into its router when built). */
  const steps: unknown[];
  export default steps;
}
declare module 'oidc-provider/lib/shared/reject_structured_tokens.js' {
  /** Refuses a token jose's decodeProtectedHeader decodes (a JWT) with unsupported_token_type. */
  export default function rejectStructuredTokens(ctx: unknown, next: () => Promise<void>): Promise<void>;
}
