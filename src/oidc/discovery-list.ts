import type { AfterResponseStep } from './after-response.ts';

/** A discovery list whose entries are fixed when the provider is built. */
export type DiscoveryList = 'grant_types_supported' | 'prompt_values_supported';

/**
 * Discovery's lists come from the provider's configuration, fixed when it is built; a value that
 * a runtime setting turns on and off (an opt-in grant no client may use yet, `prompt=create`
 * while self-registration is off) is left out of `field` while `isOn` answers no, so apps only
 * see what they may use. `isOn` is asked only when the value is listed.
 */
export function listWhileOn(field: DiscoveryList, value: string, isOn: () => Promise<boolean>): AfterResponseStep {
  // After the response (src/oidc/after-response.ts), at discovery.
  return {
    routes: ['discovery'],
    async after(ctx) {
      if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'discovery' || ctx.status !== 200) return;
      const body = ctx.body as Record<string, unknown> | undefined;
      const listed = body?.[field];
      if (!Array.isArray(listed) || !listed.includes(value) || (await isOn())) return;
      ctx.body = { ...body, [field]: listed.filter((entry) => entry !== value) };
    },
  };
}
