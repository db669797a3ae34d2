/** One scope name (RFC 6749 §3.3: printable ASCII without space, `"` and `\`). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** A space-separated list of scope names, as `scope` parameters and client metadata carry them. */
export const SCOPE_LIST = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;
