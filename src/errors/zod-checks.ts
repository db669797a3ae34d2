import type { z } from 'zod';
import { says, type ProblemCode } from './problems.ts';

/**
 * A string that must match `pattern`, refused as the problem `code` (a refinement carries its
 * code; a `.regex()` issue could only be told apart by its wording). The pattern still goes into
 * the JSON schema, so the OpenAPI document shows it.
 */
export function matching(schema: z.ZodString, pattern: RegExp, code: ProblemCode, options: { readonly abort?: boolean } = {}): z.ZodString {
  return schema
    .refine((value) => {
      pattern.lastIndex = 0;
      return pattern.test(value);
    }, { ...says(code), ...options })
    .meta({ pattern: pattern.source });
}
