/// <reference lib="dom" />
import type { ClaimScopeResponse as ClaimScope } from '../../claims/spec.ts';
import { ApiError, type AdminApi } from './api.ts';
import { checkField, currentLocale, deleteCard, facts, h, isolate, notice, render, selectField, showError, t, table, textField, when, type FieldDetail } from './ui.ts';
import { importMarkFact } from './import-mark.ts';

/**
 * Claim scopes (src/claims/, Keycloak's client scopes with User Attribute and Hardcoded claim
 * mappers): the list with a new one's form, and one scope's page. Everything goes through the
 * admin API (`/claim-scopes`), which validates and audits; a 400 names the control it is about
 * (`mappers.1.claim` is the second mapper's claim field).
 */

type Mapper = ClaimScope['mappers'][number];
type ValueType = (typeof VALUE_TYPES)[number];
type JsonType = (typeof JSON_TYPES)[number];
/** A mapper as the form holds it: what the operator typed, not yet checked. */
interface Draft {
  readonly type: Mapper['type'];
  readonly claim: string;
  readonly attribute: string;
  readonly multivalued: boolean;
  readonly json_type: JsonType;
  readonly valueType: ValueType;
  readonly value: string;
  readonly id_token: boolean;
  readonly access_token: boolean;
  readonly introspection: boolean;
  readonly userinfo: boolean;
}

const details = (error: unknown) => (error instanceof ApiError ? error.details : []);
/** The consent page's languages, each named in itself (as the language picker does). */
const DESCRIPTION_LANGUAGES = [['en', 'English'], ['ru', 'Русский'], ['zh-CN', '简体中文'], ['ko', '한국어']] as const;
const USES = ['id_token', 'access_token', 'introspection', 'userinfo'] as const;
const VALUE_TYPES = ['text', 'number', 'boolean'] as const;
/** A user attribute's claim JSON type (src/claims/json-types.ts; the browser bundle does not import it). */
const JSON_TYPES = ['string', 'long', 'int', 'boolean', 'json'] as const;
const USE_HINTS: Partial<Record<(typeof USES)[number], string>> = { access_token: 'claimScope.mapper.access_tokenHint', introspection: 'claimScope.mapper.introspectionHint' };

const BLANK: Draft = { type: 'user_attribute', claim: '', attribute: '', multivalued: false, json_type: 'string', valueType: 'text', value: '', id_token: true, access_token: true, introspection: true, userinfo: true };

function draftOf(mapper: Mapper): Draft {
  const valueType = typeof mapper.value === 'number' ? 'number' : typeof mapper.value === 'boolean' ? 'boolean' : 'text';
  return { ...mapper, attribute: mapper.attribute ?? '', json_type: mapper.json_type ?? 'string', valueType, value: mapper.value === null ? '' : String(mapper.value) };
}

/** A scope's description in the operator's language, else English, else nothing. */
function descriptionOf(scope: ClaimScope): string | undefined {
  const descriptions = scope.description as Record<string, string | undefined>;
  return descriptions[currentLocale()] ?? descriptions.en;
}

/** One mapper's controls; their ids follow the API's paths (f-mappers.0.claim). */
function mapperFieldset(mapper: Draft, index: number, remove: () => void): HTMLElement {
  const at = (name: string) => `mappers.${index}.${name}`;
  const n = index + 1;
  const attributePart = h(
    'div',
    { class: 'mapper-part' },
    textField(at('attribute'), t('claimScope.mapper.attribute'), mapper.attribute, { hint: t('claimScope.mapper.attributeHint') }),
    checkField(at('multivalued'), t('claimScope.mapper.multivalued'), mapper.multivalued),
    selectField(at('json_type'), t('claimScope.mapper.json_type'), JSON_TYPES.map((type) => [type, t(`claimScope.mapper.jsonType.${type}`)] as const), mapper.json_type),
    h('p', { class: 'hint' }, t('claimScope.mapper.jsonTypeHint')),
  );
  const hardcodedPart = h(
    'div',
    { class: 'mapper-part' },
    selectField(at('value_type'), t('claimScope.mapper.value_type'), VALUE_TYPES.map((type) => [type, t(`claimScope.mapper.valueType.${type}`)] as const), mapper.valueType),
    textField(at('value'), t('claimScope.mapper.value'), mapper.value),
  );
  const typeField = selectField(at('type'), t('claimScope.mapper.type'), [['user_attribute', t('claimScope.mapper.user_attribute')], ['hardcoded', t('claimScope.mapper.hardcoded')]], mapper.type);
  const typeSelect = typeField.querySelector('select')!;
  const showType = () => {
    attributePart.hidden = typeSelect.value !== 'user_attribute';
    hardcodedPart.hidden = typeSelect.value !== 'hardcoded';
  };
  typeSelect.addEventListener('change', showType);
  showType();
  return h(
    'fieldset',
    { 'data-mapper': String(index) },
    h('legend', {}, t('claimScope.mapper.legend', { n })),
    typeField,
    textField(at('claim'), t('claimScope.mapper.claim'), mapper.claim, { required: true, hint: t('claimScope.mapper.claimHint') }),
    attributePart,
    hardcodedPart,
    ...USES.map((use) => {
      const hint = USE_HINTS[use];
      return checkField(at(use), t(`claimScope.mapper.${use}`), mapper[use], hint === undefined ? undefined : t(hint));
    }),
    h('button', { type: 'button', class: 'secondary', onclick: remove }, t('claimScope.mapper.remove', { n })),
  );
}

/** The mappers as the form has them now. */
function drafts(form: HTMLFormElement): Draft[] {
  return [...form.querySelectorAll<HTMLFieldSetElement>('fieldset[data-mapper]')].map((fieldset) => {
    const index = fieldset.dataset.mapper!;
    const control = (name: string) => fieldset.querySelector<HTMLInputElement>(`#${CSS.escape(`f-mappers.${index}.${name}`)}`)!;
    return {
      type: control('type').value as Mapper['type'],
      claim: control('claim').value.trim(),
      attribute: control('attribute').value.trim(),
      multivalued: control('multivalued').checked,
      json_type: control('json_type').value as JsonType,
      valueType: control('value_type').value as ValueType,
      value: control('value').value,
      id_token: control('id_token').checked,
      access_token: control('access_token').checked,
      introspection: control('introspection').checked,
      userinfo: control('userinfo').checked,
    };
  });
}

/** A hardcoded value of the type chosen, or the problem with it (said here: the API would only see a text). */
function typedValue(draft: Draft): { value: string | number | boolean } | { problem: string } {
  const text = draft.value.trim();
  if (draft.valueType === 'number') {
    const number = Number(text);
    return text !== '' && Number.isFinite(number) ? { value: number } : { problem: t('claimScope.mapper.notNumber') };
  }
  if (draft.valueType === 'boolean') return text === 'true' || text === 'false' ? { value: text === 'true' } : { problem: t('claimScope.mapper.notBoolean') };
  return { value: draft.value };
}

/**
 * The form shared by the new scope and a scope's page: its name (new only), the consent text per
 * language and the mappers. `submit` gets the request body; the form shows its problems.
 */
function scopeForm(options: { heading: string; headingId: string; scope?: ClaimScope; button: string; submit: (body: Record<string, unknown>) => Promise<void> }): HTMLFormElement {
  const { scope } = options;
  const status = h('div', { role: 'status' });
  const mappers = h('div', { class: 'mappers' });
  const descriptions = (scope?.description ?? {}) as Record<string, string | undefined>;
  const form = h(
    'form',
    { 'aria-labelledby': options.headingId },
    h('h2', { id: options.headingId }, options.heading),
    scope === undefined ? textField('name', t('claimScope.field.name'), '', { required: true, hint: t('claimScope.field.nameHint') }) : null,
    h(
      'fieldset',
      {},
      h('legend', {}, t('claimScope.descriptions')),
      h('p', { class: 'hint' }, t('claimScope.descriptionsHint')),
      ...DESCRIPTION_LANGUAGES.map(([locale, language]) => {
        const field = textField(`description.${locale}`, t('claimScope.field.description', { language }), descriptions[locale]);
        field.querySelector('input')!.lang = locale;
        return field;
      }),
    ),
    h('h3', {}, t('claimScope.mappers')),
    h('p', { class: 'hint' }, t('claimScope.mappersHint')),
    mappers,
    h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => draw([...drafts(form), BLANK], true) }, t('claimScope.mapper.add'))),
    h('button', { type: 'submit' }, options.button),
    status,
  ) as HTMLFormElement;

  /** Draws the mapper fieldsets again (after one is added or removed: their numbers follow). */
  function draw(list: readonly Draft[], focusLast = false): void {
    mappers.replaceChildren(
      ...(list.length === 0 ? [h('p', { class: 'none' }, t('claimScope.mappersEmpty'))] : []),
      ...list.map((draft, index) => mapperFieldset(draft, index, () => draw(drafts(form).filter((_, other) => other !== index)))),
    );
    if (focusLast) mappers.querySelector<HTMLElement>('fieldset[data-mapper]:last-of-type select')?.focus();
  }
  draw((scope?.mappers ?? []).map(draftOf));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const description = Object.fromEntries(DESCRIPTION_LANGUAGES.map(([locale]) => [locale, String(data.get(`description.${locale}`) ?? '').trim()]).filter(([, text]) => text !== ''));
    const problems: FieldDetail[] = [];
    const body: Record<string, unknown> = {
      ...(scope === undefined ? { name: String(data.get('name') ?? '').trim() } : {}),
      description,
      mappers: drafts(form).map((draft, index) => {
        const uses = { id_token: draft.id_token, access_token: draft.access_token, introspection: draft.introspection, userinfo: draft.userinfo };
        if (draft.type === 'user_attribute') return { type: draft.type, claim: draft.claim, attribute: draft.attribute, multivalued: draft.multivalued, json_type: draft.json_type, ...uses };
        const typed = typedValue(draft);
        if ('problem' in typed) problems.push({ path: `mappers.${index}.value`, message: typed.problem });
        return { type: draft.type, claim: draft.claim, value: 'value' in typed ? typed.value : null, ...uses };
      }),
    };
    if (problems.length > 0) return showError(form, status, undefined, problems);
    options.submit(body).catch((error: unknown) => showError(form, status, error, details(error)));
  });
  return form;
}

export async function claimScopeListPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const scopes = await api.get<ClaimScope[]>('/claim-scopes');
  const list =
    scopes.length === 0
      ? h('p', {}, t('claimScopes.empty'))
      : table(
          t('claimScopes.heading'),
          [t('claimScopes.col.name'), t('claimScopes.col.claims'), [t('claimScopes.col.description'), 'optional']],
          scopes.map((scope) => {
            const description = descriptionOf(scope);
            return [
              h('a', { href: `#/claim-scopes/${encodeURIComponent(scope.name)}` }, scope.name),
              scope.mappers.length === 0 ? h('span', { class: 'none' }, '—') : scope.mappers.map((mapper) => mapper.claim).join(', '),
              description === undefined ? h('span', { class: 'none' }, '—') : isolate(description),
            ];
          }),
          { labelledBy: 'page-heading' },
        );
  const form = scopeForm({
    heading: t('claimScopes.new.heading'),
    headingId: 'new-claim-scope-heading',
    button: t('claimScopes.new.create'),
    submit: async (body) => {
      const created = await api.post<ClaimScope>('/claim-scopes', body);
      location.hash = `#/claim-scopes/${encodeURIComponent(created.name)}`;
    },
  });
  render(root, h('h1', { id: 'page-heading' }, t('claimScopes.heading')), h('p', {}, t('claimScopes.text')), h('section', { class: 'card' }, list), h('section', { class: 'card' }, form));
}

export async function claimScopePage(root: HTMLElement, api: AdminApi, name: string, message?: string): Promise<void> {
  const path = `/claim-scopes/${encodeURIComponent(name)}`;
  const scope = await api.get<ClaimScope>(path);
  const form = scopeForm({
    heading: t('claimScope.edit.heading'),
    headingId: 'claim-scope-edit-heading',
    scope,
    button: t('claimScope.save'),
    submit: async (body) => {
      await api.patch<ClaimScope>(path, body);
      await claimScopePage(root, api, name, t('claimScope.saved'));
    },
  });
  const deletion = deleteCard({
    id: 'claim-scope-delete',
    heading: t('claimScope.delete.heading'),
    text: t('claimScope.delete.text'),
    button: t('claimScope.delete.button'),
    confirm: t('claimScope.delete.confirm', { name }),
    remove: () => api.delete(path),
    back: '#/claim-scopes',
    details,
  });
  render(
    root,
    h('p', {}, h('a', { href: '#/claim-scopes' }, t('claimScope.back'))),
    h('h1', {}, t('claimScope.heading', { name })),
    message === undefined ? null : notice(message),
    h('section', { class: 'card' }, facts([[t('claimScopes.col.name'), h('code', {}, scope.name)], [t('claimScope.updated'), when(scope.updated_at)], ...importMarkFact(scope.imported_from)])),
    h('section', { class: 'card' }, form),
    deletion,
  );
}
