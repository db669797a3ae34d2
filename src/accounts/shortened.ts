const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to at most `max` UTF-16 code units (what `.length` and the stored limits count) by
 * whole characters as a reader sees them (grapheme clusters): an emoji, a letter outside the BMP
 * or a letter with its combining marks at the boundary goes whole, never half of a surrogate pair
 * (a lone surrogate, which no text should hold) or a family emoji cut into its members.
 */
export function shortened(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (end + segment.length > max) break;
    end += segment.length;
  }
  return text.slice(0, end);
}
