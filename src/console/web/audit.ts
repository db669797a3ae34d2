/// <reference lib="dom" />
import type { AuditEventResponse as AuditEvent, AuditPageResponse } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import type { Child } from '../../browser-app/web/dom.ts';
import { h, hashQuery, hasString, render, selectField, showError, t, tableWrap, textField, when } from './ui.ts';

const PAGE = 50;
const FILTERS = ['type', 'user', 'client', 'from', 'to'] as const;
const LIMIT = /^[1-9][0-9]{0,2}$/;

/** The event types, from the admin API's own OpenAPI document (the audit route's `type` enum). */
async function eventTypes(api: AdminApi): Promise<string[]> {
  try {
    const document = await api.get<{ paths: Record<string, { get?: { parameters?: Array<{ name: string; schema?: { enum?: string[] } }> } }> }>('/openapi.json');
    return document.paths['/audit-events']?.get?.parameters?.find((parameter) => parameter.name === 'type')?.schema?.enum ?? [];
  } catch {
    return [];
  }
}

/**
 * The date fields' hint, in the page's language: Chromium writes a `datetime-local` field in the
 * browser's own language (`mm/dd/yyyy` in an English browser), whatever the page's, so an example
 * in that format says which number is the day (31 December, 18:30 as the browser writes it).
 */
const dateHint = (): string =>
  t('audit.field.dateHint', { example: new Intl.DateTimeFormat(navigator.language, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(new Date(2026, 11, 31, 18, 30)) });

/** `datetime-local` speaks local time without a zone; the API wants ISO 8601 with one. */
const toIso = (local: string) => (local === '' ? '' : new Date(local).toISOString());
const toLocal = (iso: string | null) => {
  if (iso === null || iso === '') return '';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

/** An actor's or target's kind in the reader's language ("用户", "客户端"); as the API names it when the console has no word for it. */
const kindName = (type: string) => (hasString(`audit.kind.${type}`) ? t(`audit.kind.${type}`) : type);
export const actorOf = (event: AuditEvent) => event.actor.username ?? event.actor.id ?? kindName(event.actor.type);
export const targetOf = (event: AuditEvent) => (event.target === null ? '—' : `${kindName(event.target.type)} ${event.target.id ?? ''}`.trim());

/**
 * An event type (`client.previous_secret_used`) with a line-break opportunity after each dot and
 * underscore: in a narrow column (a phone's card) it wraps between its words instead of at any
 * letter ("client.previous_secr / et_used").
 */
function eventType(type: string): HTMLElement {
  return h('code', { class: 'event-type' }, ...type.split(/(?<=[._])/).flatMap((part, index) => (index === 0 ? [part] : [h('wbr'), part])));
}

function detail(event: AuditEvent): HTMLElement {
  // The visible summary is one short word; the event type is there for screen readers.
  return h('details', {}, h('summary', {}, t('audit.show'), h('span', { class: 'visually-hidden' }, ` ${event.type}`)), h('pre', { class: 'json' }, JSON.stringify(event, null, 2)));
}

export async function auditPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const query = hashQuery();
  // A page size in the route (#/audit?limit=20) is kept; the API allows up to 500.
  const limit = query.get('limit') ?? '';
  const filters = new URLSearchParams({ limit: LIMIT.test(limit) && Number(limit) <= 500 ? limit : String(PAGE) });
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value !== null && value !== '') filters.set(name, value);
  }
  const [types, first] = await Promise.all([eventTypes(api), api.get<AuditPageResponse>(`/audit-events?${filters.toString()}`)]);

  const formStatus = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'audit-filter-heading', class: 'filters' },
    h('h2', { id: 'audit-filter-heading' }, t('audit.filter.heading')),
    h(
      'div',
      { class: 'grid' },
      selectField('type', t('audit.field.type'), [['', t('audit.anyType')], ...types.map((type) => [type, type] as const)], query.get('type')),
      textField('user', t('audit.field.user'), query.get('user'), { hint: t('audit.field.userHint') }),
      textField('client', t('audit.field.client'), query.get('client')),
      textField('from', t('audit.field.from'), toLocal(query.get('from')), { type: 'datetime-local', hint: dateHint() }),
      textField('to', t('audit.field.to'), toLocal(query.get('to')), { type: 'datetime-local', hint: dateHint() }),
    ),
    h('button', { type: 'submit' }, t('audit.filter.apply')),
    h('a', { href: '#/audit', class: 'button-link' }, t('audit.filter.clear')),
    formStatus,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      let value = String(data.get(name) ?? '').trim();
      if (name === 'from' || name === 'to') value = toIso(value);
      if (value !== '') next.set(name, value);
    }
    location.hash = `#/audit${next.size === 0 ? '' : `?${next.toString()}`}`;
  });

  const columns = [t('audit.col.at'), t('audit.col.type'), t('audit.col.actor'), t('audit.col.client'), t('audit.col.target'), t('audit.col.detail')];
  // Each value carries its column's name: on a phone the table is one card per event (base.css, table.stacked), every value under its name — nothing to scroll to or lose.
  const cell = (i: number, content: Child) => h('td', { 'data-label': columns[i] }, content);
  const body = h('tbody', {});
  const more = h('div', {});
  const moreStatus = h('div', { role: 'status' });
  const append = (events: AuditEvent[], next: string | null) => {
    for (const event of events) {
      body.append(h('tr', {}, cell(0, h('time', { datetime: event.at }, when(event.at))), cell(1, eventType(event.type)), cell(2, actorOf(event)), cell(3, event.client ?? '—'), cell(4, targetOf(event)), cell(5, detail(event))));
    }
    more.replaceChildren();
    if (next === null) return;
    more.append(
      h('button', {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          const page = new URLSearchParams(filters);
          page.set('before', next);
          api.get<AuditPageResponse>(`/audit-events?${page.toString()}`).then(
            (result) => append(result.events, result.next),
            (error: unknown) => showError(null, moreStatus, error, error instanceof ApiError ? error.details : []),
          );
        },
      }, t('audit.older')),
    );
  };
  append(first.events, first.next);
  const list =
    first.events.length === 0
      ? h('p', {}, t('audit.empty'))
      : tableWrap(t('audit.caption'), h('table', { class: 'stacked audit' }, h('caption', { class: 'hint' }, t('audit.caption')), h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', { scope: 'col' }, column)))), body));

  render(root, h('h1', {}, t('audit.heading')), h('section', { class: 'card' }, form), h('section', { class: 'card' }, list, more, moreStatus));
}

/** Events of the last day of one type: for the dashboard (up to the API's page limit). */
export async function recentCount(api: AdminApi, type: string, since: Date): Promise<{ count: number; more: boolean }> {
  const result = await api.get<AuditPageResponse>(`/audit-events?${new URLSearchParams({ type, from: since.toISOString(), limit: '500' }).toString()}`);
  return { count: result.events.length, more: result.next !== null };
}

