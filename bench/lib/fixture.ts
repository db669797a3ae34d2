import type { PrivateJwk } from '../../src/keys/generate.ts';

/** What the seeder hands to the loader and to the reference server (kept under .data/, never committed). */
export interface BenchClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: string[];
  readonly grant_types: string[];
  readonly response_types: string[];
  readonly token_endpoint_auth_method: 'client_secret_basic';
  /** Gatehouse's allowed_apis / default_api, applied by the reference through its own hooks. */
  readonly allowed_apis: string[];
  readonly default_api?: string;
}

export interface BenchApi {
  readonly identifier: string;
  readonly scopes: string[];
  readonly format: 'jwt' | 'opaque';
  readonly alg: 'RS256' | 'ES256';
}

export interface BenchUser {
  readonly username: string;
  readonly password: string;
}

export interface Fixture {
  /** The signing keys Gatehouse generated, in its signing preference order. */
  readonly jwks: PrivateJwk[];
  readonly apis: Record<'rs256' | 'es256' | 'opaque', BenchApi>;
  readonly clients: Record<'rs256' | 'es256' | 'opaque' | 'web', BenchClient>;
  /** Hashed at the configured (OWASP) parameters: scenario (f). */
  readonly users: BenchUser[];
  /** Hashed at cheap parameters, for the 10,000-session storage scenario (g). */
  readonly storageUsers: BenchUser[];
}

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const SIGN_IN_SCOPE = 'openid profile email';

export function basicAuth(client: BenchClient): string {
  const encode = (value: string) => encodeURIComponent(value);
  return `Basic ${Buffer.from(`${encode(client.client_id)}:${encode(client.client_secret)}`).toString('base64')}`;
}
