import { isolate, type Locale } from '../../browser-app/web/i18n.ts';

/**
 * Items as one phrase of `locale` ("a, b, and c"; "a、b和c"; "a и b"), each isolated (a name with
 * right-to-left text or a direction control cannot turn the list around it): Intl.ListFormat,
 * where joining with ", " reads as English in every language.
 */
export function listIn(locale: Locale, items: readonly string[]): string {
  return new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(items.map(isolate));
}
