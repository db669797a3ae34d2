/**
 * Messages whose words depend on a number (README, "Messages with a number in them"), shared by
 * the hosted pages (src/interactions/i18n.ts), the console and the account page. Beside the plain
 * key a catalog may hold variants in square brackets:
 *
 *   "password_policy.digits": "не менее {n} цифр",          (any number no variant covers)
 *   "password_policy.digits[one]": "не менее {n} цифры",    (CLDR "one": 1, 21, 31, …)
 *   "password_policy.digits[few]": "не менее {n} цифр",     (2–4, 22–24, …)
 *   "password_policy.digits[many]": "не менее {n} цифр",    (5–20, 25–30, …)
 *   "password_policy.digits[=1]": "хотя бы одна цифра",     (exactly 1)
 *
 * For a count, `key[=N]` wins, then `key[<its plural category>]` in the reader's language
 * (Intl.PluralRules: en one/other; ru one/few/many/other; zh-CN and ko only other), then `key`.
 * The plain key stands for "other"; there is no `[other]` variant. Brackets keep variants apart
 * from ordinary keys that end in a word such as `.other` (`scope.other`).
 */

const rules = new Map<string, Intl.PluralRules>();

function pluralRules(locale: string): Intl.PluralRules {
  let found = rules.get(locale);
  if (found === undefined) {
    found = new Intl.PluralRules(locale);
    rules.set(locale, found);
  }
  return found;
}

/** The plural categories of a language other than "other" (ru: one, few, many; en: one; zh-CN, ko: none). */
export function pluralForms(locale: string): string[] {
  return pluralRules(locale)
    .resolvedOptions()
    .pluralCategories.filter((category) => category !== 'other');
}

/** `key[variant]` split into its plain key and variant (`=1`, `one`, `few`, …); undefined for a plain key. */
export function variantOf(key: string): { base: string; variant: string } | undefined {
  const match = /^(.+)\[([^\]]+)\]$/.exec(key);
  return match === null ? undefined : { base: match[1]!, variant: match[2]! };
}

/** The key of the message to show for `count` in `locale`: `key[=count]`, `key[<category>]`, else `key`. */
export function countedKey(key: string, count: number | undefined, locale: string, has: (key: string) => boolean): string {
  if (count === undefined || !Number.isFinite(count)) return key;
  const exact = `${key}[=${count}]`;
  if (has(exact)) return exact;
  const category = pluralRules(locale).select(count);
  const variant = `${key}[${category}]`;
  return category !== 'other' && has(variant) ? variant : key;
}
