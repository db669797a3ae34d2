/// <reference lib="dom" />
/** Applications as a user's page lists them (sessions, grants, consents): by name, their client id beside. */
import type { ClientResponse as Client } from '../../admin/responses.ts';
import type { AdminApi } from './api.ts';
import { h, hasString, t } from './ui.ts';

export type AppNames = ReadonlyMap<string, string>;

/**
 * The names of the apps `ids` name, each read once (GET /clients/:id). An app deleted since — or
 * one that cannot be read just now — has none: the page shows its id rather than fail.
 */
export async function appNames(api: AdminApi, ids: Iterable<string>): Promise<AppNames> {
  const unique = [...new Set(ids)];
  const names = await Promise.all(unique.map((id) => api.get<Client>(`/clients/${encodeURIComponent(id)}`).then((client) => client.name, () => undefined)));
  return new Map(unique.flatMap((id, index) => (names[index] === undefined ? [] : [[id, names[index]] as const])));
}

/** An app's name in the operator's words: Gatehouse's own (the console, the account page) in their language. */
export function appName(id: string, names: AppNames): string | undefined {
  const builtIn = `app.builtIn.${id}`;
  return hasString(builtIn) ? t(builtIn) : names.get(id);
}

/** The app's name, a link to its page (whole in its title), over its client id in small type; an app deleted since by its id alone. */
export function appLabel(id: string, names: AppNames): HTMLElement {
  const name = appName(id, names);
  if (name === undefined) return h('code', {}, id);
  return h('span', { class: 'app' }, h('a', { href: `#/clients/${encodeURIComponent(id)}`, title: name }, name), ' ', h('code', { class: 'client-id' }, id));
}
