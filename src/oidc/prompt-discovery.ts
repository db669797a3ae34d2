import type { AfterResponseStep } from './after-response.ts';

/**
 * Discovery's `prompt_values_supported` comes from the interaction policy, fixed when the
 * provider is built; a prompt that a runtime setting turns on and off (`create` with
 * self-registration) is left out while it is off, so apps only see what they may ask for.
 */
export function listPromptWhileOn(prompt: string, isOn: () => Promise<boolean>): AfterResponseStep {
  // After the response (src/oidc/after-response.ts), at discovery.
  return {
    routes: ['discovery'],
    async after(ctx) {
      if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'discovery' || ctx.status !== 200) return;
      const body = ctx.body as { prompt_values_supported?: unknown } | undefined;
      const listed = body?.prompt_values_supported;
      if (!Array.isArray(listed) || !listed.includes(prompt) || (await isOn())) return;
      ctx.body = { ...body, prompt_values_supported: listed.filter((value) => value !== prompt) };
    },
  };
}
