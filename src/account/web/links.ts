/// <reference lib="dom" />
import type { UpstreamLinksResponse as UpstreamLinks } from '../responses.ts';
import { card, problem, type Section } from './common.ts';
import { alertBox, confirmed, h, notice, stackedTable, t, when } from './ui.ts';

const OUTCOMES = new Set(['linked', 'already', 'taken', 'domain', 'disabled', 'denied', 'failed', 'unreachable', 'state', 'expired', 'not_allowed']);

/**
 * The outcome of a "Connect <provider>" the upstream leg sent back in the fragment
 * (`#/security?upstream=linked&provider=corp`), said once: the fragment is cleaned up.
 */
export function connectOutcome(links: UpstreamLinks): HTMLElement | undefined {
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const outcome = query.get('upstream');
  if (outcome === null || !OUTCOMES.has(outcome)) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.search}#/security`);
  const alias = query.get('provider') ?? '';
  const name = links.links.find((link) => link.provider === alias)?.display_name ?? links.available.find((option) => option.provider === alias)?.display_name ?? alias;
  const text = t(`links.outcome.${outcome}`, { provider: name });
  return outcome === 'linked' || outcome === 'already' ? notice(text) : alertBox(text);
}

/** "Sign-in methods": the upstream accounts linked to this one, "Connect" for the others, "Remove". */
export function linksCard(section: Section, links: UpstreamLinks, again: (shown?: HTMLElement) => void): HTMLElement {
  const status = h('div', { role: 'status' });
  const rows = links.links.map((link) => {
    const remove = confirmed(
      t('links.remove'),
      t('links.remove.confirm', { provider: link.display_name }),
      () =>
        void section.api
          .delete(`/upstream-links/${encodeURIComponent(link.provider)}/${encodeURIComponent(link.subject)}`)
          .then(() => again(notice(t('links.removed', { provider: link.display_name }))), (error: unknown) => status.replaceChildren(problem(section, error))),
      { 'aria-label': t('links.remove.label', { provider: link.display_name }) },
    );
    return { attributes: { 'data-link': link.provider }, cells: [link.display_name, link.label ?? t('links.noLabel'), when(link.linked_at), remove] };
  });
  const table =
    rows.length === 0
      ? h('p', {}, t('links.none'))
      : stackedTable(t('links.caption'), [{ label: t('links.col.provider') }, { label: t('links.col.account') }, { label: t('links.col.linked') }, { label: t('links.col.actions'), kind: 'actions' }], rows);
  const connect = links.available.map((option) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-connect': option.provider,
        onclick: () =>
          void section.api.post<{ url: string }>(`/upstream-links/${encodeURIComponent(option.provider)}`).then(
            (started) => location.assign(started.url),
            (error: unknown) => status.replaceChildren(problem(section, error)),
          ),
      },
      t('links.connect', { provider: option.display_name }),
    ),
  );
  return card(
    'links-heading',
    t('links.heading'),
    h('p', { class: 'hint' }, t(links.has_password ? 'links.text' : 'links.text.noPassword')),
    table,
    connect.length === 0 ? null : h('p', { class: 'actions' }, ...connect),
    status,
  );
}
