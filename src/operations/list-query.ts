import { z } from 'zod';

/** Paging and a text filter for list endpoints (clients, APIs); the total goes in X-Total-Count. */
export const listQuerySchema = z
  .object({
    q: z.string().max(256).optional().describe('case-insensitive substring of the id or name'),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    offset: z.coerce.number().int().min(0).default(0),
  });

export interface ListPage<T> {
  readonly items: T[];
  readonly total: number;
}

/** Filters by `q` over the given texts of each item, then cuts the page (lists here are operator-sized). */
export function pageOf<T>(items: readonly T[], query: unknown, texts: (item: T) => readonly string[]): ListPage<T> {
  const { q, limit, offset } = listQuerySchema.parse(query);
  const needle = q?.trim().toLowerCase();
  const matching = needle === undefined || needle === '' ? [...items] : items.filter((item) => texts(item).some((text) => text.toLowerCase().includes(needle)));
  return { items: matching.slice(offset, limit === undefined ? undefined : offset + limit), total: matching.length };
}
