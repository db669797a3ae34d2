/**
 * Form-urlencodes a value (application/x-www-form-urlencoded, as URLSearchParams writes it: a
 * space is `+`, every character but letters, digits and `*-._` is %-escaped).
 */
function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The `Authorization` header of client_secret_basic: HTTP Basic with the client id and secret
 * each form-urlencoded first (RFC 6749 §2.3.1), so an id or secret holding a `:` (or anything
 * outside the unreserved characters) reaches the server whole. Gatehouse's own ids and secrets
 * are base64url, which the encoding leaves as it is.
 */
export function clientSecretBasic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncoded(clientId)}:${formEncoded(secret)}`).toString('base64')}`;
}
