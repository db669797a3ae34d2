import type { UpstreamProvider } from './directory.ts';

/** Whether a client may use a provider: enabled, and visible to every client or to this one. */
export function usable(provider: UpstreamProvider | undefined, clientId: unknown): boolean {
  return provider !== undefined && provider.enabled && (provider.clients === null || (typeof clientId === 'string' && provider.clients.includes(clientId)));
}
