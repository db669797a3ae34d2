import { createHash, createHmac, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { Configuration } from 'oidc-provider';
import { clientSecretBasic } from './client-auth.ts';

/**
 * A way to watch which key the provider really signs with, through its public token endpoint:
 * a confidential client gets an RFC 9068 JWT access token by client_credentials, signed by
 * the library's own key selection (lib/models/formats/jwt.js → keystore.selectForSign, the
 * same call ID tokens use). The resource indicator picks the alg.
 */
export const PROBE_CLIENT = { id: 'signing-probe', secret: 'signing-probe-secret-0123456789' };
export const PROBE_WEB_CLIENT = { id: 'cookie-probe', redirectUri: 'https://rp.example.com/cb' };
export const PROBE_RESOURCES = { RS256: 'urn:gatehouse:probe:rs256', ES256: 'urn:gatehouse:probe:es256' } as const;

export function withSigningProbe(configuration: Configuration): Configuration {
  return {
    ...configuration,
    clients: [
      {
        client_id: PROBE_CLIENT.id,
        client_secret: PROBE_CLIENT.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: PROBE_WEB_CLIENT.id,
        token_endpoint_auth_method: 'none',
        redirect_uris: [PROBE_WEB_CLIENT.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    features: {
      ...configuration.features,
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => PROBE_RESOURCES.ES256,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => ({
          scope: 'probe',
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: indicator === PROBE_RESOURCES.RS256 ? 'RS256' : 'ES256' } },
        }),
      },
    },
  };
}

export interface ProbedSignature {
  readonly kid: string;
  readonly alg: string;
  readonly jwt: string;
}

/** Asks the running provider for a fresh JWT signed with `alg`; reports its kid. */
export async function probeSigningKey(baseUrl: string, alg: keyof typeof PROBE_RESOURCES): Promise<ProbedSignature> {
  const response = await fetch(`${baseUrl}/token`, {
    method: 'POST',
    headers: {
      authorization: clientSecretBasic(PROBE_CLIENT.id, PROBE_CLIENT.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: PROBE_RESOURCES[alg], scope: 'probe' }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (response.status !== 200 || body.access_token === undefined) {
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  }
  const header = decodeProtectedHeader(body.access_token);
  if (typeof header.kid !== 'string' || header.alg !== alg) throw new Error(`unexpected JWS header ${JSON.stringify(header)}`);
  return { kid: header.kid, alg: header.alg, jwt: body.access_token };
}

/**
 * Starts an authorization request and reports which of `candidates` signed the provider's
 * `_interaction` cookie (cookies/keygrip: HMAC-SHA1 over "name=value", base64url).
 */
export async function probeCookieSigner(baseUrl: string, candidates: readonly string[]): Promise<string | undefined> {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: PROBE_WEB_CLIENT.id,
    response_type: 'code',
    redirect_uri: PROBE_WEB_CLIENT.redirectUri,
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const response = await fetch(`${baseUrl}/auth?${query}`, { redirect: 'manual' });
  const cookies = response.headers.getSetCookie().map((line) => line.split(';')[0]!);
  const value = cookies.find((cookie) => cookie.startsWith('_interaction='));
  const signature = cookies.find((cookie) => cookie.startsWith('_interaction.sig='))?.slice('_interaction.sig='.length);
  if (value === undefined || signature === undefined) throw new Error(`no signed _interaction cookie (status ${response.status})`);
  return candidates.find((key) => createHmac('sha1', key).update(value).digest('base64url') === signature);
}
