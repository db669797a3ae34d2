/**
 * Whether a JSON value nests objects and arrays more than `max` levels deep (the value itself,
 * when an object or array, is level 1). A loop over a stack, not recursion, and it stops at the
 * first member past `max`: the value is a file's, and a few thousand levels are what overflow the
 * recursive writers after it (JSON.stringify, the BSON serializer).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: Array<{ readonly value: unknown; readonly depth: number }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > max) return true;
    for (const member of Object.values(next.value)) pending.push({ value: member, depth: next.depth + 1 });
  }
  return false;
}
