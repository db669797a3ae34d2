/** sRGB relative luminance (WCAG 2.x) of a #rgb / #rrggbb colour. */
function luminance(hex: string): number {
  const digits = hex.length === 4 ? [...hex.slice(1)].map((d) => d + d).join('') : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(digits.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrast = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

/**
 * The operator's primary colour as CSS custom properties, served as /assets/theme.css (a
 * stylesheet, not an inline style, so the CSP needs no 'unsafe-inline'). Button text is white
 * or near-black, whichever contrasts more with the chosen colour; links and focus rings use the
 * colour only when it reads on white (WCAG AA, 4.5:1), else the body text colour. In dark mode
 * (prefers-color-scheme) links use the colour lightened until it reads on the dark card.
 */
export function themeStylesheet(primary: string): string {
  const l = luminance(primary);
  const onPrimary = contrast(l, 1) >= contrast(l, luminance('#111111')) ? '#ffffff' : '#111111';
  const onWhite = contrast(l, 1) >= 4.5 ? primary : '#1b1f24';
  const onDark = lightenUntilReadable(primary, luminance(DARK_CARD));
  return `:root { --primary: ${primary}; --on-primary: ${onPrimary}; --accent: ${onWhite}; }\n@media (prefers-color-scheme: dark) { :root { --accent: ${onDark}; } }\n`;
}

/** The card colour of the dark scheme (views/assets/gatehouse.css). */
const DARK_CARD = '#1a1f26';

function lightenUntilReadable(hex: string, background: number): string {
  const digits = hex.length === 4 ? [...hex.slice(1)].map((d) => d + d).join('') : hex.slice(1);
  const rgb = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16));
  for (let step = 0; step <= 20; step += 1) {
    const mixed = `#${rgb.map((c) => Math.round(c + ((255 - c) * step) / 20).toString(16).padStart(2, '0')).join('')}`;
    if (contrast(luminance(mixed), background) >= 4.5) return mixed;
  }
  return '#ffffff';
}
