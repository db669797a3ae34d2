import { decodeProtectedHeader } from 'jose';
import type { Configuration } from 'oidc-provider';

/**
 * A way to watch which key the provider really signs with, through its public token endpoint:
 * a confidential client gets an RFC 9068 JWT access token by client_credentials, signed by
 * the library's own key selection (lib/models/formats/jwt.js → keystore.selectForSign, the
 * same call ID tokens use). The resource indicator picks the alg.
 */
export const PROBE_CLIENT = { id: 'signing-probe', secret: 'signing-probe-secret-0123456789' };
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
      authorization: `Basic ${Buffer.from(`${PROBE_CLIENT.id}:${PROBE_CLIENT.secret}`).toString('base64')}`,
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
