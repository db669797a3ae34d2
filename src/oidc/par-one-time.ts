import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AfterResponseStep } from './after-response.ts';

interface SavedInteraction {
  parJti?: string | undefined;
  readonly remainingTTL: number;
  save(ttl: number): Promise<string>;
}

/**
 * After the response (src/oidc/after-response.ts), at authorization: a pushed request_uri is one-time (RFC 9126 §4). The
 * library consumes it only when the authorization response is sent, so until the user finishes
 * signing in, every /auth with the same request_uri starts another flow. Here the first /auth
 * that starts an interaction consumes it (the adapters' consume is atomic: of two racing
 * requests one wins) and the interaction forgets it, so that flow still completes; any later
 * /auth with it gets `invalid_request_uri` from the library.
 */
export const consumePushedRequestOnFirstUse: AfterResponseStep = { routes: ['authorization'], after: consumeOnFirstUse };

async function consumeOnFirstUse(ctx: KoaContextWithOIDC): Promise<void> {
  const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
  if (oidc?.route !== 'authorization') return;
  const pushed = oidc.entities.PushedAuthorizationRequest;
  const interaction = oidc.entities.Interaction as unknown as SavedInteraction | undefined;
  if (pushed === undefined || interaction === undefined || interaction.parJti !== pushed.jti) return;
  try {
    await pushed.consume();
  } catch {
    // Lost a race with another request for the same request_uri: this interaction keeps the
    // reference and the library refuses it when the flow ends.
    return;
  }
  interaction.parJti = undefined;
  await interaction.save(Math.max(1, interaction.remainingTTL));
}
