import { errors, type KoaContextWithOIDC } from 'oidc-provider';
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
 *
 * A consume the store did not answer is no lost race: the request answers 503 + Retry-After (the
 * redirect to the interaction dropped), and the request_uri is left as the store has it —
 * normally unconsumed, so the client's retry starts the flow and consumes it then; if the consume
 * landed and only its answer was lost, the retry gets `invalid_request_uri` (fail closed: push
 * again). The interaction made for the failed request keeps the reference and is never reached
 * (its address went with the redirect); were it resumed, the library would refuse the used
 * request_uri at its end. docs/STORAGE.md, *Atomic single use*.
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
  } catch (error) {
    // Lost a race with another request for the same request_uri (the adapters' refusal,
    // src/storage/oidc/single-use.ts): this interaction keeps the reference and the library
    // refuses it when the flow ends.
    if (error instanceof errors.InvalidRequestUri) return;
    // A store outage (503 from the error boundary), or a failure nothing says more about (500).
    throw error;
  }
  interaction.parJti = undefined;
  await interaction.save(Math.max(1, interaction.remainingTTL));
}
