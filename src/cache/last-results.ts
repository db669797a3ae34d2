/**
 * A pure function of a string, remembered for the last `entries` arguments it was asked about
 * (the oldest forgotten first): for the per-request work whose answer depends only on a header
 * value that repeats from request to request (the client named in an Authorization header, the
 * rate-limit key of an address). Arguments longer than `maxLength` characters are computed every
 * time and never held, so what a client sends cannot make the memory grow past
 * `entries × maxLength` characters of keys.
 */
export function lastResults<T>(compute: (argument: string) => T, { entries, maxLength }: { readonly entries: number; readonly maxLength: number }): (argument: string) => T {
  const held = new Map<string, T>();
  return (argument) => {
    if (argument.length > maxLength) return compute(argument);
    if (held.has(argument)) return held.get(argument) as T;
    const result = compute(argument);
    if (held.size >= entries) held.delete(held.keys().next().value as string);
    held.set(argument, result);
    return result;
  };
}
