/** JSON for a `<script type="application/json">` block: `<` escaped, so the data can never close the tag. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
