/// <reference lib="dom" />
import type { UserResponse as User } from '../../admin/responses.ts';
import type { AdminApi } from './api.ts';
import { ApiError } from './api.ts';
import { areaField, h, problemMessage, showError, t, type FieldDetail } from './ui.ts';

type Value = string | readonly string[];

/** The attributes as lines of the form: `NAME=VALUE`, a list as one line per value (`NAME[]=VALUE` for a list of one). */
export function attributeLines(attributes: Readonly<Record<string, Value>>): string {
  return Object.entries(attributes)
    .flatMap(([name, value]) => (typeof value === 'string' ? [`${name}=${value}`] : value.length === 1 ? [`${name}[]=${value[0]}`] : value.map((entry) => `${name}=${entry}`)))
    .join('\n');
}

/**
 * The change the lines make to `before` (PATCH /users/{id} `attributes`): a name repeated is a list,
 * a name gone is removed (null), an unchanged one is left out. A line without `=` is kept as a name
 * with no value, which the API refuses naming the attribute (attributes.NAME).
 */
export function attributePatch(before: Readonly<Record<string, Value>>, text: string): Record<string, Value | null> {
  const lists = new Map<string, string[]>();
  const asList = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const equals = line.indexOf('=');
    let name = (equals < 0 ? line : line.slice(0, equals)).trim();
    const value = equals < 0 ? '' : line.slice(equals + 1);
    if (name.endsWith('[]')) {
      name = name.slice(0, -2);
      asList.add(name);
    }
    lists.set(name, [...(lists.get(name) ?? []), value]);
  }
  const patch: Record<string, Value | null> = {};
  // Defined, not assigned: `__proto__` stays a member the API refuses by name instead of becoming the patch's prototype.
  const set = (name: string, value: Value | null) => Object.defineProperty(patch, name, { value, enumerable: true, writable: true, configurable: true });
  for (const name of Object.keys(before)) if (!lists.has(name)) set(name, null);
  for (const [name, values] of lists) {
    const value = values.length === 1 && !asList.has(name) ? values[0]! : values;
    if (JSON.stringify(value) !== JSON.stringify(Object.hasOwn(before, name) ? before[name] : undefined)) set(name, value);
  }
  return patch;
}

/**
 * The API's problems with the attributes, each said of the attribute it names: `attributes.dept`
 * (or `attributes.langs.1`) becomes the box's problem `dept: …` — the box is one control, and its
 * problem alone would not say which line is wrong. `say` words a problem (problemMessage).
 */
export function attributeDetails(details: readonly FieldDetail[], say: (detail: FieldDetail) => string, entry: (name: string, message: string) => string): FieldDetail[] {
  return details.map((detail) => {
    const name = detail.path.startsWith('attributes.') ? detail.path.slice('attributes.'.length) : undefined;
    return name === undefined ? detail : { path: 'attributes', message: entry(name, say(detail)) };
  });
}

/** The user page's custom attributes (operator data: never on the user's own account page). */
export function attributesForm(api: AdminApi, path: string, user: User, again: (text: string) => void): HTMLElement {
  const status = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'attributes-heading' },
    h('h2', { id: 'attributes-heading' }, t('user.attributes.heading')),
    h('p', { class: 'hint' }, t('user.attributes.text')),
    areaField('attributes', t('user.attributes.field'), attributeLines(user.attributes), t('user.attributes.hint')),
    h('button', { type: 'submit' }, t('user.attributes.save')),
    status,
  ) as HTMLFormElement;
  // Tall enough to show every attribute without scrolling inside the box.
  const area = form.querySelector('textarea');
  if (area !== null) area.rows = Math.min(20, Math.max(4, area.value.split('\n').length + 1));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const patch = attributePatch(user.attributes, String(new FormData(form).get('attributes') ?? ''));
    if (Object.keys(patch).length === 0) return again(t('user.attributes.unchanged'));
    api.patch<User>(path, { attributes: patch }).then(
      () => again(t('user.attributes.saved')),
      (error: unknown) => showError(form, status, error, error instanceof ApiError ? attributeDetails(error.details, problemMessage, (entry, message) => t('field.entry', { entry, message })) : []),
    );
  });
  return h('section', { class: 'card' }, form);
}
