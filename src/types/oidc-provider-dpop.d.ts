// Types for the one oidc-provider internal Gatehouse imports (src/oidc/grants/dpop-binding.ts says why).
declare module 'oidc-provider/lib/helpers/validate_dpop.js' {
  import type { KoaContextWithOIDC } from 'oidc-provider';

  export interface DpopProof {
    readonly thumbprint: string;
    readonly jti: string;
    readonly iat: number;
  }
  type ErrorClass = new (description: string) => Error;
  /** The request's DPoP proof checked (signature, typ, alg, htm, htu, iat or nonce), or undefined without a DPoP header. */
  export default function validateDpop(provider: KoaContextWithOIDC['oidc']['provider'], ctx: KoaContextWithOIDC): Promise<DpopProof | undefined>;
  /** Refuses a proof whose jti was seen before (ReplayDetection). */
  export function checkDpopReplay(provider: KoaContextWithOIDC['oidc']['provider'], ctx: KoaContextWithOIDC, proof: DpopProof, clientId: string, error?: ErrorClass): Promise<void>;
}
