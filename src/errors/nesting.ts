/**
 * Whether a JSON value nests objects and arrays more than `max` levels deep (the value itself,
 * when an object or array, is level 1). A loop over a stack, not recursion, and it stops at the
 * first member past `max`: the value is a file's, and a few thousand levels are what overflow the
 * recursive writers after it (JSON.stringify, the BSON serializer).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  return memberDeeperThan(value, max) !== undefined;
}

/** Where a value sits: its key and its parent's place (only the keys of the path followed are kept). */
interface Place {
  readonly key: string;
  readonly parent: Place | undefined;
}

/**
 * The path (its keys, from the value down: `['roles', 'realm', '0', 'composites']`) of the first
 * object or array in `value` past `max` levels deep, or undefined when it nests no deeper than
 * that; as nestedDeeperThan, without recursion.
 */
export function memberDeeperThan(value: unknown, max: number): string[] | undefined {
  const pending: Array<{ readonly value: unknown; readonly depth: number; readonly place: Place | undefined }> = [{ value, depth: 1, place: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > max) {
      const keys: string[] = [];
      for (let at = next.place; at !== undefined; at = at.parent) keys.push(at.key);
      return keys.reverse();
    }
    for (const [key, member] of Object.entries(next.value)) pending.push({ value: member, depth: next.depth + 1, place: { key, parent: next.place } });
  }
  return undefined;
}
