import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';

export interface PageModel {
  readonly title: string;
  readonly productName: string;
  readonly requestId?: string | undefined;
  readonly [key: string]: unknown;
}

export interface Views {
  render(page: string, model: PageModel): Promise<string>;
  readonly stylesheet: string;
}

/** EJS pages rendered inside views/layout.ejs; templates are compiled once and cached. */
export function createViews(directory: string): Views {
  const layoutPath = join(directory, 'layout.ejs');
  return {
    stylesheet: readFileSync(join(directory, 'assets', 'gatehouse.css'), 'utf8'),
    async render(page, model) {
      const body = await ejs.renderFile(join(directory, 'pages', `${page}.ejs`), model, { cache: true, async: false });
      return ejs.renderFile(layoutPath, { ...model, body }, { cache: true, async: false });
    },
  };
}
