import { shortened } from '../accounts/shortened.ts';

/** UTF-16 units of an application's name the signed-out page's button shows whole. */
const BUTTON_NAME_MAX = 40;

/** The signed-out page's way back to the application (views/pages/signed-out.ejs). */
export interface BackLink {
  /** The application's whole name: the lead and, when the button shows it cut, the button's tooltip. */
  readonly name: string;
  readonly href: string;
  /** What the button says instead of a longer name (it would make a huge button), cut by whole characters; absent when it fits. */
  readonly short?: string | undefined;
}

export function backLink(name: string, href: string): BackLink {
  // By grapheme clusters (shortened): a flag or a family emoji at the cut goes whole, never half.
  return name.length > BUTTON_NAME_MAX ? { name, href, short: `${shortened(name, BUTTON_NAME_MAX - 1).trimEnd()}…` } : { name, href };
}
