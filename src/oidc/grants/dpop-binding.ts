// The one deep import of oidc-provider in Gatehouse. The library checks DPoP proofs for its own
// grants through helpers it hands only to them; a grant added with registerGrantType gets the
// context alone and no public way to read the request's proof. Checking proofs ourselves would
// mean a second implementation of RFC 9449 (nonces from the library's secret, replay, htu) that
// could drift from the one /token already uses, so the library's own validator is called here.
// Pinned by test/e2e/token-exchange.test.ts (a bound subject, a wrong key, a new bound token) and
// test/e2e/password-grant.test.ts (a bound token, a malformed and a replayed proof).
import validateDpop, { checkDpopReplay, type DpopProof } from 'oidc-provider/lib/helpers/validate_dpop.js';
import { errors, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { invalidGrant } from './invalid-grant.ts';

export type { DpopProof };

/** The request's DPoP proof, checked as at the library's grants (invalid_dpop_proof / use_dpop_nonce), if it carries one. */
export async function requestProof(ctx: KoaContextWithOIDC): Promise<DpopProof | undefined> {
  const proof = await validateDpop(ctx.oidc.provider, ctx);
  // Like the library's grants for a client registered with dpop_bound_access_tokens.
  if (proof === undefined && (ctx.oidc.client as { dpopBoundAccessTokens?: boolean } | undefined)?.dpopBoundAccessTokens === true) {
    throw invalidGrant('DPoP proof JWT not provided');
  }
  return proof;
}

/**
 * A presented token bound to a DPoP key is only good with a proof made with that key: otherwise
 * whoever holds a copy of the token (the next service, a log) could trade it for a bearer token.
 */
export function assertPossession(label: 'subject_token' | 'actor_token', token: AdapterPayload, proof: DpopProof | undefined): void {
  if (typeof token.jkt === 'string' && proof?.thumbprint !== token.jkt) {
    throw invalidGrant(`${label} is bound to a DPoP key: the request must carry a DPoP proof made with that key`);
  }
}

/** The library's replay refusal, with its reason as error_description (see invalid-grant.ts). */
class ReplayedProof extends errors.InvalidGrant {
  constructor(description: string) {
    super(description);
    Object.assign(this, { error_description: description });
  }
}

/** Spends the proof's jti: a proof seen before is refused (invalid_grant), as at the library's grants. */
export async function spendProof(ctx: KoaContextWithOIDC, proof: DpopProof | undefined): Promise<void> {
  if (proof === undefined) return;
  await checkDpopReplay(ctx.oidc.provider, ctx, proof, ctx.oidc.client!.clientId, ReplayedProof);
}

/** Binds the new token to the proof's key (its jti spent), as the library's grants do. */
export async function bindToProof(ctx: KoaContextWithOIDC, proof: DpopProof | undefined, token: { setThumbprint(prop: 'jkt', input: string): void }): Promise<void> {
  if (proof === undefined) return;
  await spendProof(ctx, proof);
  token.setThumbprint('jkt', proof.thumbprint);
}
