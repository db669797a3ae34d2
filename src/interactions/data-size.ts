/**
 * A number of bytes as a person reads it in their language: "16 kB", "16 кБ", "16kB" (CLDR's short
 * units through Intl, so each locale spaces and spells them its own way). Whole kilobytes or
 * megabytes of 1024 when it is one, else bytes.
 */
export function dataSize(bytes: number, locale: string): string {
  const [value, unit] = bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? [bytes / (1024 * 1024), 'megabyte'] : bytes >= 1024 && bytes % 1024 === 0 ? [bytes / 1024, 'kilobyte'] : [bytes, 'byte'];
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
}
