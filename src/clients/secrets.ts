import { randomBytes } from 'node:crypto';

/** 256 random bits, base64url: the same strength as the keys that protect them. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * 128 random bits, base64url, never starting with '-': a leading '-' (1 id in 64) makes command
 * lines read the id as an option (`gatehouse clients show -Ab…`). Such draws are thrown away and
 * drawn again, which keeps the others uniformly distributed.
 */
export function generateClientId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

const PUBLIC_AUTH_METHODS = new Set(['none', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']);

/** Whether a client authenticates with a shared secret (oidc-provider's default method does). */
export function usesSecret(metadata: Record<string, unknown>): boolean {
  const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  return typeof method === 'string' && !PUBLIC_AUTH_METHODS.has(method);
}
