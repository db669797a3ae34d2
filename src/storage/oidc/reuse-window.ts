/**
 * Refresh-token reuse window. The refresh grant consumes (rotates) the presented token before
 * the new one reaches the client; if that response is lost, the client's retry with the old
 * token would look like theft and revoke the whole grant. For `windowSeconds` after the FIRST
 * consumption the token is reported as not consumed, so a retry is accepted; later uses do not
 * move the window. 0 disables the window (strict rotation).
 */
export function withinReuseWindow(firstConsumedAtMs: number, windowSeconds: number, nowMs: number): boolean {
  return windowSeconds > 0 && nowMs < firstConsumedAtMs + windowSeconds * 1000;
}

/** oidc-provider's `consumed` is an epoch time in seconds. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
